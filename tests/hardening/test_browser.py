"""The report in a real browser: headless Chromium opens the rendered brief from disk.

The browser is Debian's ``chromium`` (``make test`` installs it when missing and run as root;
``DECISION_CHROMIUM`` may name another Chromium or Chrome binary). It is driven through the
DevTools protocol over ``--remote-debugging-pipe``: no driver, no download, no extra Python
package. Every request other than ``file:`` and ``data:`` is blocked *and* recorded, so a
report that tried to fetch anything fails the test. The tree diagrams are measured as laid
out at a 1280-px-wide window (every label's text at least 10 px tall, no two labels
overlapping) and their CSS-only zoom and links are used as a reader would. The screenshots
(the whole brief, and its tree) are kept in ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from hardening_support import ARTIFACTS, HOSTILE_NAME

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]
BLOCKED = ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]
HEADINGS = (
    "The recommendation",
    "Recommendation:",
    "Strategies compared",
    "The value of monitoring",
    "What would change our mind",
    "The decision tree",
    "Headline estimates from the Bayesian models",
    "The evidence",
    "Assumptions",
    "Sources and reproducibility",
)

#: Runs in the page after load: waits for every image to decode, then reports what a reader
#: would see (image sizes, the tree diagram's size, the visible text).
PROBE = """(async () => {
  const images = [...document.images];
  await Promise.all(images.map(i => i.decode().catch(() => null)));
  return {
    title: document.title,
    images: images.map(i => ({src: i.src.slice(0, 40), complete: i.complete,
                               width: i.naturalWidth, height: i.naturalHeight})),
    trees: [...document.querySelectorAll(".decision-tree svg")].map(s => {
      const box = s.getBoundingClientRect(); return [box.width, box.height]; }),
    text: document.body.innerText,
    uncaptioned: images.filter(i => {
      const output = i.closest(".jp-OutputArea-child");
      const next = output && output.nextElementSibling;
      return !(next && next.querySelector(".figure-caption"));
    }).length,
  };
})()"""

#: The labels of every tree diagram as laid out: one label is the text of one node, one edge
#: or the graph's title. Reports the smallest text height (CSS px), the labels whose text is
#: under 10 px, and every pair of labels whose boxes overlap (by more than half a pixel).
TREE_LABELS = """(() => [...document.querySelectorAll(".decision-tree svg")].map(svg => {
  const labels = [];
  for (const group of svg.querySelectorAll("g.node, g.edge, g.graph")) {
    const texts = [...group.querySelectorAll("text")]
      .filter(t => t.closest("g.node, g.edge, g.graph") === group);
    if (!texts.length) continue;
    const boxes = texts.map(t => t.getBoundingClientRect());
    labels.push({
      text: texts.map(t => t.textContent).join(" / "),
      heights: boxes.map(b => b.height),
      box: [Math.min(...boxes.map(b => b.left)), Math.min(...boxes.map(b => b.top)),
            Math.max(...boxes.map(b => b.right)), Math.max(...boxes.map(b => b.bottom))],
    });
  }
  const overlaps = [];
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const a = labels[i].box, b = labels[j].box;
      const dx = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
      const dy = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
      if (dx > 0.5 && dy > 0.5) overlaps.push([labels[i].text, labels[j].text]);
    }
  }
  const box = svg.getBoundingClientRect();
  const holder = svg.parentElement;
  return {
    labels: labels.length,
    smallest: Math.min(...labels.flatMap(l => l.heights)),
    small: labels.filter(l => Math.min(...l.heights) < 10).map(l => l.text),
    overlaps: overlaps,
    width: box.width,
    scrolls_sideways: holder.scrollWidth > holder.clientWidth + 1,
  };
}))()"""

#: Where the first tree sits in the page (for its screenshot).
TREE_BOX = """(() => {
  const box = document.querySelector(".decision-tree").getBoundingClientRect();
  return {x: box.left + window.scrollX, y: box.top + window.scrollY,
          width: box.width, height: box.height};
})()"""

#: Use the first tree as a reader would, without any script of the page: press each zoom
#: button (CSS only) and note the full tree's width, then follow the "go to the root" link
#: and the first "same as" box's link, and say whether their targets came into view.
TREE_USE = """(async () => {
  const tree = document.querySelector(".decision-tree");
  const pane = tree.querySelector(".dt-pane");
  const svg = pane.querySelector("svg");
  const widths = {};
  for (const label of tree.querySelectorAll(".dt-zoom label")) {
    label.click();
    widths[label.textContent] = svg.getBoundingClientRect().width;
  }
  [...tree.querySelectorAll(".dt-zoom label")].find(l => l.textContent === "100%").click();
  const inView = element => {
    const a = element.getBoundingClientRect(), b = pane.getBoundingClientRect();
    return a.top >= b.top - 1 && a.bottom <= b.bottom + 1 && a.left >= b.left - 1
      && a.right <= b.right + 1;
  };
  const settle = () => new Promise(resolve => setTimeout(resolve, 300));
  pane.scrollTo(pane.scrollWidth, pane.scrollHeight);
  const root = pane.querySelector("g.node");
  const rootBefore = inView(root);
  [...tree.querySelectorAll("a")].find(a => a.textContent === "go to the root").click();
  await settle();
  const rootAfter = inView(root);
  let sameAs = null;
  const link = pane.querySelector("g.node a[*|href^='#']");
  if (link) {
    const href = link.getAttribute("xlink:href") || link.getAttribute("href");
    const target = document.getElementById(href.slice(1));
    pane.scrollTo(0, 0);
    const before = inView(target);
    link.dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true}));
    await settle();
    sameAs = {before: before, after: inView(target)};
  }
  return {pane: pane.clientWidth, widths: widths, root: [rootBefore, rootAfter],
          same_as: sameAs};
})()"""


def chromium() -> str:
    path = (
        os.environ.get("DECISION_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail(
            "headless Chromium is needed for the browser test and was not found: "
            "run `make test` as root (it installs Debian's chromium with apt-get), or "
            "`apt-get install chromium`, or set DECISION_CHROMIUM to a Chromium binary",
            pytrace=False,
        )
    return path


class Browser:
    """A headless Chromium and a DevTools-protocol connection to it over two pipes."""

    def __init__(self, executable: str, profile: Path):
        to_child, self._send_fd = os.pipe()
        self._recv_fd, from_child = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4; move the child's ends
        # above 9 first so that bash can put them in place whatever their numbers.
        high_in = fcntl.fcntl(to_child, fcntl.F_DUPFD_CLOEXEC, 10)
        high_out = fcntl.fcntl(from_child, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child)
        os.close(from_child)
        script = f'exec "$0" "$@" 3<&{high_in} 4>&{high_out} {high_in}<&- {high_out}>&-'
        self.proc = subprocess.Popen(
            [
                "/bin/bash",
                "-c",
                script,
                executable,
                *FLAGS,
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            pass_fds=(high_in, high_out),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(high_in)
        os.close(high_out)
        self._id = 0
        self._replies: dict[int, dict] = {}
        self._closed = False
        self._cond = threading.Condition()
        self.events: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._recv_fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(1 << 16):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                with self._cond:
                    for raw in messages:
                        message = json.loads(raw)
                        if "id" in message:
                            self._replies[message["id"]] = message
                        else:
                            self.events.append(message)
                    self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def send(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float = 60,
    ) -> dict:
        self._id += 1
        ident = self._id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._send_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._cond:
            while ident not in self._replies:
                if self._closed or time.monotonic() > deadline:
                    raise RuntimeError(f"Chromium did not answer {method}")
                self._cond.wait(max(0.0, min(1.0, deadline - time.monotonic())))
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_for(self, method: str, session: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events:
                    if event["method"] == method and event.get("sessionId") == session:
                        return event
                if self._closed or time.monotonic() > deadline:
                    raise RuntimeError(f"no {method} from Chromium")
                self._cond.wait(max(0.0, min(1.0, deadline - time.monotonic())))

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=20)
        os.close(self._send_fd)


def _evaluate(browser: Browser, session: str, expression: str):
    result = browser.send(
        "Runtime.evaluate",
        {"expression": expression, "awaitPromise": True, "returnByValue": True},
        session=session,
    )
    if "exceptionDetails" in result:
        raise AssertionError(f"the probe failed: {result['exceptionDetails']}")
    return result["result"]["value"]


def _screenshot(browser: Browser, session: str, clip: dict, path: Path) -> None:
    shot = browser.send(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True, "clip": {**clip, "scale": 1}},
        session=session,
        timeout=120,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {path}")


def open_page(
    path: Path,
    screenshot: Path,
    tmp_path: Path,
    *,
    measure_trees: bool = False,
    tree_screenshot: Path | None = None,
) -> dict:
    """Open a file in headless Chromium; return what it showed, requested and complained of.

    With ``measure_trees``, also measure the tree diagrams' labels (``tree_labels``); with
    ``tree_screenshot``, keep a screenshot of the first tree, then use its zoom buttons and
    links (``tree_use``).
    """
    browser = Browser(chromium(), tmp_path / "profile")
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for method in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            browser.send(method, session=session)
        browser.send("Network.setBlockedURLs", {"urls": BLOCKED}, session=session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        browser.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired", session)
        time.sleep(1.0)  # late errors: scripts after load, timers
        seen = _evaluate(browser, session, PROBE)
        if measure_trees:
            seen["tree_labels"] = _evaluate(browser, session, TREE_LABELS)
        size = browser.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16_000)}
        _screenshot(browser, session, clip, screenshot)
        if tree_screenshot is not None:
            _screenshot(browser, session, _evaluate(browser, session, TREE_BOX), tree_screenshot)
            seen["tree_use"] = _evaluate(browser, session, TREE_USE)
        events = list(browser.events)
    finally:
        browser.close()
    errors, requests = [], []
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            errors.append(details.get("exception", {}).get("description") or details["text"])
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            errors.append(params["entry"]["text"])
        elif method == "Network.requestWillBeSent":
            requests.append(params["request"]["url"])
    seen["errors"] = errors
    seen["outside_requests"] = [u for u in requests if not u.startswith(("file:", "data:"))]
    return seen


def test_the_harness_sees_errors_broken_images_and_fetches(tmp_path):
    """The checks below are not vacuous: a bad page fails every one of them."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!doctype html><title>bad</title><body><p>text</p>"
        "<img src='missing.png'><img src='https://example.invalid/pixel.png'>"
        "<script>console.error('logged'); throw new Error('boom')</script></body>"
    )
    seen = open_page(page, tmp_path / "bad.png", tmp_path)
    assert any("boom" in e for e in seen["errors"]), seen["errors"]
    assert any("logged" in e for e in seen["errors"]), seen["errors"]
    assert seen["outside_requests"] == ["https://example.invalid/pixel.png"]
    assert [i["width"] for i in seen["images"]] == [0, 0]
    assert (tmp_path / "bad.png").read_bytes().startswith(b"\x89PNG")


