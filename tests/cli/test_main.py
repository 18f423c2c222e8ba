"""The ``decision`` program itself: start-up imports only what parsing needs; exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from decision.cli import main

#: Modules no command needs for parsing its arguments (each command imports what it runs).
HEAVY = ("pymc", "pytensor", "arviz", "papermill", "nbconvert", "dask", "pandas", "matplotlib")

STARTUP = """
import json, sys
from decision.cli import main
codes = [main(["--help"]), main(["report", "--help"]), main(["tree", "evaluate", "--help"])]
print(json.dumps({"codes": codes, "loaded": sorted(m for m in sys.modules if m.split(".")[0] in
                  json.loads(sys.argv[1]))}))
"""


def test_help_imports_no_models_papermill_or_dask():
    done = subprocess.run(
        [sys.executable, "-c", STARTUP, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["codes"] == [0, 0, 0]
    assert result["loaded"] == []


#: What a decision read from cached posteriors does without: the sampler, ArviZ and the netCDF
#: readers, the plotting library and SciPy's distributions.
CACHED_HEAVY = (
    "pymc",
    "pytensor",
    "arviz",
    "jax",
    "numpyro",
    "h5netcdf",
    "netCDF4",
    "matplotlib",
    "numba",
    "scipy.stats",
    "papermill",
)

CACHED_ANALYZE = """
import json, sys
from decision.cli import main
code = main(json.loads(sys.argv[1]))
loaded = [m for m in json.loads(sys.argv[2]) if m in sys.modules]
print(json.dumps({"code": code, "loaded": loaded}))
"""


def test_analyze_from_cached_posteriors_imports_no_sampler_or_arviz(fake_sampling, capsys):
    args = ["analyze", "--json", "--quiet", "--draws", "40", "--tune", "10", "--chains", "2"]
    assert main(args) == 0  # fills this test's own posterior cache (fake draws)
    sampled = capsys.readouterr().out
    done = subprocess.run(
        [sys.executable, "-c", CACHED_ANALYZE, json.dumps(args), json.dumps(CACHED_HEAVY)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    *printed, last = done.stdout.strip().splitlines()
    result = json.loads(last)
    assert result["code"] == 0
    assert result["loaded"] == []
    assert "\n".join(printed) == sampled.strip()  # the same analysis, from the cache


def test_bad_input_is_one_line_and_status_2(tmp_path, capsys):
    assert main(["observe", "validate", "--ledger", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "missing.csv" in err


def test_usage_errors_are_status_2(capsys):
    assert main(["report", "--no-such-option"]) == 2
    assert "--no-such-option" in capsys.readouterr().err
    assert main([]) == 2  # no command: the usage, as a usage error
    assert "Usage: " in capsys.readouterr().out
