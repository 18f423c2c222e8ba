"""Evaluation over parameter draws: policies, per-draw values, EVPI, force, utility, attributes."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import xarray as xr

from decision.core.errors import InputError
from decision.tree import evaluate, example_path, load_tree

GOFERBROKE = {
    "name": "Goferbroke",
    "units": "thousand USD",
    "parameters": {"p_oil": 0.25},
    "root": {
        "type": "decision",
        "name": "Drill or sell",
        "options": {
            "drill": {
                "type": "chance",
                "name": "Oil",
                "uncertainty": "deposit",
                "outcomes": {
                    "oil": {"probability": "p_oil", "payoff": 700},
                    "dry": {"probability": "1 - p_oil", "payoff": -100},
                },
            },
            "sell": {"payoff": 90},
        },
    },
}


def goferbroke():
    return load_tree(copy.deepcopy(GOFERBROKE))


def test_two_draws_of_p_oil_by_hand():
    # Draws p = 0.1 and 0.4: drill = 800 p - 100 = -20 and 220 (mean 100), sell 90.
    # In expectation: drill (100 > 90). Knowing p: sell (90), drill (220): mean 155, so the
    # EVPI of the parameters is 55 and each option is best in half the draws.
    # EVPI of the deposit (parameters still unknown): oil -> drill, E[p 700] = 175;
    # dry -> sell, E[(1 - p) 90] = 67.5; 242.5 - 100 = 142.5.
    # Per draw: p = 0.1: 0.1 * 700 + 0.9 * 90 - 90 = 61; p = 0.4: 280 + 54 - 220 = 114.
    p = np.array([0.1, 0.4])
    result = evaluate(goferbroke(), draws={"p_oil": p})
    assert result.n == 2
    assert result.optimal == "drill"
    assert result.value == pytest.approx(100)
    assert result.options == pytest.approx({"drill": 100, "sell": 90})
    assert result.evpi_parameters() == pytest.approx(55)
    assert result.probability_optimal == {"drill": 0.5, "sell": 0.5}
    assert result.evpi("deposit") == pytest.approx(142.5)
    np.testing.assert_allclose(result.evpi_per_draw("deposit"), [61, 114])
    values = result.root_values_per_draw
    assert isinstance(values, xr.DataArray)
    assert values.dims == ("draw", "option")
    assert list(values.option.values) == ["drill", "sell"]
    np.testing.assert_allclose(values.sel(option="drill"), [-20, 220])
    np.testing.assert_allclose(values.sel(option="sell"), [90, 90])
    assert list(result.policy_per_draw["Drill or sell"]) == ["sell", "drill"]
    np.testing.assert_array_equal(p, [0.1, 0.4])  # the caller's draws are not modified
    assert result.is_uncertain


SIGNAL = {
    "name": "Signal",
    "parameters": {"q": {"supplied": True}, "gain": {"supplied": True}},
    "root": {
        "type": "chance",
        "name": "Signal",
        "outcomes": {
            "high": {
                "probability": "q",
                "type": "decision",
                "name": "Act",
                "options": {"invest": {"payoff": "gain"}, "hold": {"payoff": 0}},
            },
            "low": {"probability": "1 - q", "payoff": 0},
        },
    },
}


def test_later_decision_weights_draws_by_the_chance_of_reaching_it():
    # Two equally likely draws: (q, gain) = (0.2, -50) and (0.8, 20). After 'high' the
    # decision maker, not knowing the draw, updates on having seen 'high': the draws are
    # weighted 0.2 : 0.8, so invest is worth (0.2 * -50 + 0.8 * 20) / 1.0 = 6 > 0 (the
    # plain mean, -15, would wrongly say hold). Value = 0.5 * (0.2 * -50 + 0.8 * 20) = 3.
    # Knowing the draw: hold in draw 1 (0), invest in draw 2 (0.8 * 20 = 16): mean 8, so
    # the EVPI of the parameters is 8 - 3 = 5.
    tree = load_tree(copy.deepcopy(SIGNAL))
    result = evaluate(tree, n=2, supplied={"q": [0.2, 0.8], "gain": [-50.0, 20.0]})
    assert result.optimal is None and result.options == {} and result.probability_optimal == {}
    assert result.policy == {"Signal/high/Act": "invest"}
    assert result.expected["Signal/high/Act"] == pytest.approx({"invest": 6, "hold": 0})
    assert result.value == pytest.approx(3)
    assert result.evpi_parameters() == pytest.approx(5)
    assert list(result.policy_per_draw["Signal/high/Act"]) == ["hold", "invest"]
    act = result.option_values["Signal/high/Act"]
    np.testing.assert_allclose(act.sel(option="invest"), [-50, 20])
    assert result.node_values["Signal"] == pytest.approx(3)
    assert result.reach_probabilities["Signal/high/Act"] == pytest.approx(0.5)
    with pytest.raises(InputError, match="chance node"):
        _ = result.root_values_per_draw


def test_sequential_rollback_uses_the_chosen_options_values_upstream():
    # Per-draw values upstream of a later decision follow the option chosen in
    # expectation (invest), not the per-draw best: root per-draw = q * gain = -10, 16.
    tree = load_tree(copy.deepcopy(SIGNAL))
    result = evaluate(tree, n=2, supplied={"q": [0.2, 0.8], "gain": [-50.0, 20.0]})
    np.testing.assert_allclose(result._root_expected, [-10, 16])
    np.testing.assert_allclose(result._root_informed, [0, 16])


def test_force_a_decision_by_name_or_path():
    result = evaluate(goferbroke(), force={"Drill or sell": "sell"})
    assert result.optimal == "sell" and result.value == 90
    assert result.options == pytest.approx({"drill": 100, "sell": 90})
    assert result.forced == {"Drill or sell": "sell"}
    assert result.to_dict()["forced"] == {"Drill or sell": "sell"}
    # Committed to sell, the decision maker cannot use the information: EVPI 0.
    assert result.evpi("deposit") == 0
    colaco = load_tree(example_path("colaco"))
    # Every decision named "Market nationally" is forced to market.
    forced = evaluate(colaco, force={"Market nationally": "market"})
    # Test market then always market: 0.6 * 360,000 + 0.4 * 60,000 = 240,000.
    assert forced.options["test market"] == pytest.approx(240_000)
    one = "Colaco/test market/Local test/local failure/Market nationally"
    by_path = evaluate(colaco, force={one: "market", "Colaco": "test market"})
    assert by_path.optimal == "test market"
    assert by_path.value == pytest.approx(240_000)
    assert by_path.policy[one] == "market"
    assert set(by_path.policy_per_draw[one]) == {"market"}
    with pytest.raises(InputError, match="no decision node.*did you mean 'Market nationally'"):
        evaluate(colaco, force={"Market nationaly": "market"})
    with pytest.raises(InputError, match="options are market, do not market"):
        evaluate(colaco, force={"Market nationally": "sell"})


def test_probabilities_checked_in_every_draw():
    tree = load_tree(
        {
            "parameters": {"p": {"supplied": True}, "q": {"supplied": True}},
            "root": {
                "type": "decision",
                "name": "D",
                "options": {
                    "go": {
                        "type": "chance",
                        "name": "C",
                        "outcomes": {
                            "a": {"probability": "p", "payoff": 1},
                            "b": {"probability": "q", "payoff": 0},
                        },
                    }
                },
            },
        }
    )
    ok = evaluate(tree, n=3, supplied={"p": [0.2, 0.5, 0.9], "q": [0.8, 0.5, 0.1]})
    assert ok.value == pytest.approx((0.2 + 0.5 + 0.9) / 3)
    with pytest.raises(InputError) as info:
        evaluate(tree, n=3, supplied={"p": [0.2, 0.5, 0.9], "q": [0.8, 0.6, 0.1]})
    assert info.value.field == "D/go/C"
    assert "sum to 1.1, not 1, in draw 1" in str(info.value)
    assert "a: p = 0.5, b: q = 0.6" in str(info.value)
    with pytest.raises(InputError, match=r"probability of 'a' \(p\) is 1.2 in draw 2"):
        evaluate(tree, n=3, supplied={"p": [0.2, 0.5, 1.2], "q": [0.8, 0.5, -0.2]})
    # Within the tolerance (1e-6) is accepted.
    evaluate(tree, n=1, supplied={"p": [0.3 + 1e-9], "q": [0.7]})


def test_payoff_that_is_not_finite_names_the_branch():
    tree = load_tree(
        {
            "parameters": {"d": {"supplied": True}},
            "root": {"type": "decision", "name": "D", "options": {"x": {"payoff": "1 / d"}}},
        }
    )
    with pytest.raises(InputError, match=r"payoff '1 / d' is not a finite number \(draw 1"):
        evaluate(tree, n=2, supplied={"d": [1.0, 0.0]})


def test_exponential_utility_over_draws_is_one_expected_utility():
    # With R = 100 and draws p in {0.2, 0.6}: the value of 'gamble' (100 w.p. p, else 0)
    # is the certainty equivalent of the mixture: EU = mean_p [1 - p e^-1 - (1 - p)]
    # = 1 - mean(p e^-1 + 1 - p); CE = -100 ln(mean(p e^-1 + 1 - p)).
    tree = load_tree(
        {
            "utility": {"type": "exponential", "risk_tolerance": 100},
            "parameters": {"p": {"supplied": True}},
            "root": {
                "type": "decision",
                "name": "D",
                "options": {
                    "gamble": {
                        "type": "chance",
                        "name": "G",
                        "outcomes": {
                            "win": {"probability": "p", "payoff": 100},
                            "lose": {"probability": "1 - p", "payoff": 0},
                        },
                    },
                    "sure": {"payoff": 30},
                },
            },
        }
    )
    p = np.array([0.2, 0.6])
    result = evaluate(tree, n=2, supplied={"p": p})
    per_draw = -100 * np.log(p * math.exp(-1) + 1 - p)
    np.testing.assert_allclose(result.root_values_per_draw.sel(option="gamble"), per_draw)
    mixture = -100 * math.log(np.mean(p * math.exp(-1) + 1 - p))
    assert result.options["gamble"] == pytest.approx(mixture)
    assert result.options["sure"] == pytest.approx(30)
    assert result.value_kind == "certainty equivalent"
    assert result.optimal == ("gamble" if mixture > 30 else "sure")
    # Knowing p: the better of the two in each draw, combined in utility space.
    informed = -100 * math.log(np.mean(np.exp(-np.maximum(per_draw, 30) / 100)))
    assert result.evpi_parameters() == pytest.approx(informed - result.value)
    assert result.to_dict()["utility"] == {"type": "exponential", "risk_tolerance": 100.0}


def test_exponential_utility_is_stable_for_large_payoffs():
    tree = load_tree(
        {
            "utility": {"type": "exponential", "risk_tolerance": 1},
            "root": {
                "type": "decision",
                "name": "D",
                "options": {
                    "risky": {
                        "type": "chance",
                        "name": "C",
                        "outcomes": {
                            "big": {"probability": 0.5, "payoff": 5000},
                            "loss": {"probability": 0.5, "payoff": -2000},
                        },
                    },
                    "never": {
                        "type": "chance",
                        "name": "N",
                        "outcomes": {
                            "huge loss": {"probability": 0, "payoff": -1e6},
                            "fine": {"probability": 1, "payoff": 10},
                        },
                    },
                },
            },
        }
    )
    result = evaluate(tree)
    # CE = -ln(0.5 e^-5000 + 0.5 e^2000) = -2000 + ln 2 (no overflow).
    assert result.options["risky"] == pytest.approx(-2000 + math.log(2))
    assert result.options["never"] == pytest.approx(10)


def test_risk_tolerance_must_be_constant_and_positive():
    data = {
        "utility": {"type": "exponential", "risk_tolerance": "R"},
        "parameters": {"R": {"supplied": True}},
        "root": {"type": "decision", "name": "D", "options": {"x": {"payoff": 1}}},
    }
    tree = load_tree(data)
    assert evaluate(tree, n=2, supplied={"R": [50.0, 50.0]}).value == pytest.approx(1)
    with pytest.raises(InputError, match="same in every draw"):
        evaluate(tree, n=2, supplied={"R": [50.0, 60.0]})
    with pytest.raises(InputError, match="> 0"):
        evaluate(tree, n=2, supplied={"R": [-5.0, -5.0]})


MULTI = {
    "parameters": {"w_cost": 0.6},
    "attributes": {
        "cost": {"weight": "w_cost", "scale": [100, 0], "units": "kUSD"},
        "quality": {"weight": "1 - w_cost", "scale": [0, 10]},
    },
    "root": {
        "type": "decision",
        "name": "Vendor",
        "options": {
            "A": {
                "payoff": {"cost": 10},
                "type": "chance",
                "name": "Delivery",
                "outcomes": {
                    "good": {"probability": 0.5, "payoff": {"cost": 20, "quality": 8}},
                    "poor": {"probability": 0.5, "payoff": {"quality": 4}},
                },
            },
            "B": {"payoff": {"cost": 60, "quality": 9}},
        },
    },
}


def test_multi_attribute_weights_and_scales():
    # Scaled values: (x - worst) / (best - worst), weights 0.6 and 0.4, totals per path.
    # A: cost 10 + 20 = 30 (good) or 10 (poor): 0.5 * 0.7 + 0.5 * 0.9 = 0.8 -> 0.48;
    #    quality 0.5 * 0.8 + 0.5 * 0.4 = 0.6 -> 0.24. Total 0.72.
    # B: cost 60 -> 0.4 -> 0.24; quality 0.9 -> 0.36. Total 0.60.
    tree = load_tree(copy.deepcopy(MULTI))
    result = evaluate(tree)
    assert result.options == pytest.approx({"A": 0.72, "B": 0.60})
    assert result.optimal == "A"
    # The weights are parameters: w_cost = 0.2 -> A: 0.2 * 0.8 + 0.8 * 0.6 = 0.64,
    # B: 0.2 * 0.4 + 0.8 * 0.9 = 0.80.
    shifted = evaluate(tree, overrides={"w_cost": 0.2})
    assert shifted.options == pytest.approx({"A": 0.64, "B": 0.80})
    assert shifted.optimal == "B"
    assert tree.attributes["cost"].units == "kUSD"


def test_multi_attribute_without_scale_is_a_weighted_sum():
    data = copy.deepcopy(MULTI)
    data["attributes"] = {"cost": -1, "quality": 10}
    result = evaluate(load_tree(data))
    # A: -(10 + 0.5 * 20) + 10 * (0.5 * 8 + 0.5 * 4) = -20 + 60 = 40; B: -60 + 90 = 30.
    assert result.options == pytest.approx({"A": 40, "B": 30})


def test_evpi_needs_consistent_instances():
    # The same uncertainty with different probabilities under two options of one
    # decision: a decision cannot change an uncertain event's probability.
    data = copy.deepcopy(GOFERBROKE)
    data["root"]["options"]["sell"] = {
        "type": "chance",
        "name": "Oil2",
        "uncertainty": "deposit",
        "outcomes": {
            "oil": {"probability": 0.5, "payoff": 90},
            "dry": {"probability": 0.5, "payoff": 90},
        },
    }
    result = evaluate(load_tree(data))
    with pytest.raises(InputError, match="different probabilities") as info:
        result.evpi("deposit")
    assert info.value.field == "Drill or sell"
    with pytest.raises(InputError, match="unknown uncertainty 'deposi'.*did you mean"):
        result.evpi("deposi")


def test_evpi_of_uncertainty_appearing_twice():
    # Two projects depend on one market; with the market known, choose per outcome:
    # good (0.4): B 300 vs A 100 -> 300; bad (0.6): A 50 vs B -100 -> 50. 0.4 * 300 + 0.6 * 50
    # = 150. Without: A = 0.4 * 100 + 0.6 * 50 = 70, B = 0.4 * 300 - 0.6 * 100 = 60 -> 70.
    # EVPI = 80.
    market = {"type": "chance", "name": "Market", "uncertainty": "market"}
    data = {
        "root": {
            "type": "decision",
            "name": "Project",
            "options": {
                "A": {
                    **market,
                    "outcomes": {
                        "good": {"probability": 0.4, "payoff": 100},
                        "bad": {"probability": 0.6, "payoff": 50},
                    },
                },
                "B": {
                    **market,
                    "outcomes": {
                        "bad": {"probability": 0.6, "payoff": -100},
                        "good": {"probability": 0.4, "payoff": 300},
                    },
                },
            },
        }
    }
    result = evaluate(load_tree(data))
    assert result.value == pytest.approx(70)
    assert result.evpi("market") == pytest.approx(80)
    assert result.evpi_all() == pytest.approx({"market": 80})


def test_to_dict_is_json_ready():
    tree = load_tree(copy.deepcopy(GOFERBROKE))
    tree_uncertain = copy.deepcopy(GOFERBROKE)
    tree_uncertain["parameters"]["p_oil"] = {"distribution": "beta", "alpha": 2.5, "beta": 7.5}
    summary = evaluate(tree).to_dict(evpi=["deposit"])
    assert summary["optimal"] == "drill"
    assert summary["value"] == 100
    assert summary["options"] == {"drill": 100, "sell": 90}
    assert summary["evpi"] == {"deposit": 142.5}
    assert "probability_optimal" not in summary
    json.dumps(summary)
    uncertain = evaluate(load_tree(tree_uncertain), n=2000, seed=1)
    summary = uncertain.to_dict()
    assert summary["evpi"] == {}
    assert set(summary["probability_optimal"]) == {"drill", "sell"}
    assert sum(summary["probability_optimal"].values()) == pytest.approx(1)
    assert summary["evpi_parameters"] >= 0
    assert summary["seed"] == 1 and summary["draws"] == 2000
    json.dumps(summary)


def test_seeded_evaluations_repeat_and_accept_a_path():
    path = example_path("goferbroke")
    assert evaluate(path).value == pytest.approx(100)
    data = copy.deepcopy(GOFERBROKE)
    data["parameters"]["p_oil"] = {"distribution": "beta", "alpha": 2.5, "beta": 7.5}
    tree = load_tree(data)
    one, two = evaluate(tree, n=500, seed=7), evaluate(tree, n=500, seed=7)
    assert one.value == two.value
    assert one.probability_optimal == two.probability_optimal
    assert one.value == pytest.approx(100, abs=15)


def test_option_values_of_later_decisions_and_informed_values():
    tree = load_tree(example_path("goferbroke_survey"))
    result = evaluate(tree, n=10)
    fav = "Survey or not/survey/Seismic reading/favourable/Drill or sell"
    values = result.option_values[fav]
    assert values.shape == (10, 2)
    np.testing.assert_allclose(values.sel(option="drill"), 300)
    assert set(result.option_values) == set(result.expected)
    np.testing.assert_allclose(
        result.informed_option_values["Survey or not"].values, [[123, 100]] * 10
    )
    assert len(result.policy_per_draw) == 4
    assert "Survey or not" in repr(result.option_values)
    assert "optimal='survey'" in repr(result)


@pytest.mark.parametrize("utility", [None, {"type": "exponential", "risk_tolerance": 50}])
def test_many_draws_are_processed_in_blocks_with_the_same_answer(utility):
    # More than two blocks of draws (BLOCK = 16,384): block-wise expressions and chance
    # nodes must give what plain numpy gives on whole arrays.
    from decision.tree.expressions import BLOCK

    n = 2 * BLOCK + 1234
    rng = np.random.default_rng(5)
    p, a, b = rng.uniform(0, 1, n), rng.normal(10, 5, n), rng.normal(0, 3, n)
    before = [p.copy(), a.copy(), b.copy()]
    data = {
        "parameters": {"p": {"supplied": True}, "a": {"supplied": True}, "b": {"supplied": True}},
        "root": {
            "type": "decision",
            "name": "D",
            "options": {
                "go": {
                    "payoff": "-(b * 2) + 1",
                    "type": "chance",
                    "name": "C",
                    "outcomes": {
                        "up": {"probability": "p", "payoff": "a * 2 - b / 3"},
                        "down": {"probability": "1 - p", "payoff": "min(a, b) * 0.5"},
                    },
                },
                "stay": {"payoff": 4},
            },
        },
    }
    if utility:
        data["utility"] = utility
    result = evaluate(load_tree(data), n=n, supplied={"p": p, "a": a, "b": b})
    up, down, entry = a * 2 - b / 3, np.minimum(a, b) * 0.5, -(b * 2) + 1
    if utility is None:
        go = entry + p * up + (1 - p) * down
    else:
        R = 50.0
        go = entry - R * np.log(p * np.exp(-up / R) + (1 - p) * np.exp(-down / R))
    np.testing.assert_allclose(result.root_values_per_draw.sel(option="go"), go, rtol=1e-10)
    for original, array in zip(
        before, (p, a, b), strict=True
    ):  # the caller's draws are not modified
        np.testing.assert_array_equal(original, array)