def test_the_harness_sees_small_and_overlapping_tree_labels(tmp_path):
    """The tree checks below are not vacuous: tiny or overlapping labels are reported."""
    page = tmp_path / "tree.html"
    page.write_text(
        "<!doctype html><title>tree</title><body><div class='decision-tree'>"
        "<svg width='400' height='200'><g class='graph'>"
        "<g class='node'><text x='10' y='50' font-size='6'>tiny</text></g>"
        "<g class='node'><text x='100' y='100' font-size='14'>one label</text></g>"
        "<g class='edge'><text x='110' y='104' font-size='14'>another</text></g>"
        "</g></svg></div></body>"
    )
    seen = open_page(page, tmp_path / "tree.png", tmp_path, measure_trees=True)
    labels = seen["tree_labels"]
    assert seen["errors"] == []
    assert labels[0]["small"] == ["tiny"] and labels[0]["smallest"] < 10
    assert labels[0]["overlaps"] == [["one label", "another"]]


def test_the_brief_opens_in_a_browser_with_every_figure_and_no_error(brief_render, tmp_path):
    seen = open_page(
        brief_render / "report.html",
        ARTIFACTS / "browser-brief.png",
        tmp_path,
        measure_trees=True,
        tree_screenshot=ARTIFACTS / "browser-tree.png",
    )
    assert seen["errors"] == []
    assert seen["outside_requests"] == []
    images = seen["images"]
    assert len(images) >= 12, len(images)  # the brief's figures
    broken = [i for i in images if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
    assert broken == [], broken
    assert all(i["src"].startswith("data:image/") for i in images)
    assert seen["uncaptioned"] == 0  # a one-line caption under every figure
    # The tree: the compact view, then the whole tree, both readable at a 1280-px window.
    assert len(seen["trees"]) == 2, seen["trees"]
    compact, whole = seen["tree_labels"]
    # The compact view's size follows the posterior (which strategy it expands); the whole
    # tree always has dozens of labels. Either way the measurement is not vacuous.
    assert compact["labels"] >= 5, compact
    assert whole["labels"] >= 20, whole
    for drawing in (compact, whole):
        assert drawing["smallest"] >= 10, drawing["small"]
        assert drawing["overlaps"] == [], drawing["overlaps"]
    assert 500 < compact["width"] <= 1280 and not compact["scrolls_sideways"], compact
    assert whole["width"] > compact["width"]  # natural size, panned inside its box
    use = seen["tree_use"]
    widths = use["widths"]
    assert set(widths) == {"fit width", "50%", "100%", "200%"}, widths
    assert abs(widths["fit width"] - use["pane"]) <= 2, use
    assert widths["50%"] == pytest.approx(widths["100%"] / 2, abs=2)
    assert widths["200%"] == pytest.approx(widths["100%"] * 2, abs=2)
    assert use["root"] == [False, True], use  # "go to the root" scrolls the box to it
    assert use["same_as"] == {"before": False, "after": True}, use  # "same as" links to it
    assert (brief_render / "tree.svg").read_bytes().count(b"<svg") == 1
    tree_shot = (ARTIFACTS / "browser-tree.png").read_bytes()
    assert tree_shot.startswith(b"\x89PNG") and len(tree_shot) > 20_000
    for heading in HEADINGS:
        assert heading in seen["text"], heading
    analysis = json.loads((brief_render / "analysis.json").read_text())
    assert analysis["recommendation"] in seen["text"]
    assert "Traceback" not in seen["text"]
    shot = (ARTIFACTS / "browser-brief.png").read_bytes()
    assert shot.startswith(b"\x89PNG") and len(shot) > 50_000


def test_hostile_text_stays_text_in_a_browser(hostile_render, tmp_path):
    target, _, _ = hostile_render
    seen = open_page(target / "report.html", ARTIFACTS / "browser-hostile.png", tmp_path)
    assert seen["errors"] == []
    assert seen["outside_requests"] == []
    assert "pwned" not in seen["title"]  # no script ran
    assert f"Scenario: {HOSTILE_NAME}." in seen["text"]
    assert "![pixel](https://tracker.invalid/pixel.png)" in seen["text"]
    assert "[click](javascript:document.title='pwned-link')" in seen["text"]
    assert all(i["width"] > 0 for i in seen["images"])
