"""Faults mid-write: kills at random points and full disks never leave a half-written file.

Processes killed at random points (seeded) and full disks never leave a half-written report or
a damaged ledger or run history, and a full disk is one clear line.

Kill points are drawn from a seeded generator, so a failure can be replayed. The run history's
own kill tests are in tests/monitoring/test_history.py and tests/monitoring/test_monthly.py, the
single-kill ledger test in tests/monitoring/test_ledger.py; the sweep's are with the sweep.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hardening_support import TINY_ARGS, cli, read_report_page

from decision.case import load_spec
from decision.cli import main
from decision.monitoring import RunHistory, add_observation, validate_ledger

REPORT_FILES = [
    "analysis.json",
    "manifest.json",
    "parameters.yaml",
    "report.html",
    "report.ipynb",
    "tree.svg",
]


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_complete_report(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == REPORT_FILES
    manifest = json.loads((folder / "manifest.json").read_text())
    analysis = json.loads((folder / "analysis.json").read_text())
    json.loads((folder / "report.ipynb").read_text())
    html = (folder / "report.html").read_text()
    assert html.rstrip().endswith("</html>")
    page = read_report_page(html)
    assert page.title == load_spec().reports.brief
    assert set(page.strategies) == set(analysis["options"])
    for name, value in analysis["options"].items():  # the numbers of this run, as rounded
        assert float(page.strategies[name]) == pytest.approx(value, abs=5.1e-4), name
    assert page.figures >= 10
    assert manifest["name"] == folder.name


def _kill_leftover_kernels(cache: Path) -> None:
    """Kernels of killed runs whose environment names this test's cache (ours to end)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"DECISION_CACHE_DIR={cache}".encode() in environ:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass


# ---------------------------------------------------------------------------
# Publishing a folder, killed at random points (fast: no rendering)
# ---------------------------------------------------------------------------

PUBLISHER = textwrap.dedent("""
    import sys, tempfile
    from pathlib import Path
    from decision.core.atomic import replace_directory
    target, first = Path(sys.argv[1]), int(sys.argv[2])
    for version in range(first, first + 100_000):
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
        for i in range(20):
            (staging / f"part{i:02d}.txt").write_text(f"{version}\\n" * 2000)
        replace_directory(staging, target)
""")


def _version_of(folder: Path) -> int:
    """Return the one version every file of a published folder holds (fails on a mix)."""
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"part{i:02d}.txt" for i in range(20)], names
    versions = {p.read_text() for p in folder.iterdir()}
    assert len(versions) == 1, "a mix of versions"
    lines = versions.pop().splitlines()
    assert len(lines) == 2000 and len(set(lines)) == 1, "a partly written file"
    return int(lines[0])


def test_a_publish_killed_at_random_points_leaves_a_complete_folder(tmp_path):
    rng = random.Random(20170820)
    target = tmp_path / "site" / "report"
    target.parent.mkdir()
    version = 0
    for kill in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(target), str(version + 1)], stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while not target.exists() and time.monotonic() < deadline:  # first publish
            time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 1.5))
        assert proc.poll() is None, proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
        now = _version_of(target)
        assert now > version or (kill == 0 and now >= 1)
        version = now
        # Only the published folder is visible; hidden leftovers are the killed run's own.
        assert [p.name for p in target.parent.iterdir() if not p.name.startswith(".")] == ["report"]


