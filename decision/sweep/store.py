"""A sweep's folder on disk: the manifest, and the results as a Parquet dataset of part files.

::

    <out>/<name>/
      sweep.json   the definition and its hash (written once, under a file lock)
      results/     part-<hash of its scenario ids>.parquet, one per finished batch

Every part is written under a temporary name starting with ``.`` (which Parquet readers
skip), flushed to disk and renamed into place (:func:`decision.core.atomic.atomic_path`): a
killed sweep never leaves a partial part. :func:`finished_ids` reads the ids already in the
parts, so that a re-run schedules only the missing scenarios; :func:`read_results` reads the
dataset and drops duplicate scenario ids (possible only when two sweeps computed the same
scenario at once; the rows are identical apart from timing columns).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from decision.case import Case, load_case
from decision.core.atomic import atomic_path, atomic_write_text
from decision.core.errors import InputError
from decision.sweep.ids import canonical_json, digest
from decision.sweep.spec import Sweep, SweepScenario

__all__ = [
    "STALE_TEMP_SECONDS",
    "clean_stale_temps",
    "finished_ids",
    "input_columns",
    "part_name",
    "read_results",
    "results_folder",
    "results_schema",
    "sweep_folder",
    "write_manifest",
    "write_part",
]

log = logging.getLogger(__name__)

#: Temporary part files older than this (seconds) are left over from a killed run.
STALE_TEMP_SECONDS = 3600


def sweep_folder(out: str | os.PathLike, name: str) -> Path:
    """Return the folder of sweep ``name`` under ``out``: ``sweep.json``, ``results/``, ..."""
    return Path(out) / name


def results_folder(folder: str | os.PathLike) -> Path:
    """Return the ``results`` folder of a sweep folder (or ``folder`` itself, if it is one)."""
    folder = Path(folder)
    return folder / "results" if (folder / "results").is_dir() else folder


# ------------------------------------------------------------------------ the schema


def _output_labels(case: Case) -> tuple[list[str], list[str], list[str]]:
    """Return the case's strategies, second-stage options and observed levels."""
    tree, stage = case.tree, case.spec.second_stage
    root = list(tree.root.labels)
    if stage is None:
        return root, [], []
    second = next(
        (list(n.labels) for n in tree.decision_nodes.values() if n.name == stage.decision), []
    )
    levels = next((list(n.labels) for n in tree.nodes.values() if n.name == stage.condition), [])
    return root, second, levels or (["always"] if second else [])


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def results_schema(sweep: Sweep):
    """Return the Arrow schema of a sweep's rows (the same for every part file)."""
    import pyarrow as pa

    case = load_case(sweep.base, sweep.case)
    root, second, levels = _output_labels(case)
    fields = [
        ("scenario_id", pa.string()),
        ("sweep", pa.string()),
        ("mode", pa.string()),
        ("as_of", pa.string()),
        ("observations", pa.string()),
    ]
    for key in sweep.keys:
        kind = sweep.key_kinds[key]
        if kind[0] in ("as_of", "observations"):
            continue
        numeric = all(_is_number(s.values[key]) for s in sweep.scenarios)
        fields.append((f"input.{key}", pa.float64() if numeric else pa.string()))
    fields += [("draws", pa.int64()), ("seed", pa.int64()), ("recommendation", pa.string())]
    for prefix in ("ev", "ev_5", "ev_95", "p_optimal"):
        fields += [(f"{prefix}.{label}", pa.float64()) for label in root]
    for level in levels:
        fields += [(f"plan.{level}", pa.string()), (f"plan_share.{level}", pa.float64())]
    fields += [(f"fixed_plan.{option}", pa.float64()) for option in second]
    fields += [("value_of_monitoring", pa.float64())]
    fields += [(q.name, pa.float64()) for q in case.spec.headline]
    fields += [
        ("diagnostics_ok", pa.bool_()),
        ("flags", pa.string()),
        ("fit_from_cache", pa.bool_()),
        ("fit_seconds", pa.float64()),
        ("error", pa.string()),
        ("seconds", pa.float64()),
        ("cpu_seconds", pa.float64()),
        ("worker", pa.string()),
    ]
    return pa.schema(
        fields, metadata={"decision.sweep": sweep.name, "decision.sweep_hash": sweep.hash}
    )


def input_columns(scenario: SweepScenario, schema) -> dict[str, Any]:
    """Return a scenario's input columns: ``as_of``, ``observations`` and ``input.<key>``."""
    out = {"as_of": scenario.as_of, "observations": scenario.observations}
    for key, value in scenario.values.items():
        column = f"input.{key}"
        if column not in schema.names:
            continue
        if isinstance(value, float) and str(schema.field(column).type) == "double":
            out[column] = value
        else:
            out[column] = value if isinstance(value, str) else canonical_json(value)
    return out


# ------------------------------------------------------------------------ part files


def part_name(ids: Iterable[str]) -> str:
    """Name the part file of a batch by a hash of its scenario ids."""
    return f"part-{digest(sorted(ids), 24)}.parquet"


