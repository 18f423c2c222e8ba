"""Helpers and hostile inputs shared by the hardening tests.

Imported as ``hardening_support``: ``conftest.py`` registers this file under that name, since
the suite runs with ``--import-mode=importlib`` and test modules cannot import each other.
"""

from __future__ import annotations

import contextlib
import dataclasses
import resource
import sys
import tracemalloc
from pathlib import Path

from bs4 import BeautifulSoup

from decision.monitoring.ledger import add_observation
from decision.testing import cli_parameters, report_parameters

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
TINY = report_parameters()
TINY_ARGS = cli_parameters()

#: Text from input files that must show as text: markup, script, and Markdown that would
#: fetch (image), run (javascript: link) or load a library (mermaid) if it were rendered.
HOSTILE_NAME = "<script>document.title='pwned-name'</script>"
HOSTILE_DESCRIPTION = (
    "<script>document.title='pwned-description'</script> "
    "<img src=x onerror=\"document.title='pwned-img'\"> "
    "![pixel](https://tracker.invalid/pixel.png) "
    "[click](javascript:document.title='pwned-link') "
    "<https://tracker.invalid/autolink> https://tracker.invalid/bare\n"
    "```mermaid\ngraph TD; A-->B\n```\n"
    "# not a heading\n"
    "- not a list"
)
HOSTILE_RATIONALE = "<img src=x onerror=alert('rationale')> ![r](https://tracker.invalid/r.png)"
HOSTILE_SOURCE = "<script>document.title='pwned-source'</script>"
HOSTILE_NOTE = "![n](https://tracker.invalid/note.png) <b onmouseover=alert(1)>bold</b>"
#: A file name that would be code if a parameter were pasted into the notebook unquoted.
HOSTILE_FILE_STEM = 'x", __import__("os").mkdir("PWNED"), "'


def cli(*args: str) -> list[str]:
    """Return the command line running ``decision`` with this interpreter."""
    return [sys.executable, "-m", "decision.cli", *args]


@dataclasses.dataclass
class ReportPage:
    """What a reader of a rendered brief sees, parsed with BeautifulSoup."""

    title: str
    strategies: dict[str, str]
    figures: int


def read_report_page(html: str) -> ReportPage:
    """Parse a brief's report.html with BeautifulSoup; fail if it lacks a title or table.

    Returns its one h1 title, the strategy table (strategy -> expected value as shown) and
    the number of inline PNG figures.
    """
    page = BeautifulSoup(html, "html.parser")
    titles = page.find_all("h1")
    assert len(titles) == 1, [t.get_text() for t in titles]
    title = titles[0].get_text().removesuffix("\u00b6").strip()  # nbconvert's anchor mark
    tables = [
        table
        for table in page.find_all("table")
        if table.thead and "probability optimal" in table.thead.get_text()
    ]
    assert len(tables) == 1, "expected one strategy table"
    strategies = {}
    for row in tables[0].tbody.find_all("tr"):
        cells = row.find_all("td")
        strategies[row.th.get_text(strip=True)] = cells[0].get_text(strip=True)
    figures = [
        img
        for img in page.find_all("img")
        if img.get("src", "").startswith("data:image/png;base64,")
    ]
    return ReportPage(title=title, strategies=strategies, figures=len(figures))


def write_hostile_scenario(folder: Path) -> Path:
    """Write a scenario file whose name, description and a rationale are hostile text."""
    import yaml

    path = folder / f"{HOSTILE_FILE_STEM}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": HOSTILE_NAME,
                "description": HOSTILE_DESCRIPTION,
                "parameters": {
                    "d_moral": {
                        "distribution": "triangular",
                        "low": 0.1,
                        "mode": 0.3,
                        "high": 0.5,
                        "judgment": True,
                        "rationale": HOSTILE_RATIONALE,
                    }
                },
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    return path


def write_hostile_ledger(path: Path) -> Path:
    """Write a valid ledger whose sources and notes are hostile text."""
    add_observation(
        path,
        date="2017-09-03",
        actor="China",
        kind="enforcement_step",
        value=1,
        source=HOSTILE_SOURCE,
        note="<i onclick=alert(1)>no step tag</i>",
    )
    add_observation(
        path,
        date="2017-09-15",
        actor="DPRK",
        kind="suspected_export",
        value=1,
        confidence=0.5,
        source=f"synthetic {HOSTILE_SOURCE}",
        note=HOSTILE_NOTE,
    )
    return path


@contextlib.contextmanager
def bounded_memory(limit_mb: int):
    """Fail with ``MemoryError`` rather than exhaust the machine, and measure the peak.

    The address-space limit is raised by ``limit_mb`` over what the process holds now, for
    the duration of the block; ``tracemalloc`` measures what Python allocates (yielded as a
    one-element list filled in on exit, in MB).
    """
    with open("/proc/self/status") as fh:
        vm = next(int(line.split()[1]) for line in fh if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = vm * 1024 + limit_mb * 2**20
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    peak = [0.0]
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak[0] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
