"""Property tests on random trees (hypothesis)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decision.tree import evaluate, load_tree

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PARAMETERS = {"a": 0.3, "b": 2.0, "q": 0.35, "r": 0.6}
PAYOFFS = st.one_of(
    st.integers(-100, 100), st.sampled_from(["a * 100", "b * 10 - 5", "min(a, 0.2) * 50", "-b"])
)


@st.composite
def subtree(draw, depth: int, counter: list, below_u: bool = False) -> dict:
    """Draw a random node mapping (decision, chance, or terminal) as a branch of its parent."""
    kinds = ["terminal"] if depth == 0 else ["terminal", "decision", "chance", "chance"]
    kind = draw(st.sampled_from(kinds))
    if kind == "terminal":
        return {}
    counter[0] += 1
    name = f"{kind[0].upper()}{counter[0]}"
    if kind == "decision":
        count = draw(st.integers(1, 3))
        options = {}
        for i in range(count):
            branch = draw(subtree(depth - 1, counter, below_u))
            if draw(st.booleans()):
                branch["payoff"] = draw(PAYOFFS)
            options[f"o{i}"] = branch
        return {"type": "decision", "name": name, "options": options}
    instance = not below_u and draw(st.booleans())
    if instance:  # an instance of the named uncertainty u (never below another)
        probabilities = {"hi": "r", "lo": "1 - r"}
        node = {"type": "chance", "name": name, "uncertainty": "u"}
    elif draw(st.booleans()):
        probabilities = {"up": "q", "down": "1 - q"}
        node = {"type": "chance", "name": name}
    else:
        weights = draw(st.lists(st.integers(0, 5), min_size=1, max_size=3).filter(any))
        total = sum(weights)
        probabilities = {f"e{i}": w / total for i, w in enumerate(weights)}
        node = {"type": "chance", "name": name}
    outcomes = {}
    for label, probability in probabilities.items():
        branch = draw(subtree(depth - 1, counter, below_u or instance))
        branch["probability"] = probability
        if draw(st.booleans()):
            branch["payoff"] = draw(PAYOFFS)
        outcomes[label] = branch
    node["outcomes"] = outcomes
    return node


@st.composite
def trees(draw) -> dict:
    counter = [0]
    options = {}
    for i in range(draw(st.integers(1, 3))):
        branch = draw(subtree(2, counter))
        if draw(st.booleans()):
            branch["payoff"] = draw(PAYOFFS)
        options[f"root{i}"] = branch
    data = {
        "name": "random",
        "parameters": dict(PARAMETERS),
        "root": {"type": "decision", "name": "Root", "options": options},
    }
    if draw(st.booleans()):
        data["utility"] = {
            "type": "exponential",
            "risk_tolerance": draw(st.sampled_from([30, 100, 1000])),
        }
    return data


def uncertain(data: dict) -> dict:
    """Return the same tree with every parameter supplied as draws."""
    data = copy.deepcopy(data)
    data["parameters"] = {name: {"supplied": True} for name in PARAMETERS}
    return data


def random_draws(seed: int, n: int = 40) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "a": rng.uniform(0, 1, n),
        "b": rng.normal(2, 1, n),
        "q": rng.uniform(0, 1, n),
        "r": rng.uniform(0.05, 0.95, n),
    }


def tolerance(result) -> float:
    scale = max([1.0] + [abs(v) for v in result.options.values()])
    return 1e-9 * scale


@SETTINGS
@given(trees(), st.integers(0, 2**16))
def test_decision_value_is_the_max_of_its_options(data, seed):
    result = evaluate(load_tree(uncertain(data)), draws=random_draws(seed))
    assert result.value == pytest.approx(max(result.options.values()))
    assert result.options[result.optimal] == result.value
    for path, options in result.expected.items():
        assert result.node_values[path] == pytest.approx(max(options.values()))
        assert result.policy[path] == max(options, key=options.get)
    informed = result.informed_option_values["Root"].values
    np.testing.assert_allclose(result._root_informed, informed.max(axis=1))


@SETTINGS
@given(trees(), st.integers(0, 2**16))
def test_evpi_is_never_negative(data, seed):
    tree = load_tree(uncertain(data))
    result = evaluate(tree, draws=random_draws(seed))
    tol = tolerance(result)
    assert result.evpi_parameters() >= -tol
    if "u" in tree.uncertainties:
        assert result.evpi("u") >= -tol
        assert np.all(result.evpi_per_draw("u") >= -1e-7 * max(1, abs(result.value)))
    deterministic = evaluate(load_tree(data))
    for name in deterministic.tree.uncertainties:
        assert deterministic.evpi(name) >= -tolerance(deterministic)


@SETTINGS
@given(trees(), st.integers(0, 2**16), st.data())
def test_adding_a_dominated_option_changes_nothing(data, seed, pick):
    draws = random_draws(seed)
    before = evaluate(load_tree(uncertain(data)), draws=draws)
    options = data["root"]["options"]
    copied = pick.draw(st.sampled_from(sorted(options)))
    worse = copy.deepcopy(options[copied])
    payoff = worse.get("payoff", 0)
    worse["payoff"] = f"({payoff}) - 1"
    extended = copy.deepcopy(data)
    extended["root"]["options"]["dominated"] = worse
    after = evaluate(load_tree(uncertain(extended)), draws=draws)
    assert after.optimal == before.optimal
    assert after.value == pytest.approx(before.value, rel=1e-12, abs=1e-12)
    assert after.options["dominated"] < before.options[copied]
    for option, value in before.options.items():
        assert after.options[option] == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert after.probability_optimal["dominated"] == 0
    for option, share in before.probability_optimal.items():
        assert after.probability_optimal[option] == share
    assert after.evpi_parameters() == pytest.approx(before.evpi_parameters(), abs=1e-9)
    for path, option in before.policy.items():
        assert after.policy[path] == option


@SETTINGS
@given(trees(), st.integers(1, 50))
def test_identical_draws_equal_the_deterministic_result(data, n):
    deterministic = evaluate(load_tree(data))
    same = {name: np.full(n, value) for name, value in PARAMETERS.items()}
    repeated = evaluate(load_tree(uncertain(data)), draws=same)
    assert repeated.n == n
    assert not repeated.is_uncertain
    assert repeated.optimal == deterministic.optimal
    assert repeated.policy == deterministic.policy
    assert repeated.value == pytest.approx(deterministic.value, rel=1e-9, abs=1e-9)
    for path, options in deterministic.expected.items():
        assert repeated.expected[path] == pytest.approx(options, rel=1e-9, abs=1e-9)
    scale = max(1, abs(deterministic.value))
    assert repeated.evpi_parameters() == pytest.approx(0, abs=1e-9 * scale)
    for name in deterministic.tree.uncertainties:
        assert repeated.evpi(name) == pytest.approx(deterministic.evpi(name), rel=1e-9, abs=1e-9)


def _policy_values(tree, env, n, outcome=None):
    """Per-draw value of every fixed policy, by enumerating paths (a brute-force reference).

    With ``outcome``, every instance of uncertainty 'u' takes that outcome.
    """
    import itertools

    decisions = list(tree.decision_nodes)
    R = None if tree.utility.is_linear else float(tree.utility.risk_tolerance.constant)

    def amount(expr):
        return np.broadcast_to(np.asarray(expr(env), dtype=float), (n,))

    def paths(node, policy, probability, total):
        if node.kind == "terminal":
            yield probability, total
            return
        branches = node.branches
        if node.kind == "decision":
            branches = [branches[policy[node.path]]]
        for branch in branches:
            if outcome is not None and node.uncertainty == "u":
                p = probability * float(branch.label == outcome)
            elif branch.probability is None:
                p = probability
            else:
                p = probability * amount(branch.probability)
            c = total if branch.payoff is None else total + amount(branch.payoff)
            yield from paths(branch.node, policy, p, c)

    values = []
    for choice in itertools.product(*[range(len(tree.nodes[p].branches)) for p in decisions]):
        policy = dict(zip(decisions, choice, strict=True))
        if R is None:
            per_draw = sum(p * x for p, x in paths(tree.root, policy, 1.0, np.zeros(n)))
        else:  # per-draw certainty equivalent of the path lottery
            per_draw = -R * np.log(
                sum(p * np.exp(-x / R) for p, x in paths(tree.root, policy, 1.0, np.zeros(n)))
            )
        values.append(per_draw)
    return np.array(values), R


def _certainty_equivalent(values, R):
    return float(np.mean(values)) if R is None else float(-R * np.log(np.mean(np.exp(-values / R))))


@SETTINGS
@given(trees(), st.integers(0, 2**16))
def test_expected_policy_is_the_best_fixed_policy(data, seed):
    from hypothesis import assume

    tree = load_tree(uncertain(data))
    counts = [len(node.branches) for node in tree.decision_nodes.values()]
    assume(int(np.prod(counts)) <= 300)
    draws = random_draws(seed, n=12)
    result = evaluate(tree, draws=draws)
    env = {k: np.asarray(v) for k, v in result.parameters.items()}
    values, R = _policy_values(tree, env, result.n)
    best_fixed = max(_certainty_equivalent(v, R) for v in values)
    scale = max(1.0, abs(best_fixed))
    assert result.value == pytest.approx(best_fixed, rel=1e-9, abs=1e-9 * scale)
    # Knowing the parameters, the best policy is chosen in each draw.
    informed = _certainty_equivalent(values.max(axis=0), R)
    assert result.value + result.evpi_parameters() == pytest.approx(
        informed, rel=1e-9, abs=1e-9 * scale
    )


@SETTINGS
@given(trees(), st.integers(0, 2**16))
def test_evpi_of_an_uncertainty_matches_brute_force(data, seed):
    # Instances of u all have P(hi) = r and nothing else depends on u, so the value with
    # information is sum_k max over fixed policies of E_draws[P(k) V_policy given k].
    from hypothesis import assume

    tree = load_tree(uncertain(data))
    assume("u" in tree.uncertainties)
    counts = [len(node.branches) for node in tree.decision_nodes.values()]
    assume(int(np.prod(counts)) <= 300)
    draws = random_draws(seed, n=12)
    result = evaluate(tree, draws=draws)
    env = {k: np.asarray(v) for k, v in result.parameters.items()}
    total = 0.0
    for outcome, probability in (("hi", env["r"]), ("lo", 1 - env["r"])):
        values, R = _policy_values(tree, env, result.n, outcome)
        if R is None:
            total += max(float(np.mean(probability * v)) for v in values)
        else:
            total += min(float(np.mean(probability * np.exp(-v / R))) for v in values)
    with_information = total if R is None else -R * np.log(total)
    scale = max(1.0, abs(with_information))
    assert result.value + result.evpi("u") == pytest.approx(
        with_information, rel=1e-9, abs=1e-9 * scale
    )
