"""Fixtures shared by the hardening tests: tiny-budget renders reused across modules.

Renders use a tiny sampler budget (draws=40, tune=40, chains=2, cores=1) and their own
posterior cache; they check plumbing, safety and reproducibility, never inference. Constants
and helpers live in ``support.py``, registered here as the module ``hardening_support``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "hardening_support", Path(__file__).with_name("support.py")
)
support = importlib.util.module_from_spec(_spec)
sys.modules["hardening_support"] = support
_spec.loader.exec_module(support)

from decision.report import render_report  # noqa: E402


@pytest.fixture
def cli_env(isolated_cache):
    """Environment for ``decision`` subprocesses: the test's own posterior cache."""
    return {**os.environ, "DECISION_CACHE_DIR": str(isolated_cache), "MPLBACKEND": "Agg"}


@pytest.fixture(scope="session")
def brief_render(tmp_path_factory):
    """Render the default brief once (no posterior cache), shared by the session."""
    root = tmp_path_factory.mktemp("brief")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DECISION_CACHE_DIR", str(root / "cache"))
        return render_report(
            {**support.TINY, "use_cache": False}, out_dir=root / "reports", name="brief"
        )


@pytest.fixture(scope="session")
def hostile_render(tmp_path_factory):
    """Render the brief from a hostile scenario file and a hostile observations file name."""
    root = tmp_path_factory.mktemp("hostile")
    inputs = root / "inputs"
    inputs.mkdir()
    scenario = support.write_hostile_scenario(inputs)
    observations = support.write_hostile_ledger(inputs / f"{support.HOSTILE_FILE_STEM}.csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DECISION_CACHE_DIR", str(root / "cache"))
        target = render_report(
            {
                **support.TINY,
                "scenario": str(scenario),
                "observations_file": str(observations),
                "as_of": "2017-10-01",
            },
            out_dir=root / "reports",
            name="hostile",
        )
    return target, scenario, observations
