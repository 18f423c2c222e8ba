"""The report in a real browser: headless Chromium opens the rendered brief from disk.

The browser is Debian's ``chromium`` (``make test`` installs it when missing and run as root;
``DECISION_CHROMIUM`` may name another Chromium or Chrome binary). It is driven through the
DevTools protocol over ``--remote-debugging-pipe``: no driver, no download, no extra Python
package. Every request other than ``file:`` and ``data:`` is blocked *and* recorded, so a
report that tried to fetch anything fails the test. The screenshots are kept in
``test-artifacts/`` at the repository root.
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
  };
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


def open_page(path: Path, screenshot: Path, tmp_path: Path) -> dict:
    """Open a file in headless Chromium; return what it showed, requested and complained of."""
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
        result = browser.send(
            "Runtime.evaluate",
            {"expression": PROBE, "awaitPromise": True, "returnByValue": True},
            session=session,
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"the probe failed: {result['exceptionDetails']}")
        seen = result["result"]["value"]
        size = browser.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        shot = browser.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {
                    "x": 0,
                    "y": 0,
                    "width": size["width"],
                    "height": min(size["height"], 16_000),
                    "scale": 1,
                },
            },
            session=session,
            timeout=120,
        )
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        print(f"screenshot: {screenshot}")
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


def test_the_brief_opens_in_a_browser_with_every_figure_and_no_error(brief_render, tmp_path):
    seen = open_page(brief_render / "report.html", ARTIFACTS / "browser-brief.png", tmp_path)
    assert seen["errors"] == []
    assert seen["outside_requests"] == []
    images = seen["images"]
    assert len(images) >= 12, len(images)  # the brief's figures
    broken = [i for i in images if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
    assert broken == [], broken
    assert all(i["src"].startswith("data:image/") for i in images)
    assert len(seen["trees"]) == 1 and seen["trees"][0][0] > 500 and seen["trees"][0][1] > 100
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
