"""What a long run is doing: stages with elapsed time, a progress bar on a terminal.

The command line makes one :class:`Progress` per command and passes it down to the library
calls that take ``progress=``; those default to :func:`current`, which is silent unless a
reporter was made active with :func:`activate`, so every library function stays usable
without one (in a notebook they show nothing). A reporter has three modes:

=========  ============================================================================
``bar``    On a terminal: one rich progress bar per stage (stages stay listed with their
           time when done) and notes printed above the bars. PyMC may draw its own sampling
           bar meanwhile (:meth:`Progress.sampler_display`).
``lines``  Otherwise (cron, CI, a pipe): one line per stage, ``[   12.3s] title``, the
           time counted from the start of the command.
``quiet``  Nothing (``--quiet``): the command prints only its final line.
=========  ============================================================================

``auto`` picks ``bar`` when the stream (standard error) is a terminal, else ``lines``.

A report's notebook runs in a kernel, another process. While a report renders, the
environment variable :data:`RELAY_VARIABLE` names a file; in the kernel, :func:`current`
returns a reporter that appends each stage and note to it as a JSON line, and the renderer
reads them back with :class:`RelayReader` and shows them on its own reporter.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "MODES",
    "RELAY_VARIABLE",
    "Progress",
    "RelayReader",
    "Stage",
    "activate",
    "current",
]

#: The modes of a :class:`Progress` (``auto`` chooses between the first two).
MODES = ("bar", "lines", "quiet")

#: Names the file a report kernel relays its stages and notes to (set by the renderer).
RELAY_VARIABLE = "DECISION_PROGRESS_FILE"

#: Third-party loggers that narrate sampling line by line; above ERROR only on a terminal.
_CHATTY_LOGGERS = ("pymc", "pytensor")


class Stage:
    """One stage of a run: a title, optionally a number of steps, and what it is doing now.

    Made by :meth:`Progress.stage`; ends when the next stage starts, when :meth:`done` is
    called, or at the end of a ``with`` block.
    """

    def __init__(
        self, progress: Progress, title: str, total: int | None, completed: int, prefix: str = ""
    ):
        self.progress = progress
        self.prefix = prefix
        self.title = prefix + title
        self.total = total
        self.completed = completed
        self.detail = ""
        self.finished = False
        self._task = None

    def __enter__(self) -> Stage:
        """Return the stage."""
        return self

    def __exit__(self, *exc_info) -> None:
        """End the stage."""
        self.done()

    def advance(self, steps: int = 1) -> None:
        """Count ``steps`` more steps done."""
        self.completed += steps
        self.progress._update(self)

    def describe(self, detail: str, *, line: bool = False) -> None:
        """Show what the stage is doing now; with ``line`` also as a line in ``lines`` mode."""
        self.detail = detail
        self.progress._update(self)
        if line:  # the line says what is done now, under the run's label
            self.progress._line(self.prefix + detail)

    def done(self) -> None:
        """End the stage (a finished stage's bar stays on the terminal, complete)."""
        if not self.finished:
            self.finished = True
            self.progress._finish(self)


class Progress:
    """Shows the stages of a run as bars on a terminal, as lines otherwise, or not at all.

    Parameters
    ----------
    mode
        ``auto``, ``bar``, ``lines`` or ``quiet`` (see the module docstring).
    stream
        Where to write (default: standard error, so standard output keeps the results).

    Use it as a context manager around the run: it starts the clock and the terminal display.
    """

    def __init__(self, mode: str = "auto", *, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        if mode == "auto":
            mode = "bar" if _is_terminal(self.stream) else "lines"
        if mode not in MODES:
            raise ValueError(f"unknown progress mode {mode!r} (expected auto or one of {MODES})")
        self.mode = mode
        self.started = time.monotonic()
        self._label: list[str] = []
        self._stage: Stage | None = None
        self._lock = threading.RLock()
        self._rich = None

    # -- the run ----------------------------------------------------------------------------
    def __enter__(self) -> Progress:
        """Start the run."""
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        """End the run."""
        self.stop()

    def start(self) -> None:
        """Start the clock and, on a terminal, the live display."""
        self.started = time.monotonic()
        if self.mode == "bar" and self._rich is None:
            self._rich = _rich_progress(self.stream)
            self._rich.start()

    def stop(self) -> None:
        """End the open stage and the live display."""
        if self._stage is not None:
            self._stage.done()
        if self._rich is not None:
            self._rich.stop()
            self._rich = None

    @property
    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.started

    # -- what callers use -------------------------------------------------------------------
    def stage(
        self, title: str, *, total: int | None = None, completed: int = 0, estimate: bool = False
    ) -> Stage:
        """Start a stage (ending the one before).

        ``total`` steps if known, ``completed`` of them already done; ``estimate`` shows the
        time left on a terminal (for steps of similar length, such as a sweep's scenarios).
        """
        with self._lock:
            if self._stage is not None:
                self._stage.done()
            stage = Stage(self, title, total, completed, prefix=self._labelled(""))
            self._stage = stage
            if self._rich is not None:
                stage._task = self._rich.add_task(
                    stage.title, total=total, completed=completed, estimate=estimate
                )
            self._line(stage.title)
            return stage

    def note(self, text: str) -> None:
        """Say something worth knowing about the run (``posteriors served from the cache``)."""
        with self._lock:
            if self._rich is not None:
                self._rich.console.print(self._labelled(text), markup=False, highlight=False)
            else:
                self._line(self._labelled(text))

    @contextlib.contextmanager
    def labelled(self, label: str) -> Iterator[Progress]:
        """Prefix every stage and note inside the block with ``label:`` (a report's name)."""
        self._label.append(label)
        try:
            yield self
        finally:
            self._label.pop()

    @contextlib.contextmanager
    def sampler_display(self) -> Iterator[bool]:
        """Hand the terminal to the sampler's own progress bar for the block.

        Yields whether the sampler should draw its bar: only when this reporter shows bars
        (the live display pauses meanwhile, so the two do not overwrite each other). Without
        bars, the sampler's own log lines (``Initializing NUTS ...``) are held back to errors
        for the block: the stage line says what is happening.
        """
        if self._rich is None:
            # PyMC sets its logger's level when first imported: import it before changing it.
            with contextlib.suppress(ImportError):
                importlib.import_module("pymc")
            saved = {name: logging.getLogger(name).level for name in _CHATTY_LOGGERS}
            for name in _CHATTY_LOGGERS:
                logging.getLogger(name).setLevel(logging.ERROR)
            try:
                yield False
            finally:
                for name, level in saved.items():
                    logging.getLogger(name).setLevel(level)
            return
        self._rich.stop()
        try:
            yield True
        finally:
            self._rich.start()

    # -- display ------------------------------------------------------------------------------
    def _labelled(self, text: str) -> str:
        return "".join(f"{label}: " for label in self._label) + text

    def _line(self, text: str) -> None:
        if self.mode != "lines":
            return
        with self._lock:
            self.stream.write(f"[{self.elapsed:7.1f}s] {text}\n")
            self.stream.flush()

    def _update(self, stage: Stage) -> None:
        if self._rich is None or stage._task is None:
            return
        description = stage.prefix + stage.detail if stage.detail else stage.title
        self._rich.update(stage._task, completed=stage.completed, description=description)

    def _finish(self, stage: Stage) -> None:
        with self._lock:
            if self._stage is stage:
                self._stage = None
            if self._rich is not None and stage._task is not None:
                # A stage of unknown length shows as complete once done.
                total = stage.total if stage.total is not None else max(stage.completed, 1)
                self._rich.update(
                    stage._task, total=total, completed=total, description=stage.title
                )
                self._rich.stop_task(stage._task)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


def _rich_progress(stream: TextIO):
    """Make a rich progress display: spinner, stage, bar, share done, time elapsed and left."""
    from rich import progress as rich
    from rich.console import Console
    from rich.text import Text

    class TimeLeft(rich.ProgressColumn):
        """Time left, for stages that asked for an estimate."""

        def render(self, task) -> Text:
            left = task.time_remaining
            if not task.fields.get("estimate") or task.finished or left is None:
                return Text("")
            minutes, seconds = divmod(int(left), 60)
            return Text(f"{minutes}:{seconds:02d} left", style="progress.remaining")

    return rich.Progress(
        rich.SpinnerColumn(finished_text="[green]✓[/green]"),
        rich.TextColumn("{task.description}"),
        rich.BarColumn(),
        rich.TaskProgressColumn(),
        rich.TimeElapsedColumn(),
        TimeLeft(),
        console=Console(file=stream),
    )


class _Relay(Progress):
    """The reporter inside a report kernel: stages and notes appended to a file as JSON lines."""

    def __init__(self, path: str):
        super().__init__("quiet")
        self.path = Path(path)

    def _send(self, kind: str, text: str) -> None:
        with self._lock, contextlib.suppress(OSError):
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"kind": kind, "text": text}) + "\n")

    def stage(
        self, title: str, *, total: int | None = None, completed: int = 0, estimate: bool = False
    ) -> Stage:
        """Relay the stage's title (its steps stay in the kernel)."""
        self._send("stage", self._labelled(title))
        return Stage(self, title, total, completed)

    def note(self, text: str) -> None:
        """Relay the note."""
        self._send("note", self._labelled(text))

    @contextlib.contextmanager
    def sampler_display(self) -> Iterator[bool]:
        """Draw no sampler bar; leave the sampler's log lines to the notebook's output."""
        yield False


