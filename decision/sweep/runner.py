"""Running a sweep on Dask: batches in flight, claims for concurrent runs, retries, progress.

:func:`run_sweep` evaluates the scenarios not finished yet on a Dask cluster (a local one by
default):

* scenarios whose models are those of the base (tree-only) share one posterior, fitted (or
  read from the cache) once on the client and scattered to the workers; they are evaluated in
  batches, many per task;
* scenarios that change priors, ``as_of`` or observations refit the models on a worker, once
  per distinct set of model inputs, through :func:`decision.models.fit_models` and its cache.

The client keeps a bounded number of batches in flight (three per worker) and writes each
finished batch as one part file (:mod:`decision.sweep.store`). Each batch is claimed with a
lock file while in flight, so two runs of the same sweep on one folder skip each other's
batches and, at the end, wait for them (or compute them, if the other run died: a lock dies
with its process). A batch whose task failed (a worker died, data was lost) is resubmitted
``retries`` times, then left for the next run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from decision.core.errors import DecisionError, InputError
from decision.core.progress import Progress, activate, current
from decision.sweep.evaluate import (
    Batch,
    Posterior,
    evaluate_batch,
    fit_posterior,
    one_line,
    warm_up,
)
from decision.sweep.reports import (
    check_reportable,
    missing_reports,
    render_reports,
    rendered_reports,
)
from decision.sweep.spec import Sweep, load_sweep
from decision.sweep.store import (
    clean_stale_temps,
    finished_ids,
    input_columns,
    part_name,
    results_schema,
    sweep_folder,
    write_manifest,
    write_part,
)

__all__ = ["SweepSummary", "dask_client_for", "local_cluster", "reporter_for", "run_sweep"]

log = logging.getLogger(__name__)


@dataclasses.dataclass
class SweepSummary:
    """What a run did. ``ok`` when every scenario is finished without error."""

    name: str
    folder: str
    total: int
    done_before: int
    computed: int = 0
    by_other: int = 0
    missing: int = 0
    errors: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)
    reports: int = 0
    report_failures: list[str] = dataclasses.field(default_factory=list)
    workers: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Tell whether every scenario (and report) is finished without error."""
        return self.missing == 0 and self.errors == 0 and not self.report_failures

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as plain data (for ``--json``), with ``ok`` and ``results``."""
        return {
            **dataclasses.asdict(self),
            "ok": self.ok,
            "results": str(Path(self.folder) / "results"),
        }


# ------------------------------------------------------------------------ the cluster


def local_cluster(n_workers: int, *, processes: bool = True):
    """Start a ``distributed.LocalCluster`` of single-threaded workers, without a dashboard.

    The scheduler's HTTP server (health checks) listens on a random port, so that clusters
    started side by side do not compete for 8787.
    """
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
        silence_logs=logging.ERROR,
    )


@contextlib.contextmanager
def dask_client_for(
    client, scheduler: str | None, workers: int | None, processes: bool
) -> Iterator[Any]:
    """Yield ``client``, a client of ``scheduler``, or one of a new local cluster."""
    if client is not None:
        yield client
        return
    from distributed import Client

    if scheduler is not None:
        try:
            own = Client(scheduler)
        except (OSError, TimeoutError) as exc:
            raise DecisionError(
                f"cannot connect to the Dask scheduler at {scheduler}: {one_line(exc)}"
            ) from None
        with own:
            yield own
        return
    with (
        local_cluster(workers or os.cpu_count() or 1, processes=processes) as cluster,
        Client(cluster) as own,
    ):
        yield own


def _warm_up_workers(client, sweep: Sweep) -> None:
    """Have workers import the evaluation code while the client fits or loads the base."""
    from distributed import fire_and_forget

    for address in client.scheduler_info().get("workers", {}):
        fire_and_forget(
            client.submit(
                warm_up,
                sweep.case,
                sweep.base,
                pure=False,
                workers=[address],
                allow_other_workers=True,
                key=f"sweep-warm-up-{address}-{time.time_ns()}",
            )
        )


def reporter_for(progress: Progress | bool | None) -> tuple[Progress, bool]:
    """Return the reporter to show a run on, and whether this run owns (starts) it.

    A :class:`Progress` is used as given, ``None`` means the active one (silent unless a
    command made one active), ``True`` a new one (bars on a terminal, lines otherwise),
    ``False`` none.
    """
    if isinstance(progress, Progress):
        return progress, False
    if progress is None:
        return current(), False
    return Progress("auto" if progress else "quiet"), True


# ------------------------------------------------------------------------ batches


def _batches_to_run(sweep: Sweep, done: Mapping[str, Any], schema) -> list[tuple[str, Batch]]:
    """Return ``(posterior source, batch)`` for every batch with a scenario not finished yet.

    The source is ``"base"`` for tree-only batches, else the key of the batch's fit.
    """
    out = []
    for members in sweep.batches():
        missing = [s for s in members if s.id not in done]
        if not missing:
            continue
        source = missing[0].fit_key if missing[0].refit else "base"
        items = [
            (s.id, dict(s.overrides), dict(s.specs), input_columns(s, schema)) for s in missing
        ]
        out.append(
            (
                source,
                Batch(
                    part=part_name(s.id for s in missing),
                    sweep=sweep.name,
                    case=sweep.case,
                    base=sweep.base,
                    draws=sweep.draws,
                    seed=sweep.seed,
                    value_of_monitoring=sweep.value_of_monitoring,
                    mode="refit" if missing[0].refit else "tree",
                    items=items,
                ),
            )
        )
    return out


class _Runner:
    """Submits batches in a bounded window, writes parts, claims batches, retries."""

    def __init__(
        self,
        sweep: Sweep,
        client,
        folder: Path,
        schema,
        *,
        retries: int,
        base_posterior: Posterior | None,
        stage,
        summary: SweepSummary,
        on_batch: Callable[[dict], None] | None,
    ):
        self.sweep, self.client, self.folder, self.schema = sweep, client, folder, schema
        self.results = folder / "results"
        self.claims = folder / "_claims"
        self.retries = retries
        self.base_posterior = base_posterior
        self.stage, self.summary = stage, summary
        self.on_batch = on_batch
        self.base_future = None
        self.fit_futures: dict[str, Any] = {}
        self.fit_pending: dict[str, int] = {}
        self.held: dict[str, Any] = {}
        self.generation = 0

    # -- claims: one lock file per batch, held while the batch is in flight --------------
    def claim(self, part: str, *, wait: bool):
        """Take the lock of batch ``part``; ``None`` if another run holds it and not ``wait``."""
        from filelock import FileLock, Timeout

        self.claims.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.claims / f"{part}.lock"), thread_local=False)
        try:
            lock.acquire(timeout=-1 if wait else 0)
        except Timeout:
            return None
        self.held[part] = lock
        return lock

    def release(self, part: str) -> None:
        """Release the lock of batch ``part``, if held."""
        lock = self.held.pop(part, None)
        if lock is not None:
            lock.release()

    def release_all(self) -> None:
        """Release every lock held."""
        for part in list(self.held):
            self.release(part)

    # -- posteriors ----------------------------------------------------------------------
    def posterior_for(self, source: str):
        """Return a future of the posterior a batch uses (scattered, or fitted on a worker)."""
        if source == "base":
            if self.base_future is None or self.base_future.status != "finished":
                self.base_future = self.client.scatter(
                    self.base_posterior, broadcast=True, hash=False
                )
            return self.base_future
        future = self.fit_futures.get(source)
        if future is None or future.status in ("error", "cancelled", "lost"):
            self.generation += 1
            future = self.client.submit(
                fit_posterior,
                self.sweep.fits[source],
                pure=False,
                key=f"sweep-fit-{source[:16]}-{self.generation}",
            )
            self.fit_futures[source] = future
        return future

    def done_with(self, source: str) -> None:
        """Forget a fit once its last batch is finished (so the cluster can drop it)."""
        if source == "base":
            return
        self.fit_pending[source] -= 1
        if self.fit_pending[source] == 0:
            self.fit_futures.pop(source, None)

    # -- the loop ------------------------------------------------------------------------
    def run(self, batches: list[tuple[str, Batch]]) -> None:
        """Evaluate ``batches``, writing a part file as each finishes."""
        from distributed import as_completed

        for source, _ in batches:
            self.fit_pending[source] = self.fit_pending.get(source, 0) + 1
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self.summary.workers = workers
        window = max(4, 3 * workers)
        pending = deque(batches)
        deferred: deque = deque()
        inflight: dict[Any, tuple[str, Batch, int]] = {}
        queue = as_completed()

        def submit(source: str, batch: Batch, attempt: int) -> None:
            self.generation += 1
            future = self.client.submit(
                evaluate_batch,
                batch,
                self.posterior_for(source),
                pure=False,
                key=f"sweep-batch-{batch.part[5:21]}-{self.generation}",
            )
            inflight[future] = (source, batch, attempt)
            queue.add(future)

        def finished_elsewhere(source: str, batch: Batch) -> bool:
            if (self.results / batch.part).exists():
                self.release(batch.part)
                self.done_with(source)
                self.summary.by_other += len(batch.items)
                self.stage.advance(len(batch.items))
                return True
            return False

        try:
            while True:
                while pending and len(inflight) < window:
                    source, batch = pending.popleft()
                    if self.claim(batch.part, wait=False) is None:
                        deferred.append((source, batch))  # another sweep is computing it
                    elif not finished_elsewhere(source, batch):
                        submit(source, batch, 0)
                if not inflight:
                    if not deferred:
                        break
                    source, batch = deferred.popleft()
                    self.claim(batch.part, wait=True)  # until the other sweep lets go
                    if not finished_elsewhere(source, batch):
                        submit(source, batch, 0)
                    continue
                future = next(queue)
                source, batch, attempt = inflight.pop(future)
                try:
                    rows = future.result()
                except Exception as exc:  # a worker died, data was lost, a bug
                    future.release()
                    if attempt < self.retries:
                        log.warning("retrying batch %s after: %s", batch.part, one_line(exc))
                        submit(source, batch, attempt + 1)
                    else:
                        self.release(batch.part)
                        self.done_with(source)
                        self.summary.failures.append(f"{batch.part}: {one_line(exc)}")
                    continue
                future.release()
                write_part(self.results, batch.part, rows, self.schema)
                with contextlib.suppress(OSError):
                    (self.claims / f"{batch.part}.lock").unlink()
                self.release(batch.part)
                self.done_with(source)
                self.summary.computed += len(rows)
                self.stage.advance(len(rows))
                if self.on_batch is not None:
                    self.on_batch(
                        {
                            "part": batch.part,
                            "scenarios": len(rows),
                            "computed": self.summary.computed,
                        }
                    )
        finally:
            if inflight:
                self.client.cancel(list(inflight))
            self.release_all()
            self.fit_futures.clear()
            self.base_future = None


# ------------------------------------------------------------------------ a run


def run_sweep(
    sweep: Sweep | str | os.PathLike,
    out: str | os.PathLike = "sweeps",
    *,
    client=None,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
    progress: Progress | bool | None = None,
    report: bool = False,
    retries: int = 2,
    base_posterior: Posterior | None = None,
    on_batch: Callable[[dict], None] | None = None,
) -> SweepSummary:
    """Run the scenarios of ``sweep`` that are not finished yet, on Dask.

    Parameters
    ----------
    sweep
        A :class:`~decision.sweep.spec.Sweep` or a sweep file.
    out
        Results go to ``<out>/<sweep name>/``: ``sweep.json`` (the definition), ``results/``
        (the Parquet dataset), and with ``report`` ``scenarios/`` and ``reports/``.
    client
        An existing ``distributed.Client`` (not closed here).
    scheduler
        Address of an existing Dask scheduler; else a local cluster of ``workers`` worker
        processes (default: one per core), one thread each (``processes=False``: threads of
        this process, for tests). The cluster is closed on return.
    workers
        Worker processes of the local cluster (not with ``scheduler``).
    processes
        Whether the local cluster's workers are processes (else threads of this process).
    progress
        Where to show the stages (the base fit, the scenarios done out of all, the reports):
        a :class:`~decision.core.progress.Progress`; ``True`` for bars on a terminal and lines
        otherwise; ``False`` for nothing; default: the active reporter (silent unless a
        command made one active).
    report
        Also render a report per scenario (``reports/<scenario id>/report.html``).
    retries
        How many times a batch whose task failed (a worker died, data was lost) is
        resubmitted before it is left for the next run.
    base_posterior
        Draws to use instead of fitting the base models (tests, benchmarks).
    on_batch
        Called after each part file is written, with a small dict (tests).

    Returns
    -------
    SweepSummary
        What the run did.

    Raises
    ------
    InputError
        When the output folder holds a different sweep of the same name, or with ``report``
        for overrides of model-supplied parameters (a report cannot express them).
    """
    start = time.perf_counter()
    if scheduler is not None and workers is not None:
        raise InputError(
            "--workers sizes the local cluster; with --scheduler the cluster's "
            "own workers are used",
            field="workers",
        )
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    folder = sweep_folder(out, sweep.name)
    results = folder / "results"
    results.mkdir(parents=True, exist_ok=True)
    write_manifest(folder, sweep)
    if report:
        check_reportable(sweep)
    clean_stale_temps(results)
    schema = results_schema(sweep)
    done = finished_ids(results)
    ids = [s.id for s in sweep.scenarios]
    summary = SweepSummary(sweep.name, str(folder), len(ids), sum(1 for i in ids if i in done))
    batches = _batches_to_run(sweep, done, schema)
    need_reports = missing_reports(sweep, folder, done) if report else []
    shown, own = reporter_for(progress)
    if batches or need_reports:
        with (
            shown if own else contextlib.nullcontext(shown),
            shown.labelled(f"sweep {sweep.name}"),
            activate(shown),
        ):
            shown.stage(
                "starting the Dask cluster"
                if scheduler is None and client is None
                else "connecting to the cluster"
            )
            with dask_client_for(client, scheduler, workers, processes) as dask_client:
                _warm_up_workers(dask_client, sweep)
                if any(source == "base" for source, _ in batches) and base_posterior is None:
                    # Once, here: every tree-only scenario shares these draws.
                    shown.stage("fitting the base models")
                    base_posterior = fit_posterior(
                        sweep.fits[sweep.base_fit_key], raise_errors=True
                    )
                stage = shown.stage(
                    "scenarios", total=len(ids), completed=summary.done_before, estimate=True
                )
                runner = _Runner(
                    sweep,
                    dask_client,
                    folder,
                    schema,
                    retries=retries,
                    base_posterior=base_posterior,
                    stage=stage,
                    summary=summary,
                    on_batch=on_batch,
                )
                runner.run(batches)
                stage.done()
                if report:
                    to_render = missing_reports(sweep, folder, finished_ids(results))
                    summary.report_failures += render_reports(
                        sweep, dask_client, folder, to_render, shown
                    )
    final = finished_ids(results)
    summary.missing = sum(1 for i in ids if i not in final)
    summary.errors = sum(1 for i in ids if i in final and final[i] is not None)
    if report:
        summary.reports = rendered_reports(sweep, folder)
    summary.seconds = time.perf_counter() - start
    return summary
