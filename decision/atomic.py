"""Writes that either complete or leave the previous file untouched."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_path", "replace_directory"]


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path beside ``target``; on success move it over ``target``.

    The temporary file lives in the same folder so the final ``os.replace`` is atomic.
    On any exception the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically and return the path."""
    return atomic_write_bytes(target, text.encode("utf-8"))


def replace_directory(staged: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Move a fully written ``staged`` folder to ``target``, replacing any previous one.

    The previous folder is renamed aside first and deleted only after the new one is in
    place, so at every instant ``target`` is either the old complete folder or the new one
    (apart from the instant between the two renames, when it is briefly absent).
    """
    staged, target = Path(staged), Path(target)
    backup = None
    if target.exists():
        backup = target.with_name(f".{target.name}.old-{os.getpid()}")
        if backup.exists():
            shutil.rmtree(backup)
        os.replace(target, backup)
    try:
        os.replace(staged, target)
    except BaseException:
        if backup is not None:
            os.replace(backup, target)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
    return target
