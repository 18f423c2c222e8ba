"""Fast-lane support: fake NUTS in every Python process a fast-lane test starts.

``tests/conftest.py`` puts this folder on ``PYTHONPATH`` for tests outside the slow lane, so
report kernels, CLI runs and sweep workers started by those tests load it at start-up. When
``decision.models.compiled`` or ``pymc`` is imported, its NUTS entry points are replaced by the
fakes of :mod:`decision.testing` (prior draws shaped like a posterior, no MCMC and no
compilation): the fast lane checks plumbing, the slow lane checks inference. Nothing is
imported here until the process itself imports those modules.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys

_PATCHES = {
    "decision.models.compiled": {
        "sample": "fake_compiled_sample",
        "prepare": "fake_compiled_prepare",
    },
    "pymc": {"sample": "fake_sample"},
}


class _FakeNutsOnImport(importlib.abc.MetaPathFinder):
    """Find the modules of ``_PATCHES`` as usual, then replace their sampler once loaded."""

    def find_spec(self, name, path=None, target=None):
        if name not in _PATCHES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module
        fakes = _PATCHES[name]

        def exec_module(module):
            load(module)
            import decision.testing

            for attribute, fake in fakes.items():
                setattr(module, attribute, getattr(decision.testing, fake))

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _FakeNutsOnImport())
