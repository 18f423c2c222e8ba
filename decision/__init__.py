"""decision: Bayesian evidence, decision trees and value of information, rendered with papermill."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("decision")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

from decision.core.errors import ConvergenceError, DecisionError, InputError

__all__ = ["__version__", "DecisionError", "InputError", "ConvergenceError"]
