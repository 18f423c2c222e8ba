"""Records for the elicitation tests: the shipped one, the illustrative one, and small ones."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest

from decision.case import load_spec
from decision.elicitation.notebook import record_yaml
from decision.elicitation.records import Elicited, Judgment, Method, Record

ROOT = Path(__file__).parents[2]
#: The shipped record of the case's judgments.
SHIPPED = load_spec().folder / "elicitation" / "package-analysts-2017-08-20.yaml"
#: The illustrative second expert.
HAWK = ROOT / "examples" / "elicitation-hawkish" / "hawkish-analyst-2017-08-20.yaml"

_MINIMAL = {
    "expert": {"id": "test-expert", "name": "A synthetic test expert", "illustrative": True},
    "date": dt.date(2017, 8, 20),
    "case": "freeze_plus_pressure",
    "horizon": "the case's 18 months",
    "method": {"name": "three-point", "distribution": "triangular"},
    "judgments": {
        "s_readiness": {
            "question": "How many swing points is readiness worth?",
            "units": "swing points (0 to 100)",
            "answers": {"low": 30, "mode": 60, "high": 100},
            "rationale": "Synthetic answer for a test.",
        },
        "p_covert_rd": {
            "question": "Probability of covert R&D progress?",
            "units": "probability (0 to 1)",
            "method": {"name": "quantiles", "distribution": "beta"},
            "answers": {"p05": 0.04, "p50": 0.18, "p95": 0.43},
            "rationale": "Synthetic answer for a test.",
        },
    },
}


@pytest.fixture
def minimal_record():
    """Make a small valid record of two judgments (synthetic), top-level keys replaced."""

    def make(**changes) -> dict:
        data = copy.deepcopy(_MINIMAL)
        data.update(copy.deepcopy(changes))
        return data

    return make


@pytest.fixture
def shipped() -> Path:
    """Return the shipped record of the case's judgments."""
    return SHIPPED


@pytest.fixture
def hawk() -> Path:
    """Return the illustrative second expert's record."""
    return HAWK


@pytest.fixture
def write_record(tmp_path):
    """Write a record mapping to a YAML file in a fresh folder and return its path."""

    def write(data, name: str = "record.yaml", folder: Path | None = None) -> Path:
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = data if isinstance(data, str) else record_yaml(data)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def elicited():
    """Make one synthetic expert's answers to one question, read by ``method``."""

    def make(method: Method, answers: dict) -> Elicited:
        judgment = Judgment(
            question="A synthetic question?", units="u", answers=answers, rationale="synthetic"
        )
        record = Record(
            expert={"id": "synthetic", "name": "synthetic"},
            date=dt.date(2017, 8, 20),
            case="freeze_plus_pressure",
            horizon="h",
            method=method,
            judgments={"x": judgment},
        )
        return Elicited("x", judgment, method, record, "synthetic.yaml")

    return make
