"""Fixtures of the sweep tests: sweep files, synthetic posteriors, a Dask cluster of threads.

Most runs use a cluster of two single-threaded workers in this process, so the fake sampler
(``fake_sampling``, tests/conftest.py) reaches fits made on the workers too.
"""

from __future__ import annotations

import collections
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from decision.sweep import Posterior, local_cluster


@pytest.fixture
def write_sweep(tmp_path):
    """Write a sweep file into the test's folder: ``write_sweep(filename=..., **data)``."""

    def write(filename: str = "sweep.yaml", **data) -> Path:
        path = tmp_path / filename
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return write


@pytest.fixture
def observations_csv(tmp_path) -> Path:
    """Copy a synthetic observations file (not real events) beside the sweep files: ``obs.csv``."""
    path = tmp_path / "obs.csv"
    shutil.copy(Path(__file__).parents[1] / "data" / "synthetic_observations.csv", path)
    return path


@pytest.fixture(scope="session")
def synthetic_posterior() -> Posterior:
    """Synthetic (not fitted) draws for tree-only sweeps of the Korea case."""
    from decision.testing import synthetic_posterior

    return synthetic_posterior(n=400)


@pytest.fixture
def part_ids():
    """Count scenario ids over every part file of a results folder, duplicates included."""

    def count(results: Path) -> collections.Counter:
        counts: collections.Counter = collections.Counter()
        for part in sorted(results.glob("part-*.parquet")):
            counts.update(pq.read_table(part, columns=["scenario_id"]).column(0).to_pylist())
        return counts

    return count


@pytest.fixture(scope="module")
def client():
    """Two single-threaded workers in this process (the fake sampler reaches them)."""
    from distributed import Client

    with local_cluster(2, processes=False) as cluster, Client(cluster) as c:
        yield c
