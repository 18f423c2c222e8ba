# Two commands do all the set-up on a fresh machine: `make report` and `make test`.
# Both create .venv, install the locked dependencies (requirements.lock: exact versions with
# hashes, generated from pyproject.toml by `make lock`) with uv when it can be installed from
# PyPI (pip otherwise), install the package itself, and register the project's Jupyter kernel.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
LOCK   := requirements.lock
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bootstrap-stamp
DEV_STAMP := $(VENV)/.dev-stamp

# Python keeps compiled bytecode of the package and of the tests (pytest's rewritten asserts)
# in __pycache__/ (ignored by git), even where the environment says not to write it: each
# process would otherwise compile them again (pytest's collection 7.6 s -> 4.7 s, and every
# report kernel and CLI run 0.15 s less). uv already compiled the installed libraries.
unexport PYTHONDONTWRITEBYTECODE

LEDGER ?= observations.csv
EXAMPLE_MONTHS := 2017-09 2017-10 2017-11 2017-12 2018-01 2018-02

.PHONY: help bootstrap system-deps test-deps report test lint test-fast test-slow notebooks lab bench clean lock \
	sync-notebooks monthly monthly-example all-scenarios backtest

help:
	@echo "make report      render the default report into reports/brief/report.html"
	@echo "make test        run the whole test suite (fast lane, then slow lane)"
	@echo "make lint        ruff check and ruff format --check (the first step of make test)"
	@echo "make test-fast   unit tests, no real MCMC beyond tiny budgets"
	@echo "make test-slow   full fits with convergence checks"
	@echo "make lab         start JupyterLab on notebooks/ with the project's kernel"
	@echo "make bench       benchmarks, printed as ratios against an in-run baseline"
	@echo "make lock        regenerate requirements.lock from pyproject.toml"
	@echo "make monthly     monthly monitoring report for the latest month in \$$LEDGER (cron-friendly)"
	@echo "make monthly-example  the worked Sep 2017 - Feb 2018 example: six monthly reports"
	@echo "make all-scenarios    the brief for every scenario, plus reports/scenarios.html"
	@echo "make backtest    score the models at 32 quarterly origins (2 Dask workers) + its report"

# Graphviz's `dot` draws decision trees; on Debian it is installed here when missing.
system-deps:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else echo "warning: graphviz 'dot' not found; install it (apt-get install graphviz) to draw trees" >&2; fi; }

# Headless Chromium opens the rendered brief in tests/hardening/test_browser.py (which fails,
# saying why, without it); on Debian it is installed here when missing. `make report` does not
# need it. DECISION_CHROMIUM may name another Chromium or Chrome binary instead.
test-deps:
	@[ -n "$$DECISION_CHROMIUM" ] || command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "warning: chromium not found; install it (apt-get install chromium) for the browser test" >&2; fi; }

# uv, like pip, compiles the packages' bytecode while it installs (uv skips it by default, which
# only moves the cost to the first report: 63 s instead of 51 s with empty compile caches).
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if $(BIN)/python -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1; then \
	  echo "installing $(LOCK) with uv"; \
	  $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes -r $(LOCK) && \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e . ; \
	else \
	  echo "installing $(LOCK) with pip (uv is not available)"; \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK) && \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e . ; \
	fi
	$(BIN)/python -m ipykernel install --sys-prefix --name decision --display-name "Python (decision)" >/dev/null
	touch $@

# Regenerate the lock file after changing dependencies in pyproject.toml (Linux x86_64, 3.11).
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --quiet \
	  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu -o $(LOCK)

bootstrap: system-deps $(STAMP)

report: bootstrap
	$(BIN)/decision report

# For cron: renders reports/monitoring/<latest month>/ and records the run in
# reports/monitoring/history.sqlite. Exits non-zero (and records the failure) if it fails.
monthly: bootstrap
	$(BIN)/decision report monitoring --through latest --ledger $(LEDGER)

monthly-example: bootstrap
	@for m in $(EXAMPLE_MONTHS); do \
	  $(BIN)/decision report monitoring --through $$m \
	    --ledger examples/monitoring-2017/observations.csv --out reports/example-monitoring || exit 1; \
	done

all-scenarios: bootstrap
	$(BIN)/decision report --all-scenarios

test: lint test-fast test-slow

# The first step of `make test` (so CI runs it): ruff's rules and formatting (pyproject.toml).
lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Both lanes run on every core (pytest-xdist; TEST_JOBS=0 runs in one process). Each worker
# builds a module-scoped fixture (a shared fit) once, when it first runs a test that needs it.
# The slow lane's tests take up to 100 s each: an idle worker steals queued ones, so that
# neither waits alone at the end (measured: 6 min 28 s and 7 min 38 s, against 7 min 4 s and
# 7 min 7 s without; within run-to-run noise so far).
TEST_JOBS ?= auto
test-fast: bootstrap test-deps
	$(BIN)/python -m pytest -m "not slow" -n $(TEST_JOBS)

test-slow: bootstrap
	$(BIN)/python -m pytest -m slow -n $(TEST_JOBS) --dist worksteal

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# Jupyter refuses to run as root unless told (containers often run as root).
lab: bootstrap $(DEV_STAMP)
	$(BIN)/jupyter lab notebooks/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# Regenerate the .ipynb half of each jupytext pair from the .py file (outputs stay empty).
sync-notebooks: bootstrap
	$(BIN)/jupytext --sync notebooks/*.py

bench: bootstrap
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# The backtest of docs/backtest.md: 32 quarterly origins 2013-01..2020-10 (windows of 6 and 12
# months, all inside the evidence), the replay Sep 2017 - Jun 2018, on 2 Dask workers; resumable.
BACKTEST_OUT ?= backtests
backtest: bootstrap
	$(BIN)/decision backtest --start 2013-01 --end 2020-10 --every 3M --horizon 6,12 \
	  --workers 2 --out $(BACKTEST_OUT)
	$(BIN)/decision report backtest --folder $(BACKTEST_OUT)/backtest