def write_part(results: Path, name: str, rows: list[dict], schema) -> Path:
    """Write rows as one Parquet file, atomically (temporary name, fsync, rename, folder fsync)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    unknown = set().union(*(r.keys() for r in rows)) - set(schema.names)
    if unknown:
        raise RuntimeError(f"rows have columns outside the sweep's schema: {sorted(unknown)}")
    table = pa.Table.from_pylist(rows, schema=schema)
    target = results / name
    with atomic_path(target, suffix=".parquet") as tmp:
        pq.write_table(table, tmp)
    return target


def _part_files(results: Path) -> list[Path]:
    if not results.is_dir():
        return []
    return sorted(
        p
        for p in results.iterdir()
        if p.is_file() and p.suffix == ".parquet" and not p.name.startswith((".", "_"))
    )


def clean_stale_temps(results: Path) -> None:
    """Remove temporary part files left over by a killed run (older than an hour)."""
    now = time.time()
    for path in results.glob(".part-*.tmp"):
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > STALE_TEMP_SECONDS:
                path.unlink()


def finished_ids(folder: str | os.PathLike) -> dict[str, str | None]:
    """Map every finished scenario's id to its error (``None`` when it succeeded).

    ``folder`` is a sweep folder or its ``results`` folder. Only the id and error columns
    are read. A part file that cannot be read (which atomic writes make impossible unless the
    file was damaged from outside) is renamed aside (``.corrupt-...``) and its scenarios
    count as missing.
    """
    import pyarrow.parquet as pq

    out: dict[str, str | None] = {}
    for part in _part_files(results_folder(folder)):
        try:
            table = pq.read_table(part, columns=["scenario_id", "error"])
        except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
            log.warning("moving aside unreadable part file %s: %s", part, exc)
            with contextlib.suppress(OSError):
                os.replace(part, part.with_name(f".corrupt-{part.name}"))
            continue
        for sid, err in zip(
            table.column("scenario_id").to_pylist(), table.column("error").to_pylist(), strict=True
        ):
            if sid not in out or out[sid] is not None:
                out[sid] = err
    return out


def read_results(folder: str | os.PathLike, *, columns: list[str] | None = None):
    """Read a sweep's results as a pandas DataFrame, one row per scenario (duplicates dropped).

    ``folder`` is a sweep folder (``<out>/<name>``) or its ``results`` folder. Equivalent to
    ``pandas.read_parquet(results)`` followed by dropping repeated ``scenario_id`` values.
    """
    import pandas as pd
    import pyarrow.dataset as ds

    parts = _part_files(results_folder(folder))
    if not parts:
        return pd.DataFrame(columns=["scenario_id"])
    if columns is not None and "scenario_id" not in columns:
        columns = ["scenario_id", *columns]
    table = ds.dataset([str(p) for p in parts], format="parquet").to_table(columns=columns)
    frame = table.to_pandas()
    # Prefer a successful row when the same scenario was written twice.
    if "error" in frame.columns:
        frame = (
            frame.assign(_failed=frame["error"].notna())
            .sort_values("_failed", kind="stable")
            .drop(columns="_failed")
        )
    return frame.drop_duplicates("scenario_id", keep="first").reset_index(drop=True)


# ------------------------------------------------------------------------ the manifest


def write_manifest(folder: Path, sweep: Sweep) -> None:
    """Write ``sweep.json`` once; refuse a folder that holds a different sweep.

    Raises
    ------
    InputError
        Naming ``sweep.json``, when it holds another definition or cannot be read.
    """
    from filelock import FileLock

    from decision import __version__

    manifest = folder / "sweep.json"
    with FileLock(str(folder / ".sweep.json.lock")):
        if manifest.exists():
            _check_manifest(manifest, sweep)
            return
        atomic_write_text(
            manifest,
            json.dumps(
                {
                    "name": sweep.name,
                    "description": sweep.description,
                    "hash": sweep.hash,
                    "sweep_file": str(Path(sweep.path).resolve()),
                    "scenarios": len(sweep.scenarios),
                    "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "package_version": __version__,
                    "definition": sweep.definition,
                },
                indent=2,
                sort_keys=True,
                default=str,
            )
            + "\n",
        )


def _check_manifest(manifest: Path, sweep: Sweep) -> None:
    """Refuse a manifest that cannot be read or holds another definition of the sweep."""
    try:
        existing = json.loads(manifest.read_text(encoding="utf-8"))
        if not isinstance(existing, Mapping):
            raise ValueError("expected a JSON object")
    except (OSError, ValueError) as exc:
        raise InputError(
            f"cannot read the sweep manifest ({exc}); remove the folder or use another --out",
            file=manifest,
        ) from None
    if existing.get("hash") != sweep.hash:
        raise InputError(
            f"this folder holds a different definition of sweep '{sweep.name}' "
            f"(hash {str(existing.get('hash'))[:12]}, from "
            f"{existing.get('sweep_file')}); {sweep.path} has hash {sweep.hash[:12]}. "
            "Use another --out or name, or remove the folder",
            file=manifest,
        )
