"""Reading tree files: the format, node paths, YAML features, and errors naming the node."""

from __future__ import annotations

import copy
import textwrap

import pytest

from decision.core.errors import InputError
from decision.tree import evaluate, example_path, load_tree, loading

#: The shipped Goferbroke example (Hillier & Lieberman), as text the tests can vary.
GOFERBROKE = example_path("goferbroke").read_text()


def write(tmp_path, text, name="tree.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def base() -> dict:
    return {
        "name": "T",
        "parameters": {"p": 0.3},
        "root": {
            "type": "decision",
            "name": "D",
            "options": {
                "go": {
                    "type": "chance",
                    "name": "C",
                    "outcomes": {
                        "up": {"probability": "p", "payoff": 10},
                        "down": {"probability": "1 - p", "payoff": -5},
                    },
                },
                "stop": {"payoff": 0},
            },
        },
    }


def error_of(data, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        load_tree(data, **kwargs)
    return info.value


def test_issue_example_loads_with_node_paths(tmp_path):
    tree = load_tree(write(tmp_path, GOFERBROKE))
    assert tree.name == "Goferbroke"
    assert tree.units == "thousand USD"
    assert tree.uncertainties == ("deposit",)
    assert tree.decision_names == ("Drill or sell",)
    assert list(tree.nodes) == [
        "Drill or sell",
        "Drill or sell/drill/Oil",
        "Drill or sell/drill/Oil/oil",
        "Drill or sell/drill/Oil/dry",
        "Drill or sell/sell",
    ]
    oil = tree.nodes["Drill or sell/drill/Oil"]
    assert oil.kind == "chance" and oil.uncertainty == "deposit"
    assert oil.labels == ("oil", "dry")
    assert oil.branches[1].probability.text == "1 - p_oil"
    assert tree.nodes["Drill or sell/sell"].kind == "terminal"
    assert tree.source == tmp_path / "tree.yaml"
    assert evaluate(tree).value == pytest.approx(100)


def test_name_defaults_and_override(tmp_path):
    data = base()
    del data["name"]
    assert load_tree(data).name == "tree"
    assert load_tree(data, name="Mine").name == "Mine"
    text = GOFERBROKE.replace("name: Goferbroke\n", "")
    assert load_tree(write(tmp_path, text, "gofer.yaml")).name == "gofer"


def test_sequential_decision_paths_and_inferred_types():
    data = base()
    data["root"]["options"]["go"]["outcomes"]["up"].update(
        {"name": "Sell or not", "options": {"sell": {"payoff": 3}, "keep": None}}
    )
    del data["root"]["options"]["go"]["type"]
    tree = load_tree(data)
    later = tree.nodes["D/go/C/up/Sell or not"]
    assert later.kind == "decision"
    assert tree.nodes["D/go/C/up/Sell or not/keep"].kind == "terminal"
    assert tree.root.contains_decision and tree.nodes["D/go/C"].contains_decision
    assert tree.decision_names == ("D", "Sell or not")


def test_yes_no_on_off_labels_stay_text(tmp_path):
    path = write(
        tmp_path,
        """\
        root:
          type: decision
          name: Go
          options:
            yes: {payoff: 1}
            no: {payoff: 0}
            on: {payoff: 2}
            off: {payoff: 3}
        """,
    )
    assert load_tree(path).root.labels == ("yes", "no", "on", "off")


def test_anchors_aliases_and_merge_keys_repeat_subtrees(tmp_path):
    path = write(
        tmp_path,
        """\
        templates:
          court: &court
            type: chance
            name: Court
            outcomes:
              win: {probability: 0.4, payoff: 10}
              lose: {probability: 0.6, payoff: 0}
        root:
          type: decision
          name: Settle
          options:
            settle: {payoff: 3}
            sue: *court
            negotiate:
              payoff: -1
              <<: *court
        """,
    )
    tree = load_tree(path)
    assert "Settle/sue/Court/win" in tree.nodes
    assert "Settle/negotiate/Court/win" in tree.nodes
    assert evaluate(tree).options == pytest.approx({"settle": 3, "sue": 4, "negotiate": 3})


def test_duplicate_keys_are_an_error(tmp_path):
    path = write(
        tmp_path,
        """\
        root:
          type: decision
          name: D
          options:
            a: {payoff: 1}
            a: {payoff: 2}
        """,
    )
    with pytest.raises(InputError, match="duplicate key 'a'.*line 5"):
        load_tree(path)


@pytest.mark.parametrize(
    "mutate, field, fragment",
    [
        (
            lambda d: d.update(paramters={}),
            "top level",
            "unknown key 'paramters' (did you mean 'parameters'?)",
        ),
        (
            lambda d: d["root"]["options"]["go"]["outcomes"]["up"].update(probabilty=0.3),
            "D/go/C/up",
            "unknown key 'probabilty' (did you mean 'probability'?)",
        ),
        (
            lambda d: d["root"]["options"]["go"].update(outcome={}),
            "D/go",
            "unknown key 'outcome' (did you mean 'outcomes'?)",
        ),
        (
            lambda d: d["root"]["options"]["go"].update(type="chanse"),
            "D/go",
            "unknown node type 'chanse' (did you mean 'chance'?)",
        ),
        (lambda d: d["root"].update(options={}), "D", "empty decision"),
        (lambda d: d["root"].pop("options"), "D", "empty decision"),
        (lambda d: d["root"]["options"]["go"].update(outcomes={}), "D/go/C", "without outcomes"),
        (
            lambda d: d["root"]["options"]["go"]["outcomes"]["up"].pop("probability"),
            "D/go/C/up",
            "needs a 'probability'",
        ),
        (
            lambda d: d["root"]["options"]["stop"].update(probability=0.5),
            "D/stop",
            "'probability' belongs to outcomes",
        ),
        (
            lambda d: d["root"]["options"]["go"]["outcomes"]["up"].update(probability=1.2),
            "D/go/C/up",
            "outside [0, 1]",
        ),
        (
            lambda d: d["root"]["options"]["go"]["outcomes"]["up"].update(probability="-0.1"),
            "D/go/C/up",
            "outside [0, 1]",
        ),
        (
            lambda d: d["root"]["options"]["go"]["outcomes"]["up"].update(probability="q"),
            "D/go/C/up",
            "undefined parameter 'q'",
        ),
        (
            lambda d: d["root"]["options"]["go"]["outcomes"]["up"].update(payoff="pp * 2"),
            "D/go/C/up",
            "undefined parameter 'pp' (did you mean 'p'?)",
        ),
        (
            lambda d: d["root"]["options"]["go"]["outcomes"]["up"].update(
                payoff="__import__('os')"
            ),
            "D/go/C/up",
            "function '__import__' is not allowed",
        ),
        (
            lambda d: d["root"]["options"]["go"]["outcomes"]["up"].update(payoff="p.real"),
            "D/go/C/up",
            "attribute access",
        ),
        (
            lambda d: d["root"]["options"]["go"]["outcomes"]["up"].update(payoff={"cost": 1}),
            "D/go/C/up",
            "declares no 'attributes'",
        ),
        (lambda d: d["root"]["options"]["go"].pop("name"), "D/go", "needs a 'name'"),
        (lambda d: d["root"]["options"]["go"].update(name="a/b"), "D/go", "must not contain '/'"),
        (lambda d: d["root"]["options"].update({"x/y": {}}), "D", "must not contain '/'"),
        (lambda d: d["root"].update(uncertainty="u"), "D", "only a chance node"),
        (lambda d: d["root"]["options"]["go"].update(options={}), "D/go/C", "not 'options'"),
        (lambda d: d["root"]["options"]["go"].update(type=None, options={}), "D/go", "not both"),
        (lambda d: d["root"].update(type="terminal"), "root", "root must be a decision"),
        (lambda d: d.pop("root"), "root", "no 'root'"),
        (lambda d: d["root"]["options"].update(stop=5), "D/stop", "must be a mapping"),
        (
            lambda d: d.update(utility={"type": "exponential"}),
            "utility.risk_tolerance",
            "needs 'risk_tolerance'",
        ),
        (
            lambda d: d.update(utility={"type": "exponential", "risk_tolerance": -3}),
            "utility.risk_tolerance",
            "must be > 0",
        ),
        (
            lambda d: d.update(utility={"type": "expo"}),
            "utility.type",
            "unknown utility type 'expo'",
        ),
        (
            lambda d: d.update(utility={"type": "linear", "risk_tolerance": 1}),
            "utility",
            "unknown key 'risk_tolerance'",
        ),
        (lambda d: d["parameters"].update(q="r", r="q + 1"), "parameters.q", "cycle: q -> r -> q"),
        (
            lambda d: d["parameters"].update(q={"distribution": "betta", "alpha": 1}),
            "parameters.q.distribution",
            "did you mean 'beta'",
        ),
        (
            lambda d: d["parameters"].update(q={"distribution": "beta", "alpha": 1}),
            "parameters.q",
            "missing 'beta'",
        ),
        (
            lambda d: d["parameters"].update(q={"distribution": "beta", "alpha": 0, "beta": 1}),
            "parameters.q",
            "must be > 0",
        ),
        (
            lambda d: d["parameters"].update(
                q={"distribution": "normal", "mean": 0, "sd": 1, "sdev": 2}
            ),
            "parameters.q",
            "unknown key 'sdev'",
        ),
        (
            lambda d: d["parameters"].update(q={"value": 1, "distribution": "beta"}),
            "parameters.q",
            "exactly one of",
        ),
        (lambda d: d["parameters"].update({"2x": 1}), "parameters.2x", "identifier"),
        (lambda d: d["parameters"].update({"exp": 1}), "parameters.exp", "name of a function"),
        (lambda d: d["parameters"].update({"__class__": 1}), "parameters.__class__", "identifier"),
    ],
)
def test_invalid_trees_name_the_node_path(mutate, field, fragment):
    data = copy.deepcopy(base())
    mutate(data)
    error = error_of(data)
    assert fragment in str(error)
    assert error.field == field


def test_errors_name_the_file(tmp_path):
    path = write(tmp_path, GOFERBROKE.replace("probability: p_oil,", "probability: p_oill,"))
    with pytest.raises(InputError) as info:
        load_tree(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}, field 'Drill or sell/drill/Oil/oil'")
    assert "did you mean 'p_oil'" in str(info.value)


def test_instances_of_one_uncertainty_need_the_same_outcomes():
    data = base()
    data["root"]["options"]["go"]["uncertainty"] = "market"
    data["root"]["options"]["stop"] = {
        "type": "chance",
        "name": "C2",
        "uncertainty": "market",
        "outcomes": {"up": {"probability": 1}, "flat": {"probability": 0}},
    }
    error = error_of(data)
    assert "same outcomes" in str(error) and error.field == "D/stop/C2"


def test_an_uncertainty_is_not_resolved_twice_on_a_path():
    data = base()
    chance = data["root"]["options"]["go"]
    chance["uncertainty"] = "market"
    chance["outcomes"]["up"].update(
        {
            "type": "chance",
            "name": "Again",
            "uncertainty": "market",
            "outcomes": {"up": {"probability": 1}, "down": {"probability": 0}},
        }
    )
    error = error_of(data)
    assert "below another instance" in str(error) and error.field == "D/go/C/up/Again"


def test_multi_attribute_keys_and_errors():
    data = base()
    data["attributes"] = {"cost": {"weight": 0.5, "scale": [100, 0]}, "time": 0.5}
    data["root"]["options"]["go"]["outcomes"]["up"]["payoff"] = {"cost": 20, "tiem": 3}
    error = error_of(data)
    assert "unknown attribute 'tiem' (did you mean 'time'?)" in str(error)
    data["root"]["options"]["go"]["outcomes"]["up"]["payoff"] = 7
    assert "must be a mapping of attribute" in str(error_of(data))
    data["attributes"]["cost"]["scale"] = [1, 1]
    assert "scale must be [worst, best]" in str(error_of(data))


def test_bad_yaml_missing_file_and_not_a_mapping(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_tree(tmp_path / "missing.yaml")
    with pytest.raises(InputError, match="row 3: not valid YAML"):
        load_tree(write(tmp_path, "root:\n  - [unclosed\n"))
    with pytest.raises(InputError, match="must be a mapping"):
        load_tree(write(tmp_path, "- 1\n- 2\n"))
    with pytest.raises(InputError, match="folder"):
        load_tree(tmp_path)
    with pytest.raises(InputError, match="expected a path or a mapping"):
        load_tree(42)


def test_yaml_cannot_construct_python_objects(tmp_path):
    path = write(tmp_path, "root: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_tree(path)


def test_size_depth_and_alias_bomb_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "MAX_FILE_BYTES", 100)
    with pytest.raises(InputError, match="more than the limit"):
        load_tree(write(tmp_path, GOFERBROKE))
    monkeypatch.undo()
    # Deep nesting: a chain of 150 decisions.
    node = {"payoff": 1}
    for i in range(150):
        node = {"type": "decision", "name": f"d{i}", "options": {"go": node}}
    with pytest.raises(InputError, match="levels deep"):
        load_tree({"root": node})
    # "Billion laughs": each level doubles the tree through aliases.
    lines = [
        "templates:",
        "  l0: &l0 {type: chance, name: c, outcomes: {a: {probability: 0.5},"
        " b: {probability: 0.5}}}",
    ]
    for i in range(1, 30):
        lines.append(
            f"  l{i}: &l{i} {{type: chance, name: c, outcomes: "
            f"{{a: {{probability: 0.5, <<: *l{i - 1}}}, "
            f"b: {{probability: 0.5, <<: *l{i - 1}}}}}}}"
        )
    lines.append("root: {type: decision, name: r, options: {x: *l29}}")
    monkeypatch.setattr(loading, "MAX_NODES", 2000)
    with pytest.raises(InputError, match="more than 2000 nodes"):
        load_tree(write(tmp_path, "\n".join(lines) + "\n"))
    # A subtree that contains itself.
    path = write(tmp_path, "root: &r {type: decision, name: r, options: {again: *r}}\n")
    with pytest.raises(InputError, match="levels deep"):
        load_tree(path)


def test_deeply_nested_yaml_is_a_clear_error(tmp_path):
    path = write(tmp_path, "root: " + "[" * 2000 + "]" * 2000 + "\n")
    with pytest.raises(InputError):
        load_tree(path)