class RelayReader:
    """Reads what a report kernel relays (see :data:`RELAY_VARIABLE`) while it runs.

    Parameters
    ----------
    path
        The relay file (it need not exist yet).
    handle
        Called as ``handle(kind, text)`` for each event, ``kind`` being ``stage`` or ``note``.
    interval
        Seconds between looks at the file.

    Use it as a context manager around the kernel's run: a thread reads new events as they
    are written, and on exit the last ones are read and the thread stopped.
    """

    def __init__(self, path: str | os.PathLike, handle: Callable[[str, str], Any], *, interval=0.2):
        self.path = Path(path)
        self.handle = handle
        self.interval = interval
        self._offset = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="decision-relay", daemon=True)

    def __enter__(self) -> RelayReader:
        """Start reading in a thread."""
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        """Stop the thread and handle the last events."""
        self._stop.set()
        self._thread.join()
        self.read()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.read()

    def read(self) -> None:
        """Handle the complete lines written since the last read."""
        try:
            with self.path.open("rb") as source:
                source.seek(self._offset)
                data = source.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1
        self._offset += end
        for raw in data[:end].splitlines():
            try:
                event = json.loads(raw)
                kind, text = str(event["kind"]), str(event["text"])
            except (ValueError, KeyError, TypeError):
                continue  # not an event: ignore it rather than stop the report
            self.handle(kind, text)


_SILENT = Progress("quiet")
_ACTIVE: contextvars.ContextVar[Progress | None] = contextvars.ContextVar(
    "decision_progress", default=None
)
_RELAYS: dict[str, _Relay] = {}


def current() -> Progress:
    """Return the reporter library calls use when none is passed.

    The one made active with :func:`activate`; in a report kernel, the relay to the renderer;
    otherwise a silent one.
    """
    active = _ACTIVE.get()
    if active is not None:
        return active
    path = os.environ.get(RELAY_VARIABLE)
    if path:
        if path not in _RELAYS:
            _RELAYS[path] = _Relay(path)
        return _RELAYS[path]
    return _SILENT


@contextlib.contextmanager
def activate(progress: Progress | None) -> Iterator[Progress]:
    """Make ``progress`` what :func:`current` returns inside the block (``None``: unchanged)."""
    if progress is None:
        yield current()
        return
    token = _ACTIVE.set(progress)
    try:
        yield progress
    finally:
        _ACTIVE.reset(token)
