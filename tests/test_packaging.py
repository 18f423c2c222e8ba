"""The project files agree with each other: pyproject, environment.yml, Makefile, CI."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).parent.parent
# conda-forge names that differ from PyPI names.
CONDA_NAMES = {"graphviz": "python-graphviz", "pyyaml": "pyyaml"}


def _requirements(items):
    out = {}
    for item in items:
        m = re.match(r"^([A-Za-z0-9_.\-]+)(\[.*\])?\s*(.*)$", item)
        out[m.group(1).lower()] = m.group(3).replace(" ", "")
    return out


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _requirements(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep)
            conda[m.group(1).lower()] = m.group(2).replace(" ", "")
    for name, spec in wanted.items():
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in conda, f"environment.yml lacks {conda_name}"
        assert conda[conda_name] == spec, (
            f"{conda_name}: pyproject {spec!r}, conda {conda[conda_name]!r}"
        )
    pip_part = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert "-e ." in pip_part


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make report" in readme and "make test" in readme


def _locked() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {
        m.group(1).lower(): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.M)
    }


def test_the_lock_file_pins_every_dependency_within_pyproject_bounds():
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = {canonicalize_name(k): v for k, v in _locked().items()}
    for item in project["dependencies"] + project["optional-dependencies"]["test"]:
        req = Requirement(item)
        name = canonicalize_name(req.name)
        assert name in locked, f"requirements.lock lacks {req.name}: run `make lock`"
        assert req.specifier.contains(locked[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={locked[name]}, outside {req.specifier}: "
            "run `make lock`"
        )
    text = (ROOT / "requirements.lock").read_text()
    pins = re.findall(
        r"^[A-Za-z0-9_.\-]+==\S+ \\\n((?:\s+--hash=sha256:[0-9a-f]{64}.*\n)+)", text, re.M
    )
    assert len(pins) == len(locked), "every pin carries its hashes"


def test_make_installs_from_the_lock_with_uv_or_pip():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r $(LOCK)" in makefile
    assert "uv pip install" in makefile and "python -m pip install" in makefile
