"""Report templates: the jupytext ``py:percent`` notebooks shipped in ``decision/templates``."""

from __future__ import annotations

import hashlib
from importlib import resources

from decision.core.errors import InputError

__all__ = ["TEMPLATES", "template_notebook", "template_sha256"]

#: Report templates by name: the file in ``decision/templates`` and the default run name.
TEMPLATES = {
    "brief": "brief.py",
    "monitoring": "monitoring.py",
    "sensitivity": "sensitivity.py",
    "backtest": "backtest.py",
}


def _template_source(template: str):
    if template not in TEMPLATES:
        raise InputError(
            f"unknown report '{template}' (expected one of: {', '.join(TEMPLATES)})", field="report"
        )
    return resources.files("decision.templates").joinpath(TEMPLATES[template])


def template_notebook(template: str = "brief"):
    """Read a template as an ``nbformat`` notebook (kernel ``python3``).

    Raises
    ------
    InputError
        For a name that is not a key of :data:`TEMPLATES`.
    """
    import jupytext

    source = _template_source(template)
    nb = jupytext.reads(source.read_text(encoding="utf-8"), fmt="py:percent")
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def template_sha256(template: str = "brief") -> str:
    """Return the SHA-256 of a template's source file.

    The source file, not the notebook: a notebook's cell ids are random.
    """
    return hashlib.sha256(_template_source(template).read_bytes()).hexdigest()
