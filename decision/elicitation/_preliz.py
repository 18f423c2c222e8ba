"""PreliZ, imported once, without side effects on the package's figures.

PreliZ releases before 0.27 reach ``matplotlib.style.core`` without importing it, which
matplotlib 3.11 no longer does for them (arviz-devs/preliz#726, fixed in PreliZ 0.27): the
submodule is imported here first, its deprecation warning silenced. PreliZ also sets
``savefig.bbox`` for every figure on import; the setting is restored so that report figures
do not change because PreliZ was imported.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import warnings

__all__ = ["preliz", "quiet"]


@functools.cache
def preliz():
    """Import PreliZ (once) and return the module."""
    import matplotlib
    import matplotlib.style

    if not hasattr(matplotlib.style, "core"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            importlib.import_module("matplotlib.style.core")
    saved = matplotlib.rcParams["savefig.bbox"]
    module = importlib.import_module("preliz")
    matplotlib.rcParams["savefig.bbox"] = saved
    module.rcParams["plots.show_plot"] = False  # fitting functions draw only when asked
    return module


@contextlib.contextmanager
def quiet():
    """Silence third-party numerical and deprecation noise inside PreliZ and its optimisers.

    PreliZ 0.24 builds some functions with PyTensor keywords that PyTensor 2.38 deprecates,
    and its optimisers try parameters where a density overflows; neither is ours to fix.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield
