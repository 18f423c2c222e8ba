"""Processes that need the same NUTS program compile it one at a time.

The second reads the program from JAX's persistent cache. The lock is tested here without
compiling anything; the saving was measured by hand (see ``decision/models/compiled.py``).
"""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from decision.models import compiled

HOLDER = """
import sys
from decision.models import compiled
with compiled._compile_lock(("Model", "structure", 30, 30, 2, 0.9)):
    print("holding", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def compile_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DECISION_COMPILE_CACHE_DIR", str(tmp_path / "compile"))
    return tmp_path / "compile"


@pytest.fixture
def holder(compile_cache):
    """Another process holding the lock of one program until told to let go."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "holding"
    yield process
    process.kill()
    process.wait()


def _enter_in_thread(key) -> threading.Event:
    entered = threading.Event()

    def run():
        with compiled._compile_lock(key):
            entered.set()

    threading.Thread(target=run, daemon=True).start()
    return entered


def test_the_same_program_waits_for_the_other_process(holder):
    entered = _enter_in_thread(("Model", "structure", 30, 30, 2, 0.9))
    assert not entered.wait(1.0), "entered while another process compiled the same program"
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert entered.wait(30.0)


def test_another_program_or_a_killed_holder_does_not_wait(holder):
    assert _enter_in_thread(("Model", "structure", 31, 30, 2, 0.9)).wait(30.0)
    holder.kill()
    holder.wait()
    assert _enter_in_thread(("Model", "structure", 30, 30, 2, 0.9)).wait(30.0)


def test_without_a_writable_cache_folder_the_program_compiles_unlocked(compile_cache):
    compile_cache.parent.mkdir(parents=True, exist_ok=True)
    compile_cache.write_text("a file where the folder would go")
    with compiled._compile_lock(("Model", "structure", 30, 30, 2, 0.9)):
        pass
