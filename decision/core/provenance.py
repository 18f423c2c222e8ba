"""Where a result came from: git commit, package versions, file hashes, this host and process.

Reports, run histories and sweep manifests record these so that a result can be traced and
re-created; staging folders and run records use :func:`process_alive` to tell a run that is
still going from one that was killed.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import os
import platform
import socket
import subprocess
from pathlib import Path

__all__ = [
    "VERSIONED_PACKAGES",
    "git_commit",
    "host_id",
    "installed_versions",
    "package_version",
    "package_versions",
    "process_alive",
    "sha256_file",
]

#: Packages whose versions a manifest records (besides Python itself).
VERSIONED_PACKAGES = (
    "decision",
    "pymc",
    "pytensor",
    "arviz",
    "numpy",
    "pandas",
    "scipy",
    "xarray",
    "papermill",
    "nbconvert",
    "matplotlib",
    "pandera",
    "dask",
    "SALib",
    "preliz",
    "numpyro",
    "jax",
    "jaxlib",
)


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """Return the package's git commit, ``-dirty`` when tracked files differ; None outside git."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty.strip() else "")


def package_version() -> str:
    """Return the installed version of ``decision``."""
    from decision import __version__

    return __version__


def installed_versions(names) -> dict[str, str | None]:
    """Return each distribution's installed version, None where it is not installed."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def package_versions() -> dict[str, str]:
    """Python's version and each of :data:`VERSIONED_PACKAGES` that is installed."""
    installed = installed_versions(VERSIONED_PACKAGES)
    return {"python": platform.python_version()} | {
        name: version for name, version in installed.items() if version is not None
    }


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def host_id() -> str:
    """Return a short, stable id of this machine (a hash of its host name) for staging names."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def process_alive(pid: int | None, started_at: str | dt.datetime | None = None) -> bool:
    """Whether process ``pid`` on this machine is still running.

    Parameters
    ----------
    pid
        The process id recorded by a run (None: not alive).
    started_at
        When the run started (ISO text or a datetime). A process with this pid that began
        more than a second later is a different process that reused the pid: not alive.

    Notes
    -----
    A zombie (killed, not yet reaped) counts as gone. A process of another user that cannot
    be inspected counts as alive.
    """
    import psutil

    if pid is None:
        return False
    try:
        process = psutil.Process(int(pid))
        if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return False
        began = process.create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    if started_at:
        try:
            start = (
                started_at
                if isinstance(started_at, dt.datetime)
                else dt.datetime.fromisoformat(started_at)
            )
        except ValueError:
            return True
        if began > start.timestamp() + 1.0:
            return False
    return True
