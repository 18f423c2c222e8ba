"""Index pages: the reports index (every published report, newest first) and escaping."""

from __future__ import annotations

import json

from bs4 import BeautifulSoup

from decision.report import write_index


def _publish(out, name, created, as_of="2017-08-20", template="brief"):
    folder = out / name
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(
        json.dumps({"template": template, "created": created, "parameters": {"as_of": as_of}})
    )


def test_the_index_lists_published_reports_newest_first(tmp_path):
    out = tmp_path / "reports"
    _publish(out, "brief", "2017-09-01T10:00:00+00:00")
    _publish(out, "2017-10", "2017-11-02T10:00:00+00:00", as_of="", template="monitoring")
    _publish(out, "<i>odd", "2017-10-01T10:00:00+00:00")
    _publish(out, ".brief.staging-1.abcdef12-x", "2018-01-01T00:00:00+00:00")  # not published
    (out / "broken").mkdir()
    (out / "broken" / "manifest.json").write_text("{not json")
    page = BeautifulSoup(write_index(out).read_text(), "html.parser")
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in page.find_all("tr")[1:]]
    assert rows == [
        ["2017-10", "monitoring", "", "2017-11-02T10:00:00+00:00"],
        ["<i>odd", "brief", "2017-08-20", "2017-10-01T10:00:00+00:00"],
        ["brief", "brief", "2017-08-20", "2017-09-01T10:00:00+00:00"],
    ]
    assert page.find("i") is None  # a folder name is text, not markup
    assert [a["href"] for a in page.find_all("a")] == [
        "2017-10/report.html",
        "<i>odd/report.html",
        "brief/report.html",
    ]
