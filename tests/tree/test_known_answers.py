"""Published textbook problems, solved by hand in the comments and checked against the engine.

Sources
-------
* Hillier, F. S. & Lieberman, G. J., *Introduction to Operations Research*, McGraw-Hill,
  chapter "Decision Analysis": the Goferbroke Co. problem (with and without the seismic
  survey; the chapter computes EVPI 142.5, EV with experimentation 153 and EVE 53).
* Winston, W. L., *Operations Research: Applications and Algorithms*, 4th ed., Duxbury,
  section "Decision Trees": Colaco's Chocola (EVSI 24,000 and EVPI 45,000).
* Clemen, R. T. & Reilly, T., *Making Hard Decisions*, chapter 4: Texaco versus Pennzoil
  (EMV of the $5 billion counteroffer 4.63).
* Howard, R. A. & Abbas, A. E., *Foundations of Decision Analysis*, Pearson 2016: Kim's party
  problem with the exponential u-curve u(x) = 4/3 (1 - 2^(-x/50)).

The example files are shipped in decision/tree/examples and tested here as published.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from decision.tree import evaluate, example_path, load_tree


def example(name: str):
    return load_tree(example_path(name))


def test_goferbroke_drill_ev_100_and_evpi_142_5():
    # EV(drill) = 0.25 * 700 + 0.75 * (-100) = 175 - 75 = 100 > 90 = EV(sell): drill.
    # With perfect information: oil (0.25) -> drill 700, dry (0.75) -> sell 90:
    # 0.25 * 700 + 0.75 * 90 = 175 + 67.5 = 242.5, so EVPI = 242.5 - 100 = 142.5.
    result = evaluate(example("goferbroke"))
    assert result.optimal == "drill"
    assert result.value == pytest.approx(100)
    assert result.options == pytest.approx({"drill": 100, "sell": 90})
    assert result.evpi("deposit") == pytest.approx(142.5)
    assert result.policy == {"Drill or sell": "drill"}
    # No parameter is uncertain: EVPI of the parameters is 0, drill is best in every draw.
    assert result.evpi_parameters() == 0
    assert result.probability_optimal == {"drill": 1.0, "sell": 0.0}


def test_goferbroke_survey_evsi_53_so_survey():
    # P(fav) = 0.6 * 0.25 + 0.2 * 0.75 = 0.15 + 0.15 = 0.3; P(oil | fav) = 0.15 / 0.3 = 0.5;
    # P(oil | unfav) = 0.1 / 0.7 = 1/7.
    # Favourable: drill = 0.5 * 700 - 0.5 * 100 = 300 > 90: drill.
    # Unfavourable: drill = 700/7 - 600/7 = 14.29 < 90: sell.
    # EV with the free survey = 0.3 * 300 + 0.7 * 90 = 90 + 63 = 153; EVSI = 153 - 100 = 53.
    # Net of its cost 30: 123 > 100, so survey.
    tree = example("goferbroke_survey")
    result = evaluate(tree)
    assert result.optimal == "survey"
    assert result.value == pytest.approx(123)
    assert result.options == pytest.approx({"survey": 123, "no survey": 100})
    favourable = "Survey or not/survey/Seismic reading/favourable/Drill or sell"
    unfavourable = "Survey or not/survey/Seismic reading/unfavourable/Drill or sell"
    assert result.policy[favourable] == "drill"
    assert result.policy[unfavourable] == "sell"
    assert result.expected[favourable] == pytest.approx({"drill": 300, "sell": 90})
    assert result.expected[unfavourable]["drill"] == pytest.approx(100 / 7)
    free = evaluate(tree, overrides={"survey_cost": 0})
    evsi = free.options["survey"] - free.options["no survey"]
    assert evsi == pytest.approx(53)
    # The same from the result with the cost: 123 + 30 - 100.
    assert result.options["survey"] + 30 - result.options["no survey"] == pytest.approx(53)


def test_goferbroke_survey_evpi_of_the_deposit_conditions_the_reading():
    # Knowing oil / dry first makes the survey worthless: the best is 242.5 (as without the
    # survey option). The instances of 'deposit' have different probabilities (0.25, 0.5,
    # 1/7) because the reading is informative; conditioning on the outcome re-weights the
    # reading by Bayes' rule. EVPI = 242.5 - 123 = 119.5.
    result = evaluate(example("goferbroke_survey"))
    assert result.evpi("deposit") == pytest.approx(119.5)


def test_goferbroke_survey_drawn_tree_shows_net_payoffs():
    # Hillier & Lieberman's tree shows the survey branch's payoffs net of the cost:
    # 670, -130 and 60, and 270 at the favourable decision (0.5 * 670 - 0.5 * 130).
    result = evaluate(example("goferbroke_survey"))
    totals = result.node_totals
    base = "Survey or not/survey/Seismic reading/favourable/Drill or sell"
    assert totals[base] == pytest.approx(270)
    assert totals[f"{base}/drill/Oil/oil"] == pytest.approx(670)
    assert totals[f"{base}/drill/Oil/dry"] == pytest.approx(-130)
    assert totals[f"{base}/sell"] == pytest.approx(60)


def test_colaco_market_now_ev_270000_evsi_24000_evpi_45000():
    # Final asset positions, assets 150,000.
    # Market now: 0.55 * 450,000 + 0.45 * 50,000 = 247,500 + 22,500 = 270,000.
    # Test (cost 30,000): local success (0.6): market 0.85 * 420,000 + 0.15 * 20,000 =
    # 360,000 > 120,000; local failure (0.4): market 0.1 * 420,000 + 0.9 * 20,000 = 60,000
    # < 120,000: do not market. EV = 0.6 * 360,000 + 0.4 * 120,000 = 264,000.
    # EVWSI = 264,000 + 30,000 = 294,000; EVSI = 24,000.
    # EVWPI = 0.55 * 450,000 + 0.45 * 150,000 = 315,000; EVPI = 45,000.
    tree = example("colaco")
    result = evaluate(tree)
    assert result.optimal == "market nationally"
    assert result.value == pytest.approx(270_000)
    assert result.options == pytest.approx(
        {"test market": 264_000, "market nationally": 270_000, "do not market": 150_000}
    )
    success = "Colaco/test market/Local test/local success/Market nationally"
    failure = "Colaco/test market/Local test/local failure/Market nationally"
    assert result.policy[success] == "market"
    assert result.policy[failure] == "do not market"
    free = evaluate(tree, overrides={"test_cost": 0})
    assert free.options["test market"] - result.value == pytest.approx(24_000)
    assert result.evpi("national") == pytest.approx(45_000)


def test_texaco_pennzoil_counteroffer_emv_4_63():
    # Court: 0.2 * 10.3 + 0.5 * 5 + 0.3 * 0 = 2.06 + 2.5 = 4.56.
    # Texaco counteroffers 3: refuse (4.56) > accept (3).
    # Counteroffer 5: 0.17 * 5 + 0.5 * 4.56 + 0.33 * 4.56 = 0.85 + 2.28 + 1.5048 = 4.6348.
    result = evaluate(example("texaco_pennzoil"))
    assert result.optimal == "counteroffer 5"
    assert result.value == pytest.approx(4.6348)
    assert result.options["accept 2"] == pytest.approx(2)
    later = "Settlement/counteroffer 5/Texaco reaction/counteroffers 3/Texaco offers 3"
    assert result.policy[later] == "refuse"
    assert result.expected[later] == pytest.approx({"accept 3": 3, "refuse": 4.56})
    # The court subtree is one YAML anchor used twice: both copies are separate nodes.
    court = [p for p in result.tree.nodes if p.endswith("Final court decision")]
    assert len(court) == 2


def _ce(expected_u: float) -> float:
    """Certain equivalent under u(x) = 4/3 (1 - 2^(-x/50)): x = -50 log2(1 - 0.75 u)."""
    return -50 * math.log2(1 - 0.75 * expected_u)


def test_party_problem_exponential_utility_indoors_ce_45_83():
    # Kim's u-values from u(x) = 4/3 (1 - 2^(-x/50)), p(sun) = 0.4:
    # outdoors: 0.4 * u(100) + 0.6 * u(0) = 0.4 * 1 + 0 = 0.4             -> CE 25.73
    # porch:    0.4 * u(90) + 0.6 * u(20) = 0.4 * 0.9504 + 0.6 * 0.3229 = 0.5739 -> CE 40.60
    # indoors:  0.4 * u(40) + 0.6 * u(50) = 0.4 * 0.5675 + 0.6 * 0.6667 = 0.6270 -> CE 45.83
    # (CE = -50 log2(1 - 0.75 EU); the u-curve is 1 - exp(-x/R) rescaled, R = 50 / ln 2.)
    def u(x):
        return 4 / 3 * (1 - 2 ** (-x / 50))

    expected = {
        "outdoors": _ce(0.4 * u(100) + 0.6 * u(0)),
        "porch": _ce(0.4 * u(90) + 0.6 * u(20)),
        "indoors": _ce(0.4 * u(40) + 0.6 * u(50)),
    }
    assert expected["indoors"] == pytest.approx(45.83, abs=0.01)
    assert expected["porch"] == pytest.approx(40.60, abs=0.01)
    assert expected["outdoors"] == pytest.approx(25.73, abs=0.01)
    tree = example("party_problem")
    assert tree.utility.type == "exponential"
    result = evaluate(tree)
    assert result.value_kind == "certainty equivalent"
    assert result.optimal == "indoors"
    assert result.options == pytest.approx(expected)
    assert result.value == pytest.approx(45.83, abs=0.01)


def test_party_problem_value_of_clairvoyance_20_26():
    # With clairvoyance: sun (0.4) -> outdoors, u = 1; rain (0.6) -> indoors, u = 2/3.
    # EU = 0.4 + 0.4 = 0.8 -> CE = -50 log2(1 - 0.6) = 50 log2(2.5) = 66.10.
    # Value of clairvoyance = 66.10 - 45.83 = 20.26 (with exponential utility, the CE
    # difference is exactly the most Kim would pay).
    result = evaluate(example("party_problem"))
    with_clairvoyance = _ce(0.8)
    assert with_clairvoyance == pytest.approx(66.10, abs=0.01)
    assert result.evpi("weather") == pytest.approx(with_clairvoyance - result.value)
    assert result.evpi("weather") == pytest.approx(20.26, abs=0.01)


def test_party_problem_delta_property_buying_price():
    # Under exponential utility the EVPI equals the price b that makes Kim indifferent:
    # paying b out of every clairvoyant outcome lowers the CE by exactly b.
    result = evaluate(example("party_problem"))
    price = result.evpi("weather")
    R = 50 / math.log(2)
    eu = 0.4 * (1 - math.exp(-(100 - price) / R)) + 0.6 * (1 - math.exp(-(50 - price) / R))
    assert -R * math.log(1 - eu) == pytest.approx(result.value)


def test_examples_all_load_and_evaluate():
    from decision.tree import list_examples

    names = list_examples()
    assert {"goferbroke", "goferbroke_survey", "colaco", "texaco_pennzoil", "party_problem"} <= set(
        names
    )
    for name in names:
        result = evaluate(example(name), n=50, seed=0)
        assert np.isfinite(result.value)
