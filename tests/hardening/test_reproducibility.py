"""Reproducibility: the same inputs and seed give the same results.

Byte-identical results from ``decision analyze``, the same numbers in the report across runs,
after a fresh clone, and when a report is re-rendered from its manifest
(``decision report --from-manifest``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hardening_support import ROOT, TINY, TINY_ARGS

from decision.cli import main
from decision.core.errors import InputError
from decision.report import input_hashes, render_from_manifest

#: The reports' tiny budget (its compiled sampler is shared with their renders), another seed.
ANALYZE = ["analyze", "--json", "--draws", "30", "--tune", "30", "--chains", "2", "--seed", "7"]


def test_analyze_json_is_identical_across_runs_warm_or_cold(
    fake_sampling, tmp_path, monkeypatch, capsys
):
    # Seeded fake draws: the fits, the cache's round trip and the analysis are what is checked
    # here; that real NUTS draws the same numbers in every process is the slow lane's test.
    outputs = []
    for cache in ("a", "a", "b"):  # cold, warm (served from the cache), cold elsewhere
        monkeypatch.setenv("DECISION_CACHE_DIR", str(tmp_path / cache))
        assert main(ANALYZE) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2]
    assert json.loads(outputs[0])["draws"] == 60  # 2 chains x 30
    assert list((tmp_path / "a").iterdir())  # the second run really had a cache to use


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.chunks.append(data)


def report_numbers(folder: Path) -> tuple[str, str, str]:
    """Return what must not change between two renders of the same inputs.

    The analysis, the parameters, and the report's text (every number a reader sees) and
    figures.
    """
    parser = _Text()
    parser.feed((folder / "report.html").read_text(encoding="utf-8"))
    text = " ".join("".join(parser.chunks).split())
    images = re.findall(
        r'src="data:image/png;base64,([^"]+)"', (folder / "report.html").read_text()
    )
    return (
        (folder / "analysis.json").read_text(),
        (folder / "parameters.yaml").read_text(),
        text + f" [{len(images)} figures]",
    )


def test_the_manifest_holds_what_a_rerender_needs(brief_render, hostile_render):
    manifest = json.loads((brief_render / "manifest.json").read_text())
    assert manifest["template"] == "brief" and manifest["name"] == "brief"
    assert len(manifest["template_sha256"]) == 64
    parameters = manifest["parameters"]
    for key, value in {**TINY, "use_cache": False, "as_of": "2017-08-20"}.items():
        assert parameters[key] == value, key
    assert manifest["seed"] == parameters["seed"] == 20170820
    assert {"evidence", "scenario", "case_tree"} <= set(manifest["data_hashes"])
    for package in ("python", "decision", "pymc", "pytensor", "numpy", "arviz", "papermill"):
        assert manifest["versions"][package], package
    assert manifest["git_commit"] and manifest["platform"]["machine"]
    hostile = json.loads((hostile_render[0] / "manifest.json").read_text())
    assert {"evidence", "scenario", "case_tree", "observations"} <= set(hostile["data_hashes"])


def test_a_report_rerendered_from_its_manifest_has_the_same_numbers(brief_render, tmp_path, capsys):
    """Also two renders with use_cache=False: the manifest's parameters say so."""
    out = tmp_path / "again"
    assert (
        main(["report", "--from-manifest", str(brief_render / "manifest.json"), "--out", str(out)])
        == 0
    )
    assert f"report written to {out / 'brief' / 'report.html'}" in capsys.readouterr().out
    again, first = report_numbers(out / "brief"), report_numbers(brief_render)
    assert again[0] == first[0]  # analysis.json, byte for byte
    assert again[1] == first[1]  # parameters.yaml
    assert again[2] == first[2]  # every word and number of the report
    assert (out / "brief" / "report.html").read_bytes() == (
        brief_render / "report.html"
    ).read_bytes()  # figures too


def _manifest_copy(brief_render, tmp_path, **changes) -> Path:
    manifest = json.loads((brief_render / "manifest.json").read_text())
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            manifest[section][field] = value
        else:
            manifest[section] = value
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


@pytest.fixture
def no_render(monkeypatch, tmp_path):
    """Stand-in for render_report: records its arguments, renders nothing."""
    import decision.report.render

    calls = []

    def fake(params, **kwargs):
        calls.append((params, kwargs))
        return tmp_path / "out" / kwargs["name"]

    monkeypatch.setattr(decision.report.render, "render_report", fake)
    return calls


