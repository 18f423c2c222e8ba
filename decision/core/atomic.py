"""Writes that either complete or leave the previous file untouched, and work done once.

:func:`work_lock` lets processes that would each do the same costly, deterministic work (a
NUTS compile, an identical fit) take turns: the second finds the first one's result.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "atomic_write_bytes",
    "fsync_folder",
    "atomic_write_text",
    "atomic_path",
    "default_folder_mode",
    "replace_directory",
    "work_lock",
]


#: A full disk, a full quota, a read-only file system.
_STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path beside ``target``; on success move it over ``target``.

    The file and then its folder are flushed to disk, so the new content survives a crash.

    The temporary file lives in the same folder so the final ``os.replace`` is atomic.
    On any exception the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
            with open(tmp_path, "rb") as fh:
                os.fsync(fh.fileno())
        except OSError as exc:
            if exc.errno in _STORAGE_ERRNOS and not exc.filename:  # say which file
                raise OSError(exc.errno, exc.strerror, str(target)) from None
            raise
        # mkstemp makes the file private (0600): give it the mode of the file it replaces,
        # or of a file created the ordinary way (0666 less the umask).
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        if tmp_path.stat().st_mode & 0o7777 == 0o600 and mode != 0o600:
            os.chmod(tmp_path, mode)
        os.replace(tmp_path, target)
        fsync_folder(target.parent)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def fsync_folder(folder: str | os.PathLike) -> None:
    """Flush a folder's entries to disk, so a rename into it survives a power cut.

    A no-op where folders cannot be opened (Windows) or on file systems that refuse it.
    """
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically and return the path."""
    return atomic_write_bytes(target, text.encode("utf-8"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_folder_mode() -> int:
    """Mode of a folder created the ordinary way (0777 less the umask)."""
    return 0o777 & ~_umask()


_RENAME_EXCHANGE = 2  # linux/fs.h
_renameat2 = None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False when the system or the file system cannot (the caller falls back);
    raises ``FileNotFoundError`` when ``b`` does not exist.
    """
    global _renameat2
    if not sys.platform.startswith("linux"):
        return False
    if _renameat2 is None:
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            function = libc.renameat2
        except (OSError, AttributeError):
            _renameat2 = False
            return False
        function.argtypes = [
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_uint,
        ]
        function.restype = ctypes.c_int
        _renameat2 = function
    if _renameat2 is False:
        return False
    import ctypes

    at_fdcwd = -100
    if _renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP):
        return False  # the file system has no atomic exchange
    raise OSError(code, os.strerror(code), str(b))


def replace_directory(staged: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Move a fully written ``staged`` folder to ``target``, replacing any previous one.

    On Linux the two folders are exchanged in one atomic step (``RENAME_EXCHANGE``), so at
    every instant ``target`` is either the old complete folder or the new one, even when the
    process is killed or another process replaces the same target at the same time (the last
    exchange wins; each replaced folder is deleted by the process that replaced it). ``staged``
    is gone afterwards either way.

    Where the file system cannot exchange, the previous folder is renamed aside first and
    deleted only after the new one is in place (``target`` is briefly absent between the
    two renames), and concurrent replacements are serialised by a lock file beside
    ``target``.
    """
    staged, target = Path(staged), Path(target)
    for _ in range(100):
        try:
            if _exchange(staged, target):
                shutil.rmtree(staged, ignore_errors=True)  # now the previous folder
                return target
            break  # no atomic exchange here
        except FileNotFoundError:
            # No previous folder: a plain rename, unless another process publishes first
            # (then the rename fails because the target is not empty and we exchange).
            try:
                os.rename(staged, target)
                return target
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
    else:  # pragma: no cover - a hundred lost races in a row
        raise OSError(errno.EBUSY, "could not replace the folder", str(target))
    return _replace_by_renames(staged, target)


def _replace_by_renames(staged: Path, target: Path) -> Path:
    import filelock

    with filelock.FileLock(str(target.with_name(f".{target.name}.lock"))):
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


@contextlib.contextmanager
def work_lock(folder: str | os.PathLike, name: str, timeout: float) -> Iterator[bool]:
    """Hold the lock file ``<folder>/<name>.lock`` while inside; yield whether it is held.

    For work whose result the next holder can find (a file, a cache entry). The lock is a
    ``flock``, so a killed holder frees it at once. Locking is only for speed: where the lock
    file cannot be made, or after ``timeout`` seconds of waiting, the work goes on unlocked.
    """
    from filelock import FileLock, Timeout

    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(Path(folder) / f"{name}.lock"), timeout=timeout)
        lock.acquire()
    except (OSError, Timeout):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
