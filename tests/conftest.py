"""Shared fixtures: an isolated posterior cache for every test, and fake sampling.

Budgets, the fake sampler and synthetic fits live in :mod:`decision.testing` (shared with the
benchmarks); these fixtures wire them in.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from decision.core.backend import configure_compile_caches
from decision.testing import FAKE_SAMPLER, fake_sample, patch_fake_sampling

# Compiled model code is shared by every test and every report kernel of the session: its
# place is fixed here, before a test points DECISION_CACHE_DIR at its own empty folder.
configure_compile_caches()


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Give every test its own empty posterior cache."""
    path = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("DECISION_CACHE_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def run_posterior_cache(tmp_path_factory, worker_id) -> Path:
    """Return a posterior cache for the whole run, shared by its xdist workers (slow lane).

    Real fits at the default budget are costly, and the cache names each fit by its inputs:
    tests that need the same fit (the default brief, the convergence checks) sample it once.
    """
    base = tmp_path_factory.getbasetemp()
    path = (base if worker_id == "master" else base.parent) / "shared_posteriors"
    path.mkdir(exist_ok=True)
    return path


#: Holds the ``sitecustomize`` that fakes NUTS in the processes fast-lane tests start.
FAKE_NUTS_PATH = Path(__file__).parent / "support" / "fake_nuts"


def _with_fake_nuts(pythonpath: str) -> str:
    """Return ``pythonpath`` with :data:`FAKE_NUTS_PATH` first."""
    return os.pathsep.join([str(FAKE_NUTS_PATH), *filter(None, pythonpath.split(os.pathsep))])


def pytest_collection_finish(session):
    """In a session without slow-lane tests, fake NUTS in every process the tests start.

    Report kernels, CLI runs and workers then load ``tests/support/fake_nuts/sitecustomize.py``
    from ``PYTHONPATH``: their fits draw from the prior instead of running MCMC (the fast lane
    checks plumbing; the slow lane, which samples for real, checks inference). Decided once
    per session, so a session-scoped render and a test's own render always agree.
    """
    if session.items and not any(item.get_closest_marker("slow") for item in session.items):
        os.environ["PYTHONPATH"] = _with_fake_nuts(os.environ.get("PYTHONPATH", ""))


@pytest.fixture
def fake_nuts_processes(monkeypatch):
    """Fake NUTS in the processes this test starts: for slow-lane tests of plumbing.

    Request it before fixtures that copy ``os.environ`` (``env``, ``cli_env``). Only for a
    test that compares nothing with a render made outside it (a session-scoped render samples
    for real in the slow lane).
    """
    monkeypatch.setenv("PYTHONPATH", _with_fake_nuts(os.environ.get("PYTHONPATH", "")))


@pytest.fixture(autouse=True)
def no_real_nuts_in_the_fast_lane(request, monkeypatch):
    """Refuse real NUTS in this process for tests not marked slow.

    The fast lane checks plumbing with fake draws (``fake_sampling``, which replaces this
    refusal); sampling for real, at any budget, belongs to the slow lane.
    """
    if request.node.get_closest_marker("slow"):
        return
    import pymc as pm

    from decision.models import compiled

    def refuse(*args, **kwargs):
        raise AssertionError(
            f"{request.node.nodeid} runs real NUTS: request the fake_sampling fixture, or mark "
            "the test slow"
        )

    monkeypatch.setattr(pm, "sample", refuse)
    monkeypatch.setattr(compiled, "sample", refuse)


@pytest.fixture
def fake_sampling(monkeypatch):
    """Replace both NUTS paths with :func:`decision.testing.fake_sample` (no MCMC).

    ``pymc.sample`` and the compiled path of :mod:`decision.models.compiled`
    (:func:`decision.testing.patch_fake_sampling`).
    """
    patch_fake_sampling(monkeypatch)
    return fake_sample


@pytest.fixture
def tiny_sampler():
    """Sampler settings for plumbing tests with fake sampling: few draws, one process."""
    return dict(FAKE_SAMPLER)
