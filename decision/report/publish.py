"""Publishing a report run: run names, staging folders, atomic publication, failed runs.

A run writes into a staging folder beside its target and is moved into ``<out>/<name>/`` only
when every file is complete (:func:`decision.core.atomic.replace_directory`), so a failed or
killed run never touches the previous report. A failed run's folder is kept under
``<out>/.failed/``; staging folders left by killed runs are removed by the next run. A full
disk or a read-only folder is one clear error naming the folder, and leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from decision.core.atomic import default_folder_mode, replace_directory
from decision.core.errors import InputError
from decision.core.provenance import host_id, process_alive

__all__ = [
    "check_run_name",
    "is_disk_full",
    "keep_failed_run",
    "publish",
    "remove_stale_staging",
    "staging_folder",
]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # used with fullmatch
_STAGING = re.compile(r"\..+\.staging-(?P<pid>\d+)\.(?P<host>[0-9a-f]{8})-[^/]*")


def check_run_name(name: str) -> str:
    """Check that a run name is a single folder name, and return it.

    Letters, digits, ``.``, ``_`` and ``-``, not starting with ``.`` or ``-`` (so never ``..``,
    a path, or a hidden folder).

    Raises
    ------
    InputError
        For any other name.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InputError(
            f"expected a run name of letters, digits, '.', '_' or '-' "
            f"(not starting with '.' or '-'), got {name!r}",
            field="name",
        )
    return name


@contextlib.contextmanager
def staging_folder(out_dir: Path, name: str) -> Iterator[Path]:
    """Give a fresh private staging folder in ``out_dir`` for run ``name``; remove it on exit.

    Stale staging folders of killed runs are removed first. An error saying the disk is full
    (or the folder read-only) inside the block is raised again as one ``OSError`` naming the
    file or ``out_dir``.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("expected a folder for reports, found a file", file=out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out_dir)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{name}.staging-{os.getpid()}.{host_id()}-", dir=out_dir)
    )
    try:
        yield staging
    except OSError as exc:
        if is_disk_full(exc) or exc.errno == errno.EROFS:  # one clear line naming the folder
            raise OSError(exc.errno, exc.strerror, exc.filename or str(out_dir)) from None
        raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, target: Path) -> None:
    """Move a complete staging folder to ``target`` in one step, replacing an earlier report."""
    os.chmod(staging, default_folder_mode())  # mkdtemp made it private
    replace_directory(staging, target)


def keep_failed_run(staging: Path, out_dir: Path, name: str) -> Path:
    """Move a failed run's staging folder to ``<out_dir>/.failed/`` and return its new path."""
    failed = out_dir / ".failed" / f"{name}-{dt.datetime.now():%Y%m%dT%H%M%S}-{os.getpid()}"
    failed.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, failed)
    return failed


def remove_stale_staging(out_dir: Path) -> None:
    """Delete staging folders left by killed runs on this machine (their process is gone)."""
    try:
        entries = list(out_dir.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _STAGING.fullmatch(entry.name)
        if (
            match
            and match["host"] == host_id()
            and not process_alive(int(match["pid"]))
            and entry.is_dir()
        ):
            shutil.rmtree(entry, ignore_errors=True)


def is_disk_full(exc: BaseException) -> bool:
    """Tell whether an error says the disk (or quota) is full, also from inside the kernel."""
    codes = (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, OSError) and exc.errno in codes:
        return True
    text = f"{getattr(exc, 'evalue', '')} {exc}"
    return any(os.strerror(code) in text for code in codes)
