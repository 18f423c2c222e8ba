"""The progress reporter: lines, bars, quiet; the relay from a report kernel; model fits."""

from __future__ import annotations

import io
import re

import pytest

from decision.core.progress import RELAY_VARIABLE, Progress, RelayReader, activate, current

LINE = re.compile(r"^\[ *\d+\.\ds\] ")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run_stages(progress: Progress) -> None:
    with progress:
        progress.stage("checking")
        stage = progress.stage("running", total=3)
        for number in range(1, 4):
            stage.advance()
            stage.describe(f"cell {number} of 3: section {number // 2}", line=number != 3)
        with progress.labelled("brief"):
            progress.note("posteriors served from the cache")
            progress.stage("publishing").done()


def test_lines_are_one_per_stage_with_elapsed_time():
    stream = io.StringIO()
    _run_stages(Progress("auto", stream=stream))  # not a terminal: lines
    lines = stream.getvalue().splitlines()
    assert all(LINE.match(line) for line in lines), lines
    assert [LINE.sub("", line) for line in lines] == [
        "checking",
        "running",
        "cell 1 of 3: section 0",
        "cell 2 of 3: section 1",
        "brief: posteriors served from the cache",
        "brief: publishing",
    ]
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()


def test_quiet_shows_nothing():
    stream = io.StringIO()
    _run_stages(Progress("quiet", stream=stream))
    assert stream.getvalue() == ""


def test_a_terminal_gets_bars_and_hands_the_terminal_to_the_sampler(monkeypatch):
    monkeypatch.delenv("TERM", raising=False)
    stream = _Terminal()
    progress = Progress("auto", stream=stream)
    assert progress.mode == "bar"
    with progress:
        stage = progress.stage("running", total=4)
        stage.advance(2)
        with progress.sampler_display() as sampler_bar:
            assert sampler_bar
        progress.note("posteriors served from the cache")
    text = stream.getvalue()
    assert "running" in text and "━" in text and "50%" in text
    assert "posteriors served from the cache" in text
    with Progress("lines", stream=io.StringIO()) as lines, lines.sampler_display() as bar:
        assert not bar


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown progress mode"):
        Progress("loud")


def test_library_calls_are_silent_unless_a_reporter_is_active(monkeypatch):
    monkeypatch.delenv(RELAY_VARIABLE, raising=False)
    assert current().mode == "quiet"
    shown = Progress("lines", stream=io.StringIO())
    with activate(shown):
        assert current() is shown
        with activate(None):
            assert current() is shown
    assert current() is not shown


def test_a_kernel_relays_stages_and_notes_to_the_renderer(tmp_path, monkeypatch):
    relay_file = tmp_path / "relay.jsonl"
    monkeypatch.setenv(RELAY_VARIABLE, str(relay_file))
    seen = []
    with RelayReader(relay_file, lambda kind, text: seen.append((kind, text)), interval=0.01):
        relay = current()  # what the kernel's library calls get
        with relay.labelled("DPRK model"):
            relay.stage("sampling").advance()
        relay.note("posteriors served from the cache")
        with relay_file.open("a") as out:
            out.write("not json\n")
            out.write('{"kind": "note", "text": "half a li')  # not complete yet: left for later
    assert seen == [
        ("stage", "DPRK model: sampling"),
        ("note", "posteriors served from the cache"),
    ]


def test_fitting_shows_a_stage_per_model_and_says_when_the_cache_served(
    fake_sampling, tiny_sampler, monkeypatch
):
    from decision.models import fit_models

    monkeypatch.setattr("os.cpu_count", lambda: 2)  # cores for compiling side by side

    first, second = io.StringIO(), io.StringIO()
    with Progress("lines", stream=first) as shown:
        fits = fit_models(sampler=tiny_sampler, progress=shown)
    assert not any(fit.from_cache for fit in fits.values())
    with Progress("lines", stream=second) as shown, activate(shown):
        fits = fit_models(sampler=tiny_sampler)  # the active reporter
    assert all(fit.from_cache for fit in fits.values())
    sampled = [LINE.sub("", line) for line in first.getvalue().splitlines()]
    cached = [LINE.sub("", line) for line in second.getvalue().splitlines()]
    assert sampled == [
        "DPRK model, China model: compiling the samplers side by side",
        "DPRK model: sampling 2 chains x 40 draws",
        "China model: sampling 2 chains x 40 draws",
    ]
    assert cached == [
        "DPRK model: loading the posterior from the cache",
        "China model: loading the posterior from the cache",
        "posteriors served from the cache",
    ]
