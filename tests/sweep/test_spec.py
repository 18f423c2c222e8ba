"""The sweep file: validation (file, key path and line in every error), expansion, stable ids."""

from __future__ import annotations

import re

import pytest
import yaml

from decision.cli import main
from decision.core.errors import InputError
from decision.sweep import load_sweep


def test_grid_and_latin_hypercube_sample_expand_with_stable_ids(write_sweep):
    path = write_sweep(
        name="expand",
        draws=200,
        grid={"china_keeps_if_full": [0.1, 0.3], "priors.china.accepts.alpha": [3, 1.5, 6.0]},
        sample={
            "n": 4,
            "seed": 1,
            "parameters": {
                "china_pressure_if_refused": {"low": 0.1, "high": 0.3},
                "p_covert_rd": {"distribution": "beta", "alpha": 4, "beta": 6},
            },
        },
    )
    sweep = load_sweep(path)
    assert sweep.keys == [
        "china_keeps_if_full",
        "priors.china.accepts.alpha",
        "china_pressure_if_refused",
        "p_covert_rd",
    ]
    ids = [s.id for s in sweep.scenarios]
    assert len(ids) == 2 * 3 * 4 == len(set(ids))
    assert ids == [s.id for s in load_sweep(path).scenarios]  # stable across loads
    # Latin hypercube: one point in each quarter of china_pressure_if_refused's range.
    w = sorted({s.values["china_pressure_if_refused"] for s in sweep.scenarios})
    assert sorted(int((x - 0.1) / 0.05) for x in w) == [0, 1, 2, 3]
    # auto mode: alpha 3 is China's documented default, so those scenarios use the base fit.
    fits = {}
    for s in sweep.scenarios:
        fits.setdefault(s.values["priors.china.accepts.alpha"], set()).add((s.refit, s.fit_key))
    assert fits[3.0] == {(False, sweep.base_fit_key)}
    assert all(len(fits[a]) == 1 and next(iter(fits[a]))[0] for a in (1.5, 6.0))
    assert sweep.describe()["distinct_fits"] == 2
    # An override is a number; a prior override is not a tree override.
    first = sweep.scenarios[0]
    assert first.overrides == {
        "china_keeps_if_full": 0.1,
        "china_pressure_if_refused": first.values["china_pressure_if_refused"],
        "p_covert_rd": first.values["p_covert_rd"],
    }
    # Settings are part of every id: other draws, other ids.
    other = write_sweep("other.yaml", **{**yaml.safe_load(path.read_text()), "draws": 300})
    assert not set(ids) & {s.id for s in load_sweep(other).scenarios}


def test_batch_size_and_name_are_not_part_of_the_ids(write_sweep):
    grid = {"china_pressure_if_refused": [0.1, 0.2, 0.3]}
    first = load_sweep(write_sweep("first.yaml", batch_size=1, grid=grid))
    second = load_sweep(write_sweep("second.yaml", name=2017, batch_size=2, grid=grid))
    assert [s.id for s in first.scenarios] == [s.id for s in second.scenarios]
    assert first.hash == second.hash
    assert len(first.batches()) == 3 and len(second.batches()) == 2
    assert (first.name, second.name) == ("first", "2017")  # the file's name, or the given one


def test_a_parameter_spec_replaces_the_parameters_spec(write_sweep):
    spec = {"distribution": "uniform", "low": 0.1, "high": 0.3}
    sweep = load_sweep(write_sweep(grid={"china_pressure_if_refused": [0.2, spec]}))
    fixed, replaced = sweep.scenarios
    assert (fixed.overrides, fixed.specs) == ({"china_pressure_if_refused": 0.2}, {})
    assert (replaced.overrides, replaced.specs) == ({}, {"china_pressure_if_refused": spec})
    assert not any(s.refit for s in sweep.scenarios)


def test_an_observations_file_counts_by_its_content(write_sweep, observations_csv):
    path = write_sweep(as_of="2018-04-30", grid={"observations": [None, "obs.csv"]})
    sweep = load_sweep(path)
    assert [s.observations for s in sweep.scenarios] == [None, "obs.csv"]
    assert [s.refit for s in sweep.scenarios] == [False, True]
    before = {s.id for s in sweep.scenarios}
    observations_csv.write_text(
        observations_csv.read_text().replace("0.3,not a real", "0.4,not a real")
    )
    after = {s.id for s in load_sweep(path).scenarios}
    assert len(before & after) == 1  # the scenario without observations keeps its id


