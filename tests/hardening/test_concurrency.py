"""Concurrency: reports published at once into one ``reports/`` folder never corrupt each other.

Two processes replacing the same folder leave one complete version (never a mix, never
missing); the index lists every report; two real renders of the same name end as one of them.
(Sweeps sharing an output folder are tested with the sweep.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from hardening_support import TINY_ARGS, cli, read_report_page

PUBLISHER = textwrap.dedent("""
    import sys, tempfile
    from pathlib import Path
    from decision.core.atomic import replace_directory
    target, who, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    for version in range(count):
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
        for i in range(10):
            (staging / f"part{i}.txt").write_text(f"{who} {version}\\n" * 500)
        replace_directory(staging, target)
""")


def _read_consistently(target: Path) -> set[str] | None:
    """Read the versions in a folder through one handle on it (None: replaced under us)."""
    fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)  # must never be missing
    try:
        seen = set()
        for i in range(10):
            try:
                part = os.open(f"part{i}.txt", os.O_RDONLY, dir_fd=fd)
            except FileNotFoundError:
                return None  # the folder we hold was replaced and is being deleted
            with os.fdopen(part) as fh:
                lines = set(fh.read().splitlines())
            if not lines:
                return None
            seen |= lines
        return seen
    finally:
        os.close(fd)


def test_two_processes_replacing_one_folder_leave_one_complete_version(tmp_path):
    target = tmp_path / "reports" / "same"
    target.parent.mkdir()
    subprocess.run([sys.executable, "-c", PUBLISHER, str(target), "first", "1"], check=True)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(target), who, "150"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("a", "b")
    ]
    samples, mixes = 0, []
    while any(p.poll() is None for p in procs):
        versions = _read_consistently(target)
        if versions is not None:
            samples += 1
            if len(versions) != 1:
                mixes.append(versions)
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert samples > 20 and mixes == []
    final = _read_consistently(target)
    assert final in ({"a 149"}, {"b 149"})
    assert [p.name for p in target.parent.iterdir() if not p.name.endswith(".lock")] == [
        "same"
    ]  # every replaced folder deleted


INDEXER = textwrap.dedent("""
    import json, sys, tempfile
    from pathlib import Path
    from decision.core.atomic import replace_directory
    from decision.report import write_index
    out, who, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    for i in range(count):
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
        (staging / "manifest.json").write_text(json.dumps(
            {"template": "brief", "name": f"{who}{i}", "created": f"{i:04d}",
             "parameters": {"as_of": "2017-08-20"}}))
        (staging / "report.html").write_text("<!doctype html><title>r</title>")
        replace_directory(staging, out / f"{who}{i}")
        write_index(out)
""")


def test_the_index_lists_every_report_published_at_once(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", INDEXER, str(out), who, "40"], stderr=subprocess.PIPE, text=True
        )
        for who in ("a", "b")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    index = (out / "index.html").read_text()
    for who in ("a", "b"):
        for i in range(40):
            assert f'href="{who}{i}/report.html"' in index, f"{who}{i}"
    assert ".staging" not in index


def _seed_of(folder: Path) -> int:
    """Return the seed of a published report, checked to be the same in every file of it."""
    manifest = json.loads((folder / "manifest.json").read_text())
    parameters = yaml.safe_load((folder / "parameters.yaml").read_text())
    notebook = json.loads((folder / "report.ipynb").read_text())
    injected = next(
        c for c in notebook["cells"] if "injected-parameters" in c["metadata"].get("tags", [])
    )
    seeds = {manifest["seed"], manifest["parameters"]["seed"], parameters["seed"]}
    assert len(seeds) == 1, seeds
    seed = seeds.pop()
    assert f"seed = {seed}\n" in "".join(injected["source"]) + "\n"
    analysis = json.loads((folder / "analysis.json").read_text())
    html = (folder / "report.html").read_text()
    page = read_report_page(html)
    assert set(page.strategies) == set(analysis["options"]) and page.figures >= 10
    for name, value in analysis["options"].items():  # the numbers of this run, as rounded
        assert float(page.strategies[name]) == pytest.approx(value, abs=5.1e-4), name
    best = analysis["recommendation"]
    assert f"{analysis['options'][best]:.3f} points" in html
    return seed


@pytest.mark.slow
def test_reports_rendered_at_once_into_one_folder(fake_nuts_processes, tmp_path, cli_env):
    out = tmp_path / "reports"
    runs = [("same", 1), ("same", 2), ("other", 3)]
    procs = [
        subprocess.Popen(
            cli("report", "--out", str(out), "--name", name, *TINY_ARGS, "-p", f"seed={seed}"),
            env=cli_env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, seed in runs
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=1200)
        assert proc.returncode == 0, err
    assert _seed_of(out / "same") in (1, 2)  # one whole run, whichever published last
    assert _seed_of(out / "other") == 3
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "index.html",
        "other",
        "same",
    ]
    assert not [p for p in out.iterdir() if ".staging-" in p.name or ".old-" in p.name]
    index = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    assert sorted(a["href"] for a in index.find_all("a")) == [
        "other/report.html",
        "same/report.html",
    ]
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in index.find_all("tr")[1:]]
    assert sorted(row[0] for row in rows) == ["other", "same"]
    assert all(row[1] == "brief" for row in rows)
    rendered = [row[3] for row in rows]
    assert rendered == sorted(rendered, reverse=True)  # newest first


def test_a_file_system_without_atomic_exchange_still_publishes_safely(tmp_path, monkeypatch):
    """Publish with the fallback used where RENAME_EXCHANGE is missing: the result is the same.

    Where the exchange is missing (not Linux, some file systems) the fallback renames under a lock.
    """
    from decision.core import atomic

    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target = tmp_path / "report"
    for version in range(3):
        staging = tmp_path / f".staging{version}"
        staging.mkdir()
        (staging / "part.txt").write_text(str(version))
        atomic.replace_directory(staging, target)
        assert (target / "part.txt").read_text() == str(version) and not staging.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".report.lock", "report"]


def test_concurrent_threads_in_one_process(tmp_path):
    """Two threads of one program publishing the same name: the same guarantees."""
    from decision.core.atomic import replace_directory

    target = tmp_path / "same"
    errors = []

    def publish(who):
        try:
            for version in range(50):
                staging = tmp_path / f".{who}-{version}"
                staging.mkdir()
                for i in range(5):
                    (staging / f"part{i}.txt").write_text(f"{who} {version}")
                replace_directory(staging, target)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(who,)) for who in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    contents = {(target / f"part{i}.txt").read_text() for i in range(5)}
    assert contents in ({"a 49"}, {"b 49"})
    assert [p.name for p in tmp_path.iterdir()] == ["same"]
