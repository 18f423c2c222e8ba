"""Writing records: a blank questionnaire, a record from a notebook's answers, PreliZ's widgets.

``notebooks/05_elicitation`` and ``decision elicit new`` use these: the questions, units and
methods come from a template record (by default the case's first record), so that every
expert answers the same questions.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from decision.case.spec import CaseSpec, load_spec
from decision.core.dates import parse_date
from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.core.yaml import read_yaml_file
from decision.elicitation.records import METHODS, parse_record, record_files

__all__ = [
    "blank_record_text",
    "interactive_explorer",
    "record_data",
    "record_yaml",
    "save_record",
    "template_record",
    "widgets_available",
]


def template_record(
    case: str | Path | CaseSpec | None = None, template: str | os.PathLike | None = None
) -> tuple[Path, dict[str, Any]]:
    """Read the record whose questions a new record copies: (file, data).

    Raises
    ------
    InputError
        When the case has no record and no template is given.
    """
    if template is None:
        files = record_files(load_spec(case).folder / "elicitation")
        if not files:
            raise InputError(
                "the case has no elicitation record to copy the questions from; give one",
                field="template",
            )
        template = files[0]
    data = read_yaml_file(template, what="an elicitation record (YAML)")
    parse_record(data, file=template)  # a template must itself be a valid record
    return Path(template), dict(data)


def _header(data: Mapping[str, Any], expert: str, name: str, date, role: str, illustrative: bool):
    out = {
        "expert": {"id": expert, "name": name},
        "date": parse_date(date, field="date"),
        "case": data["case"],
        "horizon": data["horizon"],
        "method": dict(data["method"]),
    }
    if role:
        out["expert"]["role"] = role
    if illustrative:
        out["expert"]["illustrative"] = True
    return out


def blank_record_text(
    case: str | Path | CaseSpec | None = None,
    *,
    expert: str,
    name: str,
    date: str | dt.date,
    template: str | os.PathLike | None = None,
    illustrative: bool = False,
    role: str = "",
) -> str:
    """Write a record for a new expert: every question of the template, answers left empty.

    The answers (``null``) and rationales (empty) must be filled in: until they are, the
    record fails validation naming the first one missing.
    """
    path, data = template_record(case, template)
    out = _header(data, expert, name, date, role, illustrative)
    out["protocol"] = ""
    judgments = {}
    for key, judgment in data["judgments"].items():
        method = judgment.get("method") or data["method"]
        keys, _ = METHODS[method["name"]]
        entry = {"question": judgment["question"], "units": judgment["units"]}
        if judgment.get("method"):
            entry["method"] = dict(judgment["method"])
        if method["name"] == "quantiles":
            entry["answers"] = {k: None for k in judgment["answers"]}
        else:
            entry["answers"] = {k: None for k in keys}
        entry["rationale"] = ""
        judgments[key] = entry
    out["judgments"] = judgments
    comment = (
        f"# Elicitation record of {name} ({expert}), questions copied from {path.name}.\n"
        "# Fill in every answer and rationale (docs/elicitation.md), then run "
        "`decision elicit check --record THIS_FILE`.\n"
    )
    return comment + record_yaml(out)


def record_data(
    case: str | Path | CaseSpec | None = None,
    *,
    expert: str,
    name: str,
    date: str | dt.date,
    answers: Mapping[str, Mapping[str, float]],
    rationales: Mapping[str, str],
    methods: Mapping[str, Mapping[str, str]] | None = None,
    template: str | os.PathLike | None = None,
    role: str = "",
    illustrative: bool = False,
    protocol: str = "",
) -> dict[str, Any]:
    """Build a validated record from answers given in a notebook.

    Parameters
    ----------
    answers
        Judgment -> its answers (e.g. ``{"low": 30, "mode": 60, "high": 100}``).
    rationales
        Judgment -> one sentence of rationale (every answered judgment needs one).
    methods
        Judgment -> a method other than the template's (``{"name": ..., "distribution": ...}``).

    Raises
    ------
    InputError
        For a judgment the template does not ask, a missing rationale, or an answer that does
        not fit its method (naming the judgment and field).
    """
    path, data = template_record(case, template)
    out = _header(data, expert, name, date, role, illustrative)
    if protocol:
        out["protocol"] = protocol
    questions = data["judgments"]
    judgments = {}
    for key, given in answers.items():
        if key not in questions:
            raise InputError(
                f"the template asks no question '{key}'{did_you_mean(key, questions)}",
                file=path,
                field=f"judgments.{key}",
            )
        entry = {"question": questions[key]["question"], "units": questions[key]["units"]}
        method = (methods or {}).get(key) or questions[key].get("method")
        if method:
            entry["method"] = dict(method)
        entry["answers"] = {k: float(v) for k, v in given.items()}
        entry["rationale"] = rationales.get(key, "")
        judgments[key] = entry
    out["judgments"] = judgments
    parse_record(out, file=f"<record of {expert}>")
    return out


def record_yaml(data: Mapping[str, Any]) -> str:
    """Dump a record as YAML text: answers on one line each, the date as a date."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def mapping(dumper, value):
        flow = len(value) <= 5 and all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
            for v in value.values()
        )
        return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=flow)

    _Dumper.add_representer(dict, mapping)
    return yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def save_record(data: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Validate a record and write it atomically (an existing file is replaced only when done)."""
    from decision.core.atomic import atomic_write_text

    parse_record(data, file=path)
    return atomic_write_text(path, record_yaml(data))


def widgets_available() -> bool:
    """Whether PreliZ's interactive tools can run (``ipywidgets`` installed: the dev extra)."""
    return importlib.util.find_spec("ipywidgets") is not None


def interactive_explorer(spec: Mapping[str, Any]):
    """PreliZ's interactive plot of a spec's distribution: sliders for its parameters."""
    from decision.elicitation._preliz import quiet
    from decision.elicitation.fitting import preliz_distribution

    with quiet():
        return preliz_distribution(spec).plot_interactive(kind="pdf", xy_lim="auto")