@pytest.mark.parametrize(
    "data, field, message",
    [
        (
            {"grdi": {}},
            "grdi",
            r"unexpected key 'grdi' \(did you mean 'grid'\?\); expected one of: name, "
            r"description, case, base",
        ),
        (
            {"grid": {"china_keeps_if_ful": [0.1]}},
            "grid.china_keeps_if_ful",
            r"unknown key 'china_keeps_if_ful' \(did you mean 'china_keeps_if_full'",
        ),
        (
            {"grid": {"priors.china.acepts.alpha": [1]}},
            "grid.priors.china.acepts.alpha",
            r"unknown prior 'acepts' of model 'china' \(did you mean 'accepts'",
        ),
        (
            {"grid": {"priors.china.accepts.alpah": [1]}},
            "grid.priors.china.accepts.alpah",
            r"prior 'china.accepts' has no parameter 'alpah' \(did you mean 'alpha'",
        ),
        (
            {"grid": {"priors.china.accepts.alpha": [0]}},
            r"grid.priors.china.accepts.alpha\[0\]",
            r"expected a positive number, got 0",
        ),
        (
            {"grid": {"china_pressure_if_refused": 0.2}},
            "grid.china_pressure_if_refused",
            r"expected a valid list, got 0.2",
        ),
        (
            {"grid": {"china_pressure_if_refused": []}},
            "grid.china_pressure_if_refused",
            r"expected at least 1 item, got \[\]",
        ),
        (
            {"grid": {"china_pressure_if_refused": [0.2, 0.2]}},
            r"grid.china_pressure_if_refused\[1\]",
            r"duplicate value 0.2",
        ),
        (
            {"grid": {"china_pressure_if_refused": ["high"]}},
            r"grid.china_pressure_if_refused\[0\]",
            r"expected a number or a parameter spec \(a mapping\), got 'high'",
        ),
        (
            {"grid": {"china_pressure_if_refused": [{"distribution": "triangular", "low": 1}]}},
            r"grid.china_pressure_if_refused\[0\]",
            r"a triangular distribution needs low, mode, high \(missing 'mode'\)",
        ),
        (
            {
                "grid": {
                    "china_pressure_if_refused": [0.1],
                    "parameters.china_pressure_if_refused": [0.2],
                }
            },
            "grid.parameters.china_pressure_if_refused",
            r"'parameters.china_pressure_if_refused' is varied twice",
        ),
        (
            {"mode": "tree", "grid": {"as_of": ["2017-12-31"]}},
            "grid.as_of",
            r"mode 'tree' re-evaluates the tree on the base posterior",
        ),
        ({"grid": {"as_of": ["2017-13-01"]}}, r"grid.as_of\[0\]", r"expected a date"),
        (
            {"grid": {"observations": ["missing.csv"]}},
            r"grid.observations\[0\]",
            r"observations file not found",
        ),
        (
            {
                "sample": {
                    "n": 3,
                    "parameters": {"china_pressure_if_refused": {"low": 0.3, "high": 0.1}},
                }
            },
            "sample.parameters.china_pressure_if_refused",
            r"uniform distribution: low must be < high",
        ),
        (
            {
                "sample": {
                    "n": 3,
                    "parameters": {"china_pressure_if_refused": {"distribution": "gamma"}},
                }
            },
            "sample.parameters.china_pressure_if_refused.distribution",
            r"unknown distribution 'gamma'",
        ),
        (
            {
                "sample": {
                    "n": 3,
                    "parameters": {"china_pressure_if_refused": {"low": 0, "high": 1, "mode": 3}},
                }
            },
            "sample.parameters.china_pressure_if_refused",
            r"unexpected key\(s\) for uniform: mode \(expected low, high\)",
        ),
        (
            {"sample": {"n": 3, "parameters": {"observations": {"values": [None], "n": 2}}}},
            "sample.parameters.observations",
            r"unexpected key\(s\) n beside 'values'",
        ),
        (
            {"sample": {"parameters": {"china_pressure_if_refused": {"low": 0, "high": 1}}}},
            "sample.n",
            r"missing key: expected the number of sampled points",
        ),
        (
            {
                "sample": {
                    "n": 2,
                    "sed": 1,
                    "parameters": {"china_pressure_if_refused": {"low": 0, "high": 1}},
                }
            },
            "sample.sed",
            r"unexpected key 'sed' \(did you mean 'seed'\?\)",
        ),
        (
            {"sample": [1, 2]},
            "sample",
            r"expected a mapping with keys n, seed, method, parameters, got \[1, 2\]",
        ),
        (
            {"sampler": {"cores": 2}, "grid": {"priors.dprk.breach_shape.sigma": [0.5, 1.0]}},
            "sampler.cores",
            r"use cores: 1",
        ),
        ({"sampler": {"drawz": 10}}, "sampler.drawz", r"unknown key 'drawz'"),
        (
            {"sampler": {"target_accept": 1.5}},
            "sampler.target_accept",
            r"expected a number greater than 0 and less than 1, got 1.5",
        ),
        ({"mode": "fast"}, "mode", r"expected 'auto', 'tree' or 'refit', got 'fast'"),
        ({"name": "../escape"}, "name", r"expected a name of letters.*, got '../escape'"),
        ({"draws": 5}, "draws", r"expected a whole number from 10 to 10000000, got 5"),
        ({"draws": "all"}, "draws", r"expected a whole number of tree draws, or null"),
        (
            {"observations": 5},
            "observations",
            r"expected an observations file \(relative to this file\) or null, got 5",
        ),
        ({"as_of": "2017-02-30"}, "as_of", r"expected a date as YYYY-MM-DD, got '2017-02-30'"),
    ],
)
def test_invalid_sweep_files_name_the_file_the_key_and_the_line(write_sweep, data, field, message):
    path = write_sweep(**data)
    with pytest.raises(InputError, match=message) as info:
        load_sweep(path)
    assert str(info.value).startswith(f"{path}, field '")
    assert info.value.field is not None
    assert re.fullmatch(field, info.value.field), info.value.field
    assert re.search(r" \(line \d+\)$", str(info.value)), str(info.value)


