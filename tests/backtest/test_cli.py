"""``decision backtest`` and ``decision report backtest``: errors name what the user typed."""

from __future__ import annotations

import pytest

from decision.cli import main


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--every", "3X"], "--every"),
        (["--horizon", "6,0"], "--horizon"),
        (["--start", "2013-13"], "--start"),
        (["--start", "2020-01", "--end", "2019-01"], "--end"),
        (["--replay", "2017-09"], "--replay"),
        (["--ledger", "no-such-ledger.csv"], "--ledger"),
    ],
)
def test_bad_options_are_one_line_naming_the_option(args, named, tmp_path, capsys):
    assert main(["backtest", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and named in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "backtest").exists()  # nothing ran


def test_report_backtest_needs_a_backtest_folder(tmp_path, capsys):
    assert main(["report", "backtest", "--folder", str(tmp_path)]) == 2
    assert "decision backtest" in capsys.readouterr().err


def test_the_command_is_listed(capsys):
    main(["--help"])
    assert "backtest" in capsys.readouterr().out
