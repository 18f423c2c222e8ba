"""What ``decision report`` shows while it works: on a terminal, in a pipe, and with --quiet.

Three real renders on a tiny sampler budget share one posterior cache: the first (on a
pseudo-terminal) samples, the other two are served from the cache and say so.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

TINY = ["-p", "draws=30", "-p", "tune=30", "-p", "chains=2", "-p", "cores=1"]
LINE = re.compile(r"^\[ *\d+\.\ds\] brief: ")
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
KERNEL_NOISE = ("running over TCP without encryption", "IPKernelApp")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("progress")
    env = {
        **os.environ,
        "DECISION_CACHE_DIR": str(root / "cache"),
        "MPLBACKEND": "Agg",
        "TERM": "xterm-256color",
        "COLUMNS": "160",
    }
    env.pop("NO_COLOR", None)
    return root, env


def _command(out) -> list[str]:
    return [sys.executable, "-m", "decision.cli", "report", *TINY, "--out", str(out)]


def _under_a_terminal(command: list[str], env: dict, timeout: float = 600.0) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal (160 x 50) as its stdout and stderr."""
    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    proc = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=child_fd, stderr=child_fd, env=env
    )
    os.close(child_fd)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main_fd], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(main_fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main_fd)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def terminal_run(workspace):
    root, env = workspace
    return _under_a_terminal(_command(root / "terminal"), env)


def test_on_a_terminal_stages_and_a_progress_bar_are_shown(terminal_run):
    status, output = terminal_run
    assert status == 0, output[-3000:]
    assert "\x1b[" in output and "\r" in output  # a live display, redrawn in place
    text = ESCAPE.sub("", output)
    assert "━" in text and re.search(r"\b\d{1,3}%", text)  # the bar and its share done
    for stage in ("starting the kernel", "running the notebook", "exporting HTML", "publishing"):
        assert f"brief: {stage}" in text, stage
    # The bar is redrawn ten times a second: long cells are seen, quick ones may not be.
    assert re.search(r"brief: cell \d+ of \d+: setting up: DPRK model: sampling 2 chains", text)
    assert len(set(re.findall(r"brief: cell (\d+) of \d+: ", text))) >= 2  # more than one cell
    assert not any(noise in text for noise in KERNEL_NOISE)
    assert text.rstrip().splitlines()[-1].startswith("report written to ")


def test_without_a_terminal_each_stage_is_one_line(workspace, terminal_run):
    root, env = workspace
    done = subprocess.run(
        _command(root / "pipe"), env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"report written to {root / 'pipe' / 'brief' / 'report.html'}"
    ]
    lines = done.stderr.splitlines()
    assert lines and all(LINE.match(line) for line in lines), done.stderr
    assert "\r" not in done.stderr and "\x1b" not in done.stderr and "━" not in done.stderr
    said = [LINE.sub("", line) for line in lines]
    for stage in ("starting the kernel", "running the notebook", "exporting HTML", "publishing"):
        assert said.count(stage) == 1, (stage, said)
    sections = [s.split(": ", 1)[1] for s in said if re.match(r"cell \d+ of \d+: [^:]+$", s)]
    assert sections[0] == "setting up" and "The recommendation" in sections
    assert len(sections) == len(set(sections))  # one line per section, not per cell
    assert "posteriors served from the cache" in said  # the terminal run filled the cache
    elapsed = [float(re.match(r"^\[ *(\d+\.\d)s\]", line).group(1)) for line in lines]
    assert elapsed == sorted(elapsed)
    assert not any(noise in done.stderr for noise in KERNEL_NOISE)


def test_quiet_prints_only_the_final_line(workspace, terminal_run):
    root, env = workspace
    done = subprocess.run(
        [*_command(root / "quiet"), "--quiet"], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        f"report written to {root / 'quiet' / 'brief' / 'report.html'}"
    ]
    status, output = _under_a_terminal([*_command(root / "quiet-terminal"), "-q"], env)
    assert status == 0
    assert ESCAPE.sub("", output).strip().splitlines() == [
        f"report written to {root / 'quiet-terminal' / 'brief' / 'report.html'}"
    ]
