"""The sweep folder: manifest, atomic Parquet parts, finished ids, readers, left-overs."""

from __future__ import annotations

import json
import os
import shutil
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest

from decision.core.errors import InputError
from decision.sweep import finished_ids, load_sweep, read_results, results_schema, run_sweep


def test_readers_skip_temporary_files_and_duplicates_are_dropped(
    write_sweep, tmp_path, client, synthetic_posterior, part_ids
):
    path = write_sweep(draws=100, batch_size=2, grid={"china_pressure_if_refused": [0.1, 0.2, 0.3]})
    sweep = load_sweep(path)
    run_sweep(sweep, tmp_path / "out", client=client, base_posterior=synthetic_posterior)
    results = tmp_path / "out" / sweep.name / "results"
    parts = sorted(results.glob("part-*.parquet"))
    assert len(parts) == 2
    # Every part has the sweep's schema.
    assert all(pq.read_schema(p).equals(results_schema(sweep), check_metadata=True) for p in parts)
    # What a killed writer leaves: a truncated temporary file, which readers never see.
    (results / ".part-0123.parquet.x1y2.parquet.tmp").write_bytes(parts[0].read_bytes()[:50])
    # What two sweeps computing one batch at once could leave: the same rows twice.
    shutil.copy(parts[0], results / "part-copy.parquet")
    copied = pq.read_metadata(parts[0]).num_rows
    assert sum(part_ids(results).values()) == 3 + copied
    assert len(pd.read_parquet(results)) == 3 + copied
    frame = read_results(results)
    assert len(frame) == 3 and frame["scenario_id"].is_unique
    assert set(finished_ids(results)) == {s.id for s in sweep.scenarios}
    assert list(read_results(tmp_path / "out" / sweep.name, columns=["seed"]).columns) == [
        "scenario_id",
        "seed",
    ]


def test_an_empty_folder_has_no_results(tmp_path):
    assert finished_ids(tmp_path) == {}
    assert list(read_results(tmp_path).columns) == ["scenario_id"]


def test_a_damaged_part_is_moved_aside_and_its_scenarios_run_again(
    write_sweep, tmp_path, client, synthetic_posterior
):
    path = write_sweep(draws=100, batch_size=2, grid={"china_pressure_if_refused": [0.1, 0.2, 0.3]})
    sweep = load_sweep(path)
    out = tmp_path / "out"
    run_sweep(sweep, out, client=client, base_posterior=synthetic_posterior)
    results = out / sweep.name / "results"
    damaged = sorted(results.glob("part-*.parquet"))[0]
    lost = pq.read_metadata(damaged).num_rows
    damaged.write_bytes(b"not parquet")  # damage from outside the sweep
    assert len(finished_ids(results)) == 3 - lost
    assert (results / f".corrupt-{damaged.name}").is_file() and not damaged.exists()
    summary = run_sweep(sweep, out, client=client, base_posterior=synthetic_posterior)
    assert (summary.done_before, summary.computed, summary.ok) == (3 - lost, lost, True)
    assert len(read_results(results)) == 3


def test_stale_temporary_parts_are_removed_fresh_ones_kept(
    write_sweep, tmp_path, client, synthetic_posterior
):
    sweep = load_sweep(write_sweep(draws=100, grid={"china_pressure_if_refused": [0.1]}))
    results = tmp_path / "out" / sweep.name / "results"
    results.mkdir(parents=True)
    stale, fresh = results / ".part-old.parquet.tmp", results / ".part-new.parquet.tmp"
    for temporary in (stale, fresh):
        temporary.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    assert run_sweep(sweep, tmp_path / "out", client=client, base_posterior=synthetic_posterior).ok
    assert not stale.exists() and fresh.exists()  # a fresh one may be another run's


def test_a_folder_holding_another_definition_is_refused(
    write_sweep, tmp_path, client, synthetic_posterior
):
    out = tmp_path / "out"
    first = write_sweep("a.yaml", name="same", draws=100, grid={"china_pressure_if_refused": [0.1]})
    run_sweep(first, out, client=client, base_posterior=synthetic_posterior)
    second = write_sweep(
        "b.yaml", name="same", draws=100, grid={"china_pressure_if_refused": [0.1, 0.2]}
    )
    with pytest.raises(
        InputError, match=r"sweep.json: this folder holds a different definition of sweep 'same'"
    ):
        run_sweep(second, out, client=client, base_posterior=synthetic_posterior)
    # The batch size is not part of the definition.
    third = write_sweep(
        "c.yaml", name="same", draws=100, batch_size=7, grid={"china_pressure_if_refused": [0.1]}
    )
    assert run_sweep(third, out, client=client, base_posterior=synthetic_posterior).ok
    manifest = json.loads((out / "same" / "sweep.json").read_text())
    assert manifest["scenarios"] == 1 and manifest["hash"] == load_sweep(first).hash
    # A manifest that cannot be read is an error naming it, not a traceback.
    (out / "same" / "sweep.json").write_text("[1, 2]")
    with pytest.raises(InputError, match=r"sweep.json: cannot read the sweep manifest"):
        run_sweep(third, out, client=client, base_posterior=synthetic_posterior)
