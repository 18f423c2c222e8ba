"""Fitted answers stored on disk: reused while nothing they depend on changes."""

from __future__ import annotations

import json

import pytest

from decision.core.backend import COMPILE_CACHE_VARIABLE
from decision.core.errors import InputError
from decision.elicitation import fit_answers, fitting, stored
from decision.elicitation.records import Method

QUANTILES = Method(name="quantiles", distribution="beta")
ANSWERS = {"p05": 0.04, "p50": 0.18, "p95": 0.43}


@pytest.fixture
def store(tmp_path, monkeypatch):
    """Point the store at an empty folder; return it and a list of the fits really run."""
    monkeypatch.setenv(COMPILE_CACHE_VARIABLE, str(tmp_path / "compile"))
    calls = []
    real = fitting._fitted_spec

    def counted(method, answers):
        calls.append(dict(answers))
        return real(method, answers)

    monkeypatch.setattr(fitting, "_fitted_spec", counted)
    return tmp_path / "compile" / "elicitation", calls


def test_a_fit_is_stored_and_reused_with_the_same_result(store, elicited):
    folder, calls = store
    first = fit_answers(elicited(QUANTILES, ANSWERS))
    again = fit_answers(elicited(QUANTILES, dict(ANSWERS)))
    assert len(calls) == 1 and len(list(folder.glob("*.json"))) == 1
    assert again.spec == first.spec and again.error == first.error
    fit_answers(elicited(QUANTILES, {**ANSWERS, "p95": 0.5}))  # another answer: fitted
    fit_answers(elicited(Method(name="quantiles", distribution="lognormal"), ANSWERS))
    assert len(calls) == 3 and len(list(folder.glob("*.json"))) == 3


def test_new_fitting_code_or_libraries_fit_again(store, monkeypatch, elicited):
    _, calls = store
    fit_answers(elicited(QUANTILES, ANSWERS))
    changed = {**stored._fingerprint(), "code": "an edited fitting module"}
    monkeypatch.setattr(stored, "_fingerprint", lambda: changed)
    fit_answers(elicited(QUANTILES, ANSWERS))
    assert len(calls) == 2


@pytest.mark.parametrize("content", ["{not json", '{"spec": 3}', '{"spec": {"distribution": "x"}}'])
def test_an_unreadable_stored_fit_is_fitted_again_and_rewritten(store, content, elicited):
    folder, calls = store
    first = fit_answers(elicited(QUANTILES, ANSWERS))
    (path,) = folder.glob("*.json")
    path.write_text(content)
    again = fit_answers(elicited(QUANTILES, ANSWERS))
    assert len(calls) == 2 and again.spec == first.spec
    assert json.loads(path.read_text())["spec"] == first.spec


def test_a_store_that_cannot_be_written_still_fits(store, tmp_path, monkeypatch, elicited):
    _, calls = store
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(COMPILE_CACHE_VARIABLE, str(blocker))
    assert fit_answers(elicited(QUANTILES, ANSWERS)).spec["distribution"] == "beta"
    assert len(calls) == 1


def test_answers_that_make_no_distribution_are_refused_every_time(store, elicited):
    for _ in range(2):  # fitted, then read from the store: refused both times
        with pytest.raises(InputError, match="low must be < high"):
            fit_answers(
                elicited(
                    Method(name="three-point", distribution="triangular"),
                    {"low": 5, "mode": 10, "high": 1},
                )
            )
