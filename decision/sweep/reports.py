"""A decision brief per finished scenario of a sweep (``decision sweep --report``).

Each scenario becomes a scenario file, ``<folder>/scenarios/<id>.yaml`` (the base scenario
with the scenario's specs, fixed values and priors), rendered on a Dask worker with
:func:`decision.report.render_report` into ``<folder>/reports/<id>/report.html``. A report
refits the models inside its notebook, so it takes as long as ``decision report``. Overrides
of model-supplied parameters cannot be written in a scenario file: :func:`check_reportable`
refuses such sweeps before anything runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from decision.case import load_spec
from decision.core.atomic import atomic_write_text
from decision.core.errors import InputError
from decision.sweep.evaluate import one_line
from decision.sweep.ids import canonical_json
from decision.sweep.spec import Sweep, SweepScenario

__all__ = [
    "check_reportable",
    "missing_reports",
    "render_reports",
    "rendered_reports",
    "report_inputs",
]


def check_reportable(sweep: Sweep) -> None:
    """Refuse a sweep that overrides a model-supplied parameter (a report cannot).

    Raises
    ------
    InputError
        Naming the sweep file and the key.
    """
    supplied = load_spec(sweep.case).supplied
    for key in sweep.keys:
        kind = sweep.key_kinds[key]
        if kind[0] == "param" and kind[1] in supplied:
            raise InputError(
                f"'{key}' comes from the models' posterior draws: a report cannot override "
                "it, so --report is not available for this sweep",
                file=sweep.path,
                field=key,
            )


def _report_path(folder: Path, scenario_id: str) -> Path:
    return folder / "reports" / scenario_id / "report.html"


def missing_reports(
    sweep: Sweep, folder: Path, done: Mapping[str, str | None]
) -> list[SweepScenario]:
    """List the scenarios finished without error whose report is not rendered yet."""
    return [
        s
        for s in sweep.scenarios
        if s.id in done and done[s.id] is None and not _report_path(folder, s.id).is_file()
    ]


def rendered_reports(sweep: Sweep, folder: Path) -> int:
    """Count the scenarios of ``sweep`` whose report is rendered."""
    return sum(1 for s in sweep.scenarios if _report_path(folder, s.id).is_file())


def report_inputs(
    sweep: Sweep, scenario: SweepScenario, folder: Path
) -> tuple[Path, dict[str, Any]]:
    """Write the scenario file of one scenario; return it with the report's parameters."""
    params = dict(sweep.base.parameters)
    params.update(scenario.specs)
    for name, value in scenario.overrides.items():
        params[name] = {
            "value": value,
            "description": f"set by sweep {sweep.name} (scenario {scenario.id})",
        }
    priors: dict[str, dict] = json.loads(json.dumps(dict(sweep.base.priors)))
    for key, value in scenario.values.items():
        kind = sweep.key_kinds[key]
        if kind[0] == "prior":
            priors.setdefault(kind[1], {}).setdefault(kind[2], {})[kind[3]] = value
    described = ", ".join(
        f"{k}={v if not isinstance(v, Mapping) else canonical_json(v)}"
        for k, v in scenario.values.items()
    )
    text = yaml.safe_dump(
        {
            "name": f"{sweep.name}-{scenario.id}",
            "description": f"Scenario {scenario.id} of sweep {sweep.name} (base "
            f"{sweep.base.name}): {described or 'the base'}",
            "parameters": params,
            "priors": priors,
            "settings": dict(sweep.base.settings),
        },
        sort_keys=False,
        allow_unicode=True,
    )
    path = folder / "scenarios" / f"{scenario.id}.yaml"
    atomic_write_text(path, text)
    observations = None
    if scenario.observations is not None:
        written = Path(scenario.observations)
        observations = str(
            written if written.is_absolute() else (Path(sweep.path).parent / written).resolve()
        )
    s = sweep.sampler
    values = {
        "as_of": scenario.as_of,
        "scenario": str(path.resolve()),
        "observations_file": observations or "",
        "draws": int(s["draws"]),
        "tune": int(s["tune"]),
        "chains": int(s["chains"]),
        "cores": int(s["cores"]),
        "seed": int(s["random_seed"]),
        "strict": sweep.strict,
        "use_cache": sweep.use_cache,
    }
    return path, values


def _render_one(values: dict[str, Any], out_dir: str, name: str, source: str) -> str:
    from decision.report import render_report

    return str(render_report(values, out_dir=out_dir, name=name, source=source))


def render_reports(
    sweep: Sweep, client, folder: Path, scenarios: list[SweepScenario], progress
) -> list[str]:
    """Render the reports of ``scenarios`` on the Dask ``client``'s workers.

    Parameters
    ----------
    sweep, folder
        The sweep and its folder.
    client
        A ``distributed.Client``.
    scenarios
        The scenarios to render (see :func:`missing_reports`).
    progress
        A :class:`decision.core.progress.Progress` to show them on, as one stage.

    Returns
    -------
    list of str
        One line per report that failed: ``<scenario id>: <error>``.
    """
    from distributed import as_completed

    if not scenarios:
        return []
    stage = progress.stage("rendering reports", total=len(scenarios))
    futures = {}
    for scenario in scenarios:
        path, values = report_inputs(sweep, scenario, folder)
        future = client.submit(
            _render_one,
            values,
            str((folder / "reports").resolve()),
            scenario.id,
            str(path),
            pure=False,
            key=f"sweep-report-{scenario.id}",
        )
        futures[future] = scenario.id
    failures = []
    for future in as_completed(futures):
        try:
            future.result()
        except Exception as exc:
            failures.append(f"{futures[future]}: {one_line(exc)}")
        stage.advance()
    return failures
