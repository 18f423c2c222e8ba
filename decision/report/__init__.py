"""Reports: parameterized notebooks executed with papermill and published as inert HTML.

==============  ===========================================================================
``template``    The report templates shipped in ``decision/templates`` (jupytext files).
``parameters``  A template's parameters (papermill's notebook inspection) and the checks of
                given values before anything runs; parameter files and ``-p NAME=VALUE``.
``render``      :func:`render_report`: papermill execution, HTML export (no script, a strict
                Content-Security-Policy), publication; :func:`render_from_manifest`,
                :func:`render_all_scenarios`.
``publish``     Run names, staging folders, atomic publication, failed and stale runs.
``manifest``    What a report was rendered from (inputs hashed), checked before rendering it
                again.
``index``       The reports index and the scenarios index page.
==============  ===========================================================================

A run writes ``<out>/<name>/``: ``report.html``, ``report.ipynb``, ``parameters.yaml`` and
``manifest.json``, moved into place only when complete.
"""

from decision.report.index import write_index, write_scenario_index
from decision.report.manifest import check_manifest, input_hashes
from decision.report.parameters import (
    MAX_PARAMETER_DEPTH,
    MAX_PARAMETER_TEXT,
    MAX_PARAMETER_VALUES,
    is_scenario_file,
    load_parameter_file,
    parameters_code,
    parse_cli_parameters,
    template_parameters,
    validate_parameters,
)
from decision.report.publish import check_run_name
from decision.report.render import (
    CONTENT_SECURITY_POLICY,
    ReportFailed,
    published_if_current,
    render_all_scenarios,
    render_from_manifest,
    render_report,
)
from decision.report.template import TEMPLATES, template_notebook, template_sha256

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "MAX_PARAMETER_DEPTH",
    "MAX_PARAMETER_TEXT",
    "MAX_PARAMETER_VALUES",
    "TEMPLATES",
    "ReportFailed",
    "check_manifest",
    "check_run_name",
    "input_hashes",
    "is_scenario_file",
    "load_parameter_file",
    "parameters_code",
    "parse_cli_parameters",
    "published_if_current",
    "render_all_scenarios",
    "render_from_manifest",
    "render_report",
    "template_notebook",
    "template_parameters",
    "template_sha256",
    "validate_parameters",
    "write_index",
    "write_scenario_index",
]
