"""``decision report``: parameter files and ``-p`` errors through ``decision.cli.main``.

Rendering itself is tested in tests/report/test_render.py.
"""

from __future__ import annotations

from decision.cli import main


def test_cli_bad_parameter_file_exits_non_zero_with_one_line(tmp_path, capsys):
    params = tmp_path / "scenario.yaml"
    params.write_text("as_of: 2017-08-20\ndraws: 0\n")
    out = tmp_path / "reports"
    out.mkdir()
    (out / "scenario").mkdir()
    (out / "scenario" / "report.html").write_text("previous")
    assert main(["report", "--params", str(params), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "scenario.yaml" in err and "draws" in err
    assert (out / "scenario" / "report.html").read_text() == "previous"


def test_cli_malformed_yaml_names_the_file_and_line(tmp_path, capsys):
    params = tmp_path / "broken.yaml"
    params.write_text("draws: [1, 2\n")
    assert main(["report", "--params", str(params), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "broken.yaml" in err and "row" in err