def test_the_line_is_where_the_bad_value_is(tmp_path):
    path = tmp_path / "lines.yaml"
    path.write_text(
        "name: lines\n"
        "grid:\n"
        "  china_pressure_if_refused: [0.1, 0.2]\n"
        "  priors.china.accepts.alpha:\n"
        "    - 2.0\n"
        "    - -1.0\n"
    )
    with pytest.raises(InputError, match=r"expected a positive number, got -1.0 \(line 6\)$"):
        load_sweep(path)
    path.write_text("name: lines\ndraws: 20\nbatch_size: 0\n")
    with pytest.raises(InputError, match=r"from 1 to 100000, got 0 \(line 3\)$") as info:
        load_sweep(path)
    assert info.value.field == "batch_size"


def test_a_bad_scenario_spec_names_the_sweep_file(write_sweep):
    path = write_sweep(
        grid={"china_pressure_if_refused": [{"distribution": "beta", "alpha": -1, "beta": 2}]}
    )
    with pytest.raises(InputError, match=r"beta distribution: alpha and beta must be > 0"):
        load_sweep(path)


def test_bad_yaml_is_one_line_with_status_2(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("grid: [unclosed\n")
    assert main(["sweep", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}, row ") and "not valid YAML" in err
    assert len(err.splitlines()) == 1
    path.write_text("- a list\n")
    assert main(["sweep", str(path)]) == 2
    assert "expected a mapping with name, base, grid and/or sample" in capsys.readouterr().err


def test_cli_dry_run_counts_scenarios(write_sweep, tmp_path, capsys):
    path = write_sweep(
        "s.yaml",
        name="counted",
        grid={"china_pressure_if_refused": [0.1, 0.2], "as_of": ["2017-08-20", "2017-12-31"]},
    )
    assert main(["sweep", str(path), "--dry-run", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sweep 'counted': 4 scenarios (2 tree-only, 2 refit on 1 distinct fits)")
    assert not (tmp_path / "o").exists()  # nothing run, nothing written