# ---------------------------------------------------------------------------
# `decision report`, killed at random points (slow: real renders)
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_killed_report_runs_never_leave_a_half_written_report(
    fake_nuts_processes, tmp_path, cli_env, isolated_cache
):
    rng = random.Random(4)
    out = tmp_path / "reports"

    def run(name):
        return subprocess.Popen(
            cli("report", "--out", str(out), "--name", name, *TINY_ARGS),
            env=cli_env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    started = time.monotonic()
    first = run("brief")
    _, err = first.communicate(timeout=900)
    assert first.returncode == 0, err.decode()
    duration = time.monotonic() - started  # kill points are spread over a whole run
    assert_complete_report(out / "brief")
    published = snapshot(out / "brief")
    killed = 0
    for kill, fraction in enumerate([0.15, 0.35, 0.55, 0.7, 0.8, 0.88, 0.94, 0.98]):
        name = "brief" if kill % 2 == 0 else "fresh"
        started = time.monotonic()
        proc = run(name)
        try:  # up to the end: sampling, figures, export, publishing
            proc.wait(timeout=duration * fraction * rng.uniform(0.97, 1.03))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            killed += 1
        else:
            assert proc.returncode == 0, proc.stderr.read().decode()
            duration = min(duration, time.monotonic() - started)  # later runs are quicker
        proc.stderr.close()
        _kill_leftover_kernels(isolated_cache)
        # The previous report byte for byte, or (a run that got as far as publishing) a new
        # complete one: never a mix, never partial, never missing.
        now = snapshot(out / "brief")
        if now != published:
            assert name == "brief"
            assert_complete_report(out / "brief")
            published = now
        if (out / "fresh").exists():
            assert_complete_report(out / "fresh")
        visible = {p.name for p in out.iterdir() if not p.name.startswith(".")}
        assert visible <= {"brief", "fresh", "index.html"}, visible
    assert killed >= 5
    # A clean run afterwards succeeds and clears what the killed runs left behind.
    done = subprocess.run(
        cli("report", "--out", str(out), "--name", "brief", *TINY_ARGS),
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    assert_complete_report(out / "brief")
    assert not [p for p in out.iterdir() if ".staging-" in p.name]


# ---------------------------------------------------------------------------
# `decision observe add`, killed at random points
# ---------------------------------------------------------------------------

ADDER = textwrap.dedent("""
    import datetime as dt, sys
    from decision.cli import main
    from decision.monitoring import validate_ledger
    path = sys.argv[1]
    try:
        first = len(validate_ledger(path))
    except Exception:
        first = 0
    for i in range(first, 100_000):
        day = dt.date(2017, 9, 1) + dt.timedelta(days=i // 3)
        code = main(["observe", "add", "--ledger", path, "--date", day.isoformat(),
                     "--actor", "DPRK", "--kind", "suspected_export", "--value", "1",
                     "--confidence", "0.5", "--source", f"synthetic test data attempt {i}",
                     "--note", "synthetic row with some text to make the write take longer"])
        assert code == 0
""")


def _check_prefix(path: Path) -> int:
    frame = validate_ledger(path)
    n = len(frame)
    assert list(frame["source"]) == [f"synthetic test data attempt {i}" for i in range(n)]
    text = path.read_text()
    assert text.endswith("\n") and text.count("\n") == n + 1
    return n


def test_observe_add_killed_at_random_points_keeps_a_valid_prefix(tmp_path):
    rng = random.Random(1718)
    path = tmp_path / "synthetic_ledger.csv"
    rows = 0
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", ADDER, str(path)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        try:
            while time.monotonic() < deadline:  # in the add loop: two more rows written
                if path.exists() and path.read_bytes().count(b"\n") >= rows + 3:
                    break
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.25))  # somewhere inside a later add
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stderr.close()
        now = _check_prefix(path)
        assert now >= rows + 2
        rows = now
    # Killing the real command line at random points, start-up included.
    for _ in range(4):
        proc = subprocess.Popen(
            cli(
                "observe",
                "add",
                "--ledger",
                str(path),
                "--date",
                "2019-01-01",
                "--actor",
                "DPRK",
                "--kind",
                "suspected_export",
                "--value",
                "1",
                "--confidence",
                "0.5",
                "--source",
                f"synthetic test data attempt {rows}",
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            proc.wait(timeout=rng.uniform(0.2, 3.0))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        proc.stderr.close()
        rows = _check_prefix(path)
    # The lock died with the processes: the next add goes through at once.
    add_observation(
        path,
        date="2019-02-01",
        actor="DPRK",
        kind="nuclear_test",
        value=1,
        source="synthetic test data",
        lock_timeout=5,
    )


# ---------------------------------------------------------------------------
# A full disk
# ---------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """Give a 4 MB tmpfs when this process may mount one, else a plain folder.

    Mounting needs root with CAP_SYS_ADMIN; in a plain folder the tests simulate ENOSPC where
    the package writes.
    """
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = False
    if os.geteuid() == 0 and shutil.which("mount"):
        mounted = (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
            ).returncode
            == 0
        )
    try:
        yield disk, mounted
    finally:
        if mounted:
            if subprocess.run(["umount", str(disk)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill(disk: Path, leave: int = 0) -> None:
    """Write filler files until the file system is full, or has about ``leave`` bytes free."""
    if leave:
        stat = os.statvfs(disk)
        (disk / "filler0").write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - leave))
        return
    size = 1 << 16
    with open(disk / "filler", "wb", buffering=0) as fh:
        while size:
            try:
                fh.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                size //= 2


#: A stage line of the progress reporter without a terminal: ``[   1.2s] brief: ...``.
PROGRESS_LINE = re.compile(r"\[\s*\d+(\.\d+)?s\] ")


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _one_clear_line(err: str, path: Path) -> None:
    """Check that, after the progress lines, the error is one clear line."""
    lines = [line for line in err.strip().splitlines() if not PROGRESS_LINE.match(line)]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "no space left on device" in lines[0], err
    assert "nothing was overwritten" in lines[0] and str(path) in lines[0], err
    assert "Traceback" not in err


def test_a_full_disk_fails_a_report_in_one_line_and_keeps_earlier_reports(
    brief_render, small_disk, monkeypatch, capsys
):
    disk, mounted = small_disk
    out = disk / "reports"
    shutil.copytree(brief_render, out / "brief")
    (out / "index.html").write_text("<!doctype html><title>earlier index</title>")
    before = snapshot(out)
    if mounted:
        fill(disk)
    else:
        real = Path.write_text

        def write_text(self, *args, **kwargs):
            if str(self).startswith(str(out)):
                _enospc()
            return real(self, *args, **kwargs)

        monkeypatch.setattr(Path, "write_text", write_text)
    assert main(["report", "--out", str(out), "--name", "brief", *TINY_ARGS]) == 2
    _one_clear_line(capsys.readouterr().err, out)
    assert snapshot(out) == before  # no staging folder left, nothing changed


def test_a_full_disk_fails_observe_add_in_one_line_and_keeps_the_ledger(
    small_disk, monkeypatch, capsys
):
    disk, mounted = small_disk
    ledger = disk / "synthetic_ledger.csv"
    for day in ("2017-09-03", "2017-09-10"):
        add_observation(
            ledger,
            date=day,
            actor="DPRK",
            kind="suspected_export",
            value=1,
            confidence=0.5,
            source=f"synthetic test data {day}",
        )
    before = snapshot(disk)
    if mounted:
        fill(disk)
        before = snapshot(disk)
    else:
        monkeypatch.setattr(os, "fsync", _enospc)
    assert (
        main(
            [
                "observe",
                "add",
                "--ledger",
                str(ledger),
                "--date",
                "2017-09-20",
                "--actor",
                "DPRK",
                "--kind",
                "nuclear_test",
                "--value",
                "1",
                "--source",
                "synthetic test data",
            ]
        )
        == 2
    )
    _one_clear_line(capsys.readouterr().err, ledger)
    assert snapshot(disk) == before  # the ledger as it was, no temporary file left
    assert len(validate_ledger(ledger)) == 2


def test_a_full_disk_keeps_the_run_history(small_disk, capsys):
    disk, mounted = small_disk
    if not mounted:
        pytest.skip(
            "needs a small tmpfs (root with CAP_SYS_ADMIN); SQLite's own writes "
            "cannot be made to fail from Python"
        )
    path = disk / "history.sqlite"
    runs = RunHistory(path)
    runs.finish(
        runs.start("2017-09", {"draws": 40}, {"ledger": "0" * 64}), {"p_dprk_complies": 0.1}
    )
    fill(disk)
    with pytest.raises(OSError) as info:
        for _ in range(1000):  # until a page must be added
            runs.finish(
                runs.start("2017-10", {"draws": 40, "pad": "x" * 4000}, {"ledger": "1" * 64}),
                {"p_dprk_complies": 0.2},
            )
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    for filler in disk.glob("filler*"):  # with space again, everything earlier is there
        filler.unlink()
    assert runs.integrity_check() == "ok"
    table = runs.runs()
    assert "2017-09" in set(table["month"])
    assert set(table.loc[table["month"] == "2017-09", "status"]) == {"succeeded"}


@pytest.mark.slow
def test_a_disk_that_fills_up_mid_render_keeps_the_earlier_report(
    brief_render, small_disk, cli_env, tmp_path
):
    disk, mounted = small_disk
    if not mounted:
        pytest.skip("needs a small tmpfs (root with CAP_SYS_ADMIN)")
    out = disk / "reports"
    shutil.copytree(brief_render, out / "brief")
    fill(disk, leave=1_200_000)  # the run executes; its notebook fits, report.html does not
    before = snapshot(out)
    done = subprocess.run(
        cli("report", "--out", str(out), "--name", "brief", *TINY_ARGS),
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 2, done.stderr
    _one_clear_line(
        "\n".join(
            line for line in done.stderr.splitlines() if not line.startswith("[IPKernelApp]")
        ),
        out,
    )
    assert snapshot(out) == before
    assert not (out / ".failed").exists()  # nothing kept on a full disk