def test_from_manifest_refuses_changed_inputs_and_warns_on_other_versions(
    brief_render, tmp_path, no_render, capsys
):
    changed = _manifest_copy(brief_render, tmp_path, data_hashes__evidence="0" * 64)
    with pytest.raises(
        InputError,
        match=r"cannot re-render exactly: the evidence has changed"
        r".*--allow-changes",
    ):
        render_from_manifest(changed)
    assert main(["report", "--from-manifest", str(changed)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    _, warnings = render_from_manifest(changed, allow_changes=True)
    assert any("evidence has changed" in w for w in warnings)

    template = _manifest_copy(brief_render, tmp_path, template_sha256="0" * 64)
    with pytest.raises(InputError, match="template has changed"):
        render_from_manifest(template)

    versions = _manifest_copy(brief_render, tmp_path, versions__numpy="0.0.1", git_commit="0" * 40)
    target, warnings = render_from_manifest(versions, out_dir=tmp_path / "out")
    assert any("numpy 0.0.1 in the manifest" in w for w in warnings)
    assert any("rendered from git commit 0000000" in w for w in warnings)
    assert target == tmp_path / "out" / "brief"
    params, kwargs = no_render[-1]
    assert params["seed"] == 20170820 and kwargs["template"] == "brief"
    assert main(["report", "--from-manifest", str(versions), "--out", str(tmp_path / "o")]) == 0
    assert "warning: numpy 0.0.1" in capsys.readouterr().err


def test_from_manifest_notices_a_changed_scenario_file(brief_render, tmp_path, no_render):
    scenario = tmp_path / "mine.yaml"
    scenario.write_text("name: mine\nparameters: {}\n")
    manifest = json.loads((brief_render / "manifest.json").read_text())
    manifest["parameters"]["scenario"] = str(scenario)
    manifest["data_hashes"] = input_hashes(manifest["parameters"])
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    render_from_manifest(path)  # unchanged: fine
    scenario.write_text("name: mine\ndescription: edited since\nparameters: {}\n")
    with pytest.raises(InputError, match="scenario data has changed"):
        render_from_manifest(path)


@pytest.mark.parametrize(
    "content, match",
    [
        ("not json", "not JSON"),
        ("[]", "not a report manifest"),
        ('{"template": "nope", "parameters": {}}', "not a report manifest"),
        ('{"template": "brief", "parameters": {"drawz": 5}}', "unknown parameter"),
    ],
)
def test_bad_manifests_are_clear_errors(tmp_path, content, match, no_render):
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(InputError, match=match):
        render_from_manifest(path)
    with pytest.raises(InputError, match="file not found"):
        render_from_manifest(tmp_path / "missing.json")


def test_from_manifest_takes_no_other_parameters(brief_render, capsys):
    assert (
        main(["report", "--from-manifest", str(brief_render / "manifest.json"), "-p", "seed=1"])
        == 2
    )
    assert "--from-manifest" in capsys.readouterr().err


@pytest.mark.slow
def test_a_fresh_clone_renders_the_same_numbers(brief_render, tmp_path):
    """Clone the repository and render from the clone, with a fresh posterior cache.

    The clone is of the committed HEAD; uncommitted changes to tracked files and new files
    that git does not ignore are copied over it (as they will be once committed), so the
    test checks that nothing ignored (caches, reports, build products, the virtual
    environment) influences the numbers. It runs the clone's code from this interpreter
    (PYTHONPATH), not a reinstall.
    """
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--modified", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    env = {
        **os.environ,
        "PYTHONPATH": str(clone),
        "DECISION_CACHE_DIR": str(tmp_path / "c"),
        "MPLBACKEND": "Agg",
    }
    where = subprocess.run(
        [sys.executable, "-c", "import decision; print(decision.__file__)"],
        env=env,
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(clone)), where.stdout
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "decision.cli",
            "report",
            "--out",
            str(tmp_path / "reports"),
            "--name",
            "brief",
            *TINY_ARGS,
            "-p",
            "use_cache=false",
        ],
        env=env,
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    assert report_numbers(tmp_path / "reports" / "brief") == report_numbers(brief_render)
    analyzed = subprocess.run(
        [sys.executable, "-m", "decision.cli", *ANALYZE],
        env=env,
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=900,
    )
    here = subprocess.run(
        [sys.executable, "-m", "decision.cli", *ANALYZE],
        env={**env, "PYTHONPATH": "", "DECISION_CACHE_DIR": str(tmp_path / "d")},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert analyzed.returncode == here.returncode == 0, analyzed.stderr + here.stderr
    assert analyzed.stdout == here.stdout
