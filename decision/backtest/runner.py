"""Running a backtest on Dask: one task per origin (and per replayed month), resumable.

Reuses the sweep's machinery (:mod:`decision.sweep.store` and :mod:`decision.sweep.runner`):
the local or remote Dask cluster, atomic Parquet part files (one per origin, named by a hash
of its id) and :func:`~decision.sweep.store.finished_ids`, so an interrupted backtest re-run
computes only the origins (and months) still missing. Fits go through the posterior cache,
so a re-run with another horizon or scoring change re-reads every fit instead of sampling.

::

    <out>/<name>/
      backtest.json   the settings (horizons, sampler, seed, replay, code hashes): a folder
                      holds one set
      results/        the score table, one row per origin x quantity x item x horizon x forecaster
      replay/         the counterfactual replay, one row per month x strategy
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from decision.backtest.forecasts import (
    FORECASTERS,
    History,
    ModelDraws,
    baseline_forecasts,
    fit_models_at,
    model_forecast,
)
from decision.backtest.replay import replay_month
from decision.backtest.scores import score_all
from decision.backtest.truth import EVENT_QUANTITIES, outcomes
from decision.core.atomic import atomic_write_text
from decision.core.config import DEFAULT_SEED
from decision.core.errors import DecisionError, InputError
from decision.core.progress import Progress, activate

__all__ = [
    "BACKTEST_SAMPLER_OVERRIDES",
    "BacktestSummary",
    "backtest_origin",
    "read_table",
    "results_schema",
    "replay_schema",
    "run_backtest",
]

#: Fits run inside Dask worker processes, which cannot start sampler processes; a backtest
#: scores forecasts made from the posterior alone, so no predictive checks are drawn (about
#: 5 CPU-seconds an origin).
BACKTEST_SAMPLER_OVERRIDES = {
    "cores": 1,
    "prior_predictive_draws": 0,
    "posterior_predictive_draws": 0,
}


def results_schema():
    """Return the Arrow schema of the score table."""
    import pyarrow as pa

    text, number, flag = pa.string(), pa.float64(), pa.bool_()
    return pa.schema(
        [
            ("scenario_id", text),
            ("origin", text),
            ("as_of", text),
            ("horizon", pa.int64()),
            ("quantity", text),
            ("item", text),
            ("forecaster", text),
            ("observed", pa.int64()),
            *((name, number) for name in ("mean", "q05", "q25", "q50", "q75", "q95")),
            *((name, number) for name in ("log_score", "crps", "brier")),
            ("covered_50", flag),
            ("covered_90", flag),
            ("pit", number),
            ("fit_as_of", text),
            ("evidence_latest", text),
            ("diagnostics_ok", flag),
            ("flags", text),
            ("fit_from_cache", flag),
            ("error", text),
            ("seconds", number),
            ("worker", text),
        ]
    )


def replay_schema():
    """Return the Arrow schema of the replay table."""
    import pyarrow as pa

    text, number = pa.string(), pa.float64()
    return pa.schema(
        [
            ("scenario_id", text),
            ("month", text),
            ("as_of", text),
            ("strategy", text),
            ("expected_value", number),
            ("p_optimal", number),
            ("recommendation", text),
            ("plan", text),
            ("plan_share", text),
            ("diagnostics_ok", pa.bool_()),
            ("flags", text),
            ("error", text),
            ("seconds", number),
        ]
    )


def _evidence_latest(as_of) -> str:
    """Return the latest ``published`` date of every evidence row public on ``as_of``."""
    from decision import evidence

    latest = max(
        (
            frame["published"].max()
            for frame in (evidence.load(name, as_of=as_of) for name in evidence.NAMES)
            if len(frame)
        ),
    )
    return latest.date().isoformat()


def backtest_origin(
    origin: str,
    horizons: tuple[int, ...],
    *,
    sampler: Mapping[str, Any] | None = None,
    seed: int = DEFAULT_SEED,
    use_cache: bool = True,
) -> list[dict[str, Any]]:
    """Fit the models as of ``origin``, forecast every outcome, and score every forecaster.

    A fit that fails on purpose (a :class:`~decision.core.errors.DecisionError`) is recorded
    in the ``error`` column of the model's rows; the baselines are still scored.
    """
    import socket

    start = time.perf_counter()
    history = History.at(origin)
    observed = [o for h in horizons for o in outcomes(origin, h)]
    draws, error, fit_as_of = None, None, None
    try:
        models, fits = fit_models_at(origin, sampler=sampler, use_cache=use_cache)
        draws = ModelDraws.from_fits(models, fits, seed=seed)
        fit_as_of = min(f.inputs["as_of"] for f in fits.values())
    except DecisionError as exc:
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    rng = np.random.default_rng([seed, int(origin.replace("-", ""))])
    latest = _evidence_latest(history.as_of)
    rows = []
    for outcome in observed:
        forecasts = baseline_forecasts(history, outcome)
        if draws is not None:
            model = model_forecast(draws, history, outcome, rng)
            if model is not None:
                forecasts["model"] = model
        u = float(rng.uniform())  # one draw per outcome: every forecaster's PIT is paired
        for name in FORECASTERS:
            if name not in forecasts:
                continue
            is_model = name == "model"
            rows.append(
                {
                    "scenario_id": origin,
                    "origin": origin,
                    "as_of": history.as_of.isoformat(),
                    "horizon": outcome.horizon,
                    "quantity": outcome.quantity,
                    "item": outcome.item,
                    "forecaster": name,
                    "observed": outcome.observed,
                    **score_all(
                        forecasts[name],
                        outcome.observed,
                        u,
                        event=outcome.quantity in EVENT_QUANTITIES,
                    ),
                    "fit_as_of": fit_as_of if is_model else None,
                    "evidence_latest": latest,
                    "diagnostics_ok": draws.diagnostics_ok if is_model else None,
                    "flags": "; ".join(draws.flags) if is_model and draws.flags else None,
                    "fit_from_cache": draws.from_cache if is_model else None,
                    "error": None,
                    "seconds": None,
                    "worker": socket.gethostname(),
                }
            )
    if error is not None:
        rows.append(
            {
                "scenario_id": origin,
                "origin": origin,
                "as_of": history.as_of.isoformat(),
                "horizon": max(horizons),
                "quantity": "fit",
                "item": "",
                "forecaster": "model",
                "observed": None,
                "evidence_latest": latest,
                "error": error,
            }
        )
    seconds = time.perf_counter() - start
    for row in rows:
        row["seconds"] = seconds
    return rows


def _replay_task(month: str, ledger, sampler, seed, use_cache) -> list[dict[str, Any]]:
    try:
        return replay_month(month, ledger=ledger, sampler=sampler, seed=seed, use_cache=use_cache)
    except DecisionError as exc:
        return [{"scenario_id": month, "month": month, "error": str(exc).splitlines()[0]}]


# ------------------------------------------------------------------------ the folder


def _code_hashes() -> dict[str, str]:
    """Hash the code behind a score: each model's source and the forecasts module.

    Recorded in ``backtest.json``, so a folder scored by an earlier model is refused, not
    resumed with a mixture of old and new rows.
    """
    import hashlib
    import inspect

    from decision.backtest import forecasts
    from decision.models import MODELS

    out = {key: cls.source_hash() for key, cls in MODELS.items()}
    source = Path(inspect.getfile(forecasts)).read_bytes()
    out["forecasts"] = hashlib.sha256(source).hexdigest()[:16]
    return out


def _settings_manifest(folder: Path, settings: Mapping[str, Any]) -> None:
    """Write ``backtest.json`` once; refuse a folder holding other settings."""
    from filelock import FileLock

    manifest = folder / "backtest.json"
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dict(settings), indent=2, sort_keys=True, default=str) + "\n"
    with FileLock(str(folder / ".backtest.json.lock")):
        if manifest.exists():
            try:
                existing = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(
                    f"cannot read the backtest settings ({exc}); remove the folder or use "
                    "another --out",
                    file=manifest,
                ) from None
            if existing != json.loads(text):
                changed = sorted(
                    k
                    for k in set(existing) | set(settings)
                    if existing.get(k) != json.loads(text).get(k)
                )
                raise InputError(
                    f"this folder holds a backtest with other settings ({', '.join(changed)}); "
                    "use another --out or --name, or remove the folder",
                    file=manifest,
                )
            return
        atomic_write_text(manifest, text)


def read_table(folder: str | os.PathLike, table: str = "results"):
    """Read a backtest's score table (``results``) or replay (``replay``) as a DataFrame.

    ``folder`` is the backtest folder (``<out>/<name>``). Parts are one per origin (month), so
    rows are not deduplicated by id; a part written twice by two runs at once has the same
    name and replaces the other.
    """
    import pyarrow.dataset as ds

    path = Path(folder) / table
    parts = sorted(
        str(p)
        for p in (path.iterdir() if path.is_dir() else ())
        if p.suffix == ".parquet" and not p.name.startswith((".", "_"))
    )
    schema = results_schema() if table == "results" else replay_schema()
    if not parts:
        return schema.empty_table().to_pandas()
    return ds.dataset(parts, format="parquet", schema=schema).to_table().to_pandas()


# ------------------------------------------------------------------------ a run


@dataclasses.dataclass
class BacktestSummary:
    """What a run did. ``ok`` when every origin and month is finished without error."""

    folder: str
    origins: int
    skipped: list[str] = dataclasses.field(default_factory=list)
    done_before: int = 0
    computed: int = 0
    errors: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)
    replay_months: int = 0
    workers: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Tell whether everything is finished without error."""
        return not self.failures and self.errors == 0

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as plain data (``--json``)."""
        return {**dataclasses.asdict(self), "ok": self.ok}


def run_backtest(
    origin_months: list[str],
    horizons: tuple[int, ...],
    out: str | os.PathLike = "backtests",
    *,
    name: str = "backtest",
    sampler: Mapping[str, Any] | None = None,
    seed: int = DEFAULT_SEED,
    replay: list[str] | None = None,
    ledger: str | os.PathLike | None = None,
    client=None,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
    use_cache: bool = True,
    retries: int = 1,
    progress: Progress | bool | None = None,
) -> BacktestSummary:
    """Score the models and the baselines at every origin not finished yet, on Dask.

    Parameters
    ----------
    origin_months
        Origins (``YYYY-MM``, from :func:`decision.backtest.origins.origins`); an origin
        none of whose windows the evidence covers is skipped (listed in the summary).
    horizons
        Months scored ahead of each origin.
    out, name
        The backtest folder is ``<out>/<name>/`` (see the module docstring).
    sampler
        Sampler overrides (``cores`` is 1: each fit runs in one worker process).
    seed
        Seeds the sampler, the draw subsample and the randomised PIT.
    replay
        Months of the counterfactual replay (``YYYY-MM``); None or empty for none.
    ledger
        The replay's ledger (default: the worked example of ``examples/monitoring-2017``).
    client, scheduler, workers, processes
        An existing ``distributed.Client``; else the address of a scheduler; else a local
        cluster of ``workers`` single-threaded processes (threads with ``processes=False``).
    use_cache
        Serve unchanged fits from the posterior cache.
    retries
        Times a task whose worker died is resubmitted before it is left for the next run.
    progress
        A :class:`~decision.core.progress.Progress`, ``True`` (a new one), ``False`` (none) or
        None (the active one).
    """
    from decision import __version__
    from decision.models import DEFAULT_SAMPLER
    from decision.sweep.runner import dask_client_for, reporter_for
    from decision.sweep.store import clean_stale_temps, finished_ids, part_name, write_part

    start = time.perf_counter()
    if scheduler is not None and workers is not None:
        raise InputError(
            "--workers sizes the local cluster; with --scheduler the cluster's own workers "
            "are used",
            field="workers",
        )
    full_sampler = {**DEFAULT_SAMPLER, **(sampler or {}), **BACKTEST_SAMPLER_OVERRIDES}
    full_sampler["random_seed"] = (sampler or {}).get("random_seed", seed)
    folder = Path(out) / name
    _settings_manifest(
        folder,
        {
            "horizons": list(horizons),
            "sampler": full_sampler,
            "seed": seed,
            "ledger": None if ledger is None else str(Path(ledger).resolve()),
            "package_version": __version__,
            "code": _code_hashes(),
        },
    )
    results, replayed = folder / "results", folder / "replay"
    for path in (results, replayed):
        path.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(path)
    summary = BacktestSummary(str(folder), len(origin_months))
    covered = []
    for origin in origin_months:
        if any(outcomes(origin, h) for h in horizons):
            covered.append(origin)
        else:
            summary.skipped.append(origin)
    done = finished_ids(results)
    done_replay = finished_ids(replayed)
    # The replay's few months first: they are what a reader of the case looks at first.
    todo = [("replay", m) for m in (replay or []) if m not in done_replay]
    todo += [("origin", o) for o in covered if o not in done]
    summary.done_before = len(covered) - sum(1 for kind, _ in todo if kind == "origin")
    summary.replay_months = len(replay or [])
    shown, own = reporter_for(progress)
    schemas = {"origin": (results, results_schema()), "replay": (replayed, replay_schema())}
    if todo:
        with (
            shown if own else contextlib.nullcontext(shown),
            shown.labelled(f"backtest {name}"),
            activate(shown),
        ):
            shown.stage(
                "starting the Dask cluster"
                if scheduler is None and client is None
                else "connecting to the cluster"
            )
            with dask_client_for(client, scheduler, workers, processes) as dask_client:
                summary.workers = len(dask_client.scheduler_info().get("workers", {}))
                stage = shown.stage("origins and replayed months", total=len(todo), estimate=True)
                _run_tasks(
                    dask_client,
                    todo,
                    schemas,
                    horizons=horizons,
                    sampler=full_sampler,
                    seed=seed,
                    ledger=ledger,
                    use_cache=use_cache,
                    retries=retries,
                    stage=stage,
                    summary=summary,
                    write=lambda where, key, rows: write_part(
                        where[0], part_name([key]), rows, where[1]
                    ),
                )
                stage.done()
    final = finished_ids(results)
    summary.errors = sum(1 for o in covered if final.get(o) is not None)
    summary.seconds = time.perf_counter() - start
    return summary


def _run_tasks(
    client,
    todo,
    schemas,
    *,
    horizons,
    sampler,
    seed,
    ledger,
    use_cache,
    retries,
    stage,
    summary,
    write,
) -> None:
    """Submit one task per origin or month; write each part as its task finishes."""
    from distributed import as_completed

    def submit(kind: str, key: str, attempt: int):
        if kind == "origin":
            future = client.submit(
                backtest_origin,
                key,
                tuple(horizons),
                sampler=sampler,
                seed=seed,
                use_cache=use_cache,
                pure=False,
                key=f"backtest-{key}-{attempt}-{time.time_ns()}",
            )
        else:
            future = client.submit(
                _replay_task,
                key,
                ledger,
                sampler,
                seed,
                use_cache,
                pure=False,
                key=f"replay-{key}-{attempt}-{time.time_ns()}",
            )
        inflight[future] = (kind, key, attempt)
        queue.add(future)

    inflight: dict[Any, tuple[str, str, int]] = {}
    queue = as_completed()
    for kind, key in todo:
        submit(kind, key, 0)
    try:
        while inflight:
            future = next(queue)
            kind, key, attempt = inflight.pop(future)
            try:
                rows = future.result()
            except Exception as exc:  # a worker died, a bug: retry, then leave for the next run
                future.release()
                if attempt < retries:
                    submit(kind, key, attempt + 1)
                else:
                    summary.failures.append(f"{kind} {key}: {type(exc).__name__}: {exc}")
                continue
            future.release()
            write(schemas[kind], key, rows)
            summary.computed += kind == "origin"
            stage.advance(1)
    finally:
        if inflight:
            client.cancel(list(inflight))
