"""Publishing a run: run names, staging folders, failed and stale runs, a full disk."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from decision.core.atomic import default_folder_mode
from decision.core.errors import InputError
from decision.core.provenance import host_id
from decision.report.publish import (
    check_run_name,
    is_disk_full,
    keep_failed_run,
    publish,
    remove_stale_staging,
    staging_folder,
)


@pytest.mark.parametrize("name", ["brief", "2017-09", "sensitivity-readiness-first", "a.b_c"])
def test_run_names_are_single_folder_names(name):
    assert check_run_name(name) == name


@pytest.mark.parametrize("name", ["", ".hidden", "-x", "../up", "a/b", "x" * 101, 3])
def test_other_run_names_are_refused(name):
    with pytest.raises(InputError, match="run name") as info:
        check_run_name(name)
    assert info.value.field == "name"


def test_a_staged_run_is_published_in_one_step_and_leaves_no_staging(tmp_path):
    out = tmp_path / "reports"
    (out / "brief").mkdir(parents=True)
    (out / "brief" / "report.html").write_text("earlier")
    with staging_folder(out, "brief") as staging:
        assert staging.parent == out and staging.name.startswith(f".brief.staging-{os.getpid()}.")
        (staging / "report.html").write_text("new")
        publish(staging, out / "brief")
    assert (out / "brief" / "report.html").read_text() == "new"
    assert (out / "brief").stat().st_mode & 0o777 == default_folder_mode()
    assert sorted(p.name for p in out.iterdir()) == ["brief"]


def test_a_failed_run_leaves_the_earlier_report_and_keeps_its_folder(tmp_path):
    out = tmp_path / "reports"
    (out / "brief").mkdir(parents=True)
    (out / "brief" / "report.html").write_text("earlier")
    with pytest.raises(RuntimeError, match="synthetic"):
        with staging_folder(out, "brief") as staging:
            (staging / "report.ipynb").write_text("{}")
            failed = keep_failed_run(staging, out, "brief")
            raise RuntimeError("synthetic failure")
    assert failed.parent == out / ".failed" and failed.name.startswith("brief-")
    assert (failed / "report.ipynb").read_text() == "{}"
    assert (out / "brief" / "report.html").read_text() == "earlier"
    assert sorted(p.name for p in out.iterdir()) == [".failed", "brief"]


def test_a_full_disk_inside_a_run_is_one_error_naming_the_folder(tmp_path):
    out = tmp_path / "reports"
    with pytest.raises(OSError) as info:
        with staging_folder(out, "brief"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert (info.value.errno, info.value.filename) == (errno.ENOSPC, str(out))
    assert list(out.iterdir()) == []


def test_a_full_disk_is_recognised_also_from_the_kernels_message():
    assert is_disk_full(OSError(errno.EDQUOT, "quota"))
    kernel_error = RuntimeError(f"OSError: [Errno 28] {os.strerror(errno.ENOSPC)}")
    assert is_disk_full(kernel_error)
    assert not is_disk_full(OSError(errno.EACCES, os.strerror(errno.EACCES)))


def test_staging_folders_of_killed_runs_are_removed_and_live_ones_kept(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(ended.stdout)
    dead = out / f".brief.staging-{dead_pid}.{host_id()}-abc"
    live = out / f".brief.staging-{os.getpid()}.{host_id()}-def"
    elsewhere = out / f".brief.staging-{dead_pid}.00000000-ghi"  # another machine's run
    for folder in (dead, live, elsewhere):
        folder.mkdir()
    remove_stale_staging(out)
    assert sorted(p.name for p in out.iterdir()) == sorted([live.name, elsewhere.name])
