"""Read and check a tree file (YAML) or mapping into a :class:`~decision.tree.model.Tree`."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.core.yaml import MAX_FILE_BYTES, read_yaml_file
from decision.tree.expressions import Expression, compile_expression
from decision.tree.model import PATH_SEPARATOR, Attribute, Branch, Node, Tree, Utility
from decision.tree.parameters import check_name, parse_parameters

__all__ = ["load_tree", "read_yaml", "MAX_FILE_BYTES", "MAX_NODES", "MAX_DEPTH"]

#: Largest tree file read, in bytes.
#: Most nodes in a tree, counting every copy of an aliased subtree.
MAX_NODES = 20_000
#: Most levels of nodes from the root to a leaf.
MAX_DEPTH = 100

TOP_KEYS = (
    "name",
    "units",
    "description",
    "source",
    "parameters",
    "utility",
    "attributes",
    "templates",
    "root",
)
NODE_KEYS = ("type", "name", "description", "options", "outcomes", "uncertainty")
BRANCH_KEYS = ("probability", "payoff") + NODE_KEYS
NODE_TYPES = ("decision", "chance", "terminal")
UTILITY_TYPES = ("linear", "exponential")
ATTRIBUTE_KEYS = ("weight", "scale", "units", "description")


class _TreeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2 booleans and no duplicate keys.

    Only ``true``/``false`` are booleans, so outcome labels such as ``yes``, ``no``, ``on`` and
    ``off`` stay text; a key written twice in one mapping is an error instead of silently
    keeping the last.
    """


_TreeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_TreeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _TreeLoader, node: yaml.MappingNode, deep: bool = False):
    seen = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r} (first at line {seen[key].line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark
        except TypeError:  # unhashable key: let PyYAML report it
            pass
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_TreeLoader.construct_mapping = _construct_mapping


def read_yaml(path: str | os.PathLike):
    """Read a YAML file safely (no code, no duplicate keys, size-limited)."""
    # A SafeLoader subclass; aliases are limited by the builder's node count (MAX_NODES).
    return read_yaml_file(
        path,
        what="a tree file (YAML)",
        max_bytes=MAX_FILE_BYTES,
        loader=_TreeLoader,
        max_nodes=None,
    )


def load_tree(source, *, name: str | None = None) -> Tree:
    """Read a decision tree.

    Parameters
    ----------
    source
        A path (``str`` or :class:`~pathlib.Path`) to a YAML file, or an already-parsed
        mapping with the same structure.
    name
        The tree's name; by default the file's ``name``, else the file stem, else ``"tree"``.

    Returns
    -------
    Tree

    Raises
    ------
    InputError
        For anything that does not follow docs/tree-format.md, naming the file and the node
        path (or parameter) at fault.
    """
    file = None
    if isinstance(source, (str, os.PathLike)):
        file = Path(source)
        data = read_yaml(file)
    elif isinstance(source, Mapping):
        data = source
    else:
        raise InputError(f"expected a path or a mapping, got {type(source).__name__}")
    if not isinstance(data, Mapping):
        raise InputError(
            f"a tree file must be a mapping with a 'root', got {type(data).__name__}", file=file
        )
    return _Builder(data, file=file, name=name).build()


def _label(key, *, file, field) -> str:
    if isinstance(key, bool) or key is None or not isinstance(key, (str, int, float)):
        raise InputError(f"branch label {key!r} must be text", file=file, field=field)
    label = str(key).strip()
    if not label:
        raise InputError("branch label is empty", file=file, field=field)
    if PATH_SEPARATOR in label:
        raise InputError(
            f"branch label {label!r} must not contain '{PATH_SEPARATOR}'", file=file, field=field
        )
    return label


class _Builder:
    """Walks the raw mapping once, checking keys and compiling expressions."""

    def __init__(self, data: Mapping, *, file: Path | None, name: str | None):
        self.data = data
        self.file = file
        self.name = name
        self.count = 0
        self.nodes: dict[str, Node] = {}
        self.instances: dict[str, list[Node]] = {}
        self.decision_names: dict[str, None] = {}
        self.compiled: dict = {}

    def error(self, message: str, field: str | None) -> InputError:
        return InputError(message, file=self.file, field=field)

    def check_keys(self, mapping: Mapping, allowed, field: str, what: str) -> None:
        for key in mapping:
            if key not in allowed:
                raise self.error(
                    f"unknown key '{key}'{did_you_mean(str(key), allowed)} in {what}; "
                    "allowed: " + ", ".join(allowed),
                    field,
                )

    def text(self, mapping: Mapping, key: str, field: str) -> str | None:
        value = mapping.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(f"'{key}' must be text, got {value!r}", field)
        return str(value)

    def build(self) -> Tree:
        data = self.data
        self.check_keys(data, TOP_KEYS, "top level", "the tree file")
        name = (
            self.name
            or self.text(data, "name", "name")
            or (self.file.stem if self.file is not None else "tree")
        )
        self.parameters = parse_parameters(data.get("parameters"), file=self.file)
        self.known = list(self.parameters)
        utility = self.utility(data.get("utility"))
        self.attributes = self.parse_attributes(data.get("attributes"))
        if "root" not in data or data["root"] is None:
            raise self.error("the tree has no 'root' node", "root")
        raw_root = data["root"]
        if not isinstance(raw_root, Mapping):
            raise self.error(
                f"'root' must be a mapping (a decision or chance node), got "
                f"{type(raw_root).__name__}",
                "root",
            )
        self.check_keys(raw_root, NODE_KEYS, "the root node", "root")
        kind = self.node_type(raw_root, "root")
        if kind == "terminal":
            raise self.error("the root must be a decision or a chance node", "root")
        root = self.node(raw_root, None, kind, "root", depth=0)
        self.check_instances(root)
        return Tree(
            name=name,
            units=self.text(data, "units", "units"),
            description=self.text(data, "description", "description"),
            parameters=self.parameters,
            root=root,
            utility=utility,
            attributes=self.attributes,
            uncertainties=tuple(self.instances),
            decision_names=tuple(self.decision_names),
            nodes=self.nodes,
            source=self.file,
        )

    # ---------------------------------------------------------------- top-level sections

    def expression(self, value, what: str, field: str) -> Expression:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return compile_expression(value, self.known, what=what, file=self.file, field=field)
        key = (type(value), value)
        cached = self.compiled.get(key)
        if cached is None:
            cached = compile_expression(value, self.known, what=what, file=self.file, field=field)
            self.compiled[key] = cached
        return cached

    def utility(self, raw) -> Utility:
        if raw is None:
            return Utility()
        if isinstance(raw, str):
            raw = {"type": raw}
        if not isinstance(raw, Mapping):
            raise self.error(
                f"'utility' must be a mapping such as {{type: linear}}, got {raw!r}", "utility"
            )
        kind = raw.get("type", "linear")
        if kind not in UTILITY_TYPES:
            raise self.error(
                f"unknown utility type {kind!r}{did_you_mean(str(kind), UTILITY_TYPES)}; "
                "expected linear or exponential",
                "utility.type",
            )
        if kind == "linear":
            self.check_keys(raw, ("type", "description"), "utility", "a linear utility")
            return Utility()
        self.check_keys(
            raw, ("type", "risk_tolerance", "description"), "utility", "an exponential utility"
        )
        if raw.get("risk_tolerance") is None:
            raise self.error(
                "an exponential utility needs 'risk_tolerance' (R > 0, in payoff units)",
                "utility.risk_tolerance",
            )
        tolerance = self.expression(
            raw["risk_tolerance"], "risk_tolerance", "utility.risk_tolerance"
        )
        if tolerance.constant is not None and tolerance.constant <= 0:
            raise self.error(
                f"risk_tolerance must be > 0, got {tolerance.constant}", "utility.risk_tolerance"
            )
        return Utility("exponential", tolerance)

    def parse_attributes(self, raw) -> dict[str, Attribute]:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping) or not raw:
            raise self.error(
                "'attributes' must be a non-empty mapping of attribute names to "
                "weights or {weight: ..., scale: [worst, best]}",
                "attributes",
            )
        out = {}
        for key, spec in raw.items():
            where = f"attributes.{key}"
            name = check_name(key, file=self.file, field_name=where, what="attribute name")
            if not isinstance(spec, Mapping):
                spec = {"weight": spec}
            self.check_keys(spec, ATTRIBUTE_KEYS, where, f"attribute '{name}'")
            if spec.get("weight") is None:
                raise self.error(f"attribute '{name}' needs a 'weight'", where)
            weight = self.expression(spec["weight"], "weight", where)
            scale = None
            if spec.get("scale") is not None:
                value = spec["scale"]
                if (
                    not isinstance(value, (list, tuple))
                    or len(value) != 2
                    or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)
                    or value[0] == value[1]
                ):
                    raise self.error(
                        f"scale must be [worst, best], two different numbers, got {value!r}",
                        f"{where}.scale",
                    )
                scale = (float(value[0]), float(value[1]))
            out[name] = Attribute(
                name,
                weight,
                scale,
                self.text(spec, "units", where),
                self.text(spec, "description", where),
            )
        return out

    # ------------------------------------------------------------------------ the nodes

    def node_type(self, raw: Mapping, field: str) -> str:
        kind = raw.get("type")
        if kind is None:
            if "options" in raw and "outcomes" in raw:
                raise self.error(
                    "a node has either 'options' (decision) or 'outcomes' (chance), not both", field
                )
            if "options" in raw:
                return "decision"
            if "outcomes" in raw:
                return "chance"
            return "terminal"
        if kind not in NODE_TYPES:
            raise self.error(
                f"unknown node type {kind!r}{did_you_mean(str(kind), NODE_TYPES)}; "
                "expected decision, chance or terminal",
                field,
            )
        return kind

    def node(
        self, raw: Mapping, name_path: str | None, kind: str, field: str, *, depth: int
    ) -> Node:
        """Build the node described by ``raw`` (a root or branch mapping)."""
        self.count += 1
        if self.count > MAX_NODES:
            raise self.error(
                f"the tree has more than {MAX_NODES} nodes (counting every copy "
                "of an aliased subtree)",
                field,
            )
        if depth > MAX_DEPTH:
            raise self.error(f"the tree is more than {MAX_DEPTH} levels deep", field)
        description = self.text(raw, "description", field)
        if kind == "terminal":
            for key in ("options", "outcomes", "uncertainty"):
                if key in raw:
                    raise self.error(f"a terminal node has no '{key}'", field)
            name = self.text(raw, "name", field)
            node = Node("terminal", name, field, (), None, description, False)
            self.nodes[field] = node
            return node
        name = self.text(raw, "name", field)
        if name is None:
            raise self.error(f"a {kind} node needs a 'name'", field)
        name = name.strip()
        if not name or PATH_SEPARATOR in name:
            raise self.error(
                f"node name {name!r} must be non-empty and must not contain '{PATH_SEPARATOR}'",
                field,
            )
        path = name if name_path is None else f"{name_path}{PATH_SEPARATOR}{name}"
        key = "options" if kind == "decision" else "outcomes"
        wrong = "outcomes" if kind == "decision" else "options"
        if wrong in raw:
            raise self.error(f"a {kind} node has '{key}', not '{wrong}'", path)
        uncertainty = None
        if "uncertainty" in raw:
            if kind != "chance":
                raise self.error("only a chance node can be an instance of an 'uncertainty'", path)
            uncertainty = self.text(raw, "uncertainty", path)
            if not uncertainty or not uncertainty.strip():
                raise self.error("'uncertainty' must be a non-empty name", path)
            uncertainty = uncertainty.strip()
        # Reserve the place of this node, its name and its uncertainty: file order (the
        # node before the nodes below it).
        self.nodes[path] = None
        if kind == "decision":
            self.decision_names.setdefault(name, None)
        if uncertainty is not None:
            self.instances.setdefault(uncertainty, [])
        raw_branches = raw.get(key)
        if raw_branches is None or (isinstance(raw_branches, Mapping) and not raw_branches):
            what = (
                "an empty decision: give it at least one option"
                if kind == "decision"
                else "a chance node without outcomes: give it at least one"
            )
            raise self.error(f"{what} under '{key}'", path)
        if not isinstance(raw_branches, Mapping):
            raise self.error(
                f"'{key}' must be a mapping of {key[:-1]} names to branches, got "
                f"{type(raw_branches).__name__}",
                path,
            )
        branches = []
        for raw_label, raw_branch in raw_branches.items():
            label = _label(raw_label, file=self.file, field=path)
            branches.append(self.branch(raw_branch, label, path, kind, depth=depth))
        contains = kind == "decision" or any(b.node.contains_decision for b in branches)
        node = Node(kind, name, path, tuple(branches), uncertainty, description, contains)
        if uncertainty is not None:
            self.instances[uncertainty].append(node)
        self.nodes[path] = node
        return node

    def branch(self, raw, label: str, parent_path: str, parent_kind: str, *, depth: int) -> Branch:
        path = f"{parent_path}{PATH_SEPARATOR}{label}"
        if raw is None and parent_kind == "decision":
            raw = {}
        if not isinstance(raw, Mapping):
            expected = "probability" if parent_kind == "chance" else "payoff"
            raise self.error(
                f"a branch must be a mapping (with '{expected}' ...), got {raw!r}", path
            )
        self.check_keys(raw, BRANCH_KEYS, path, "a branch")
        probability = None
        if parent_kind == "chance":
            if raw.get("probability") is None:
                raise self.error("an outcome needs a 'probability'", path)
            probability = self.expression(raw["probability"], "probability", path)
            value = probability.constant
            if value is not None and not 0.0 <= value <= 1.0:
                raise self.error(
                    f"probability {probability.text} = {value:g} is outside [0, 1]", path
                )
        elif "probability" in raw:
            raise self.error(
                "'probability' belongs to outcomes of a chance node, not to the "
                "options of a decision",
                path,
            )
        payoff = self.payoff(raw.get("payoff"), path)
        kind = self.node_type(raw, path)
        node = self.node(raw, path, kind, path, depth=depth + 1)
        return Branch(label, path, node, probability, payoff, self.text(raw, "description", path))

    def payoff(self, raw, path: str):
        if raw is None:
            return None
        if isinstance(raw, Mapping):
            if not self.attributes:
                raise self.error(
                    "payoff is a mapping of attributes, but the tree declares no 'attributes'", path
                )
            out = {}
            for key, value in raw.items():
                if key not in self.attributes:
                    hint = did_you_mean(str(key), self.attributes)
                    raise self.error(
                        f"unknown attribute '{key}'{hint} in payoff; declared: "
                        + ", ".join(self.attributes),
                        path,
                    )
                out[key] = self.expression(value, f"payoff '{key}'", path)
            return out
        if self.attributes:
            raise self.error(
                "with 'attributes' declared, a payoff must be a mapping of "
                "attribute to value, e.g. {" + next(iter(self.attributes)) + ": 10}",
                path,
            )
        return self.expression(raw, "payoff", path)

    def check_instances(self, root: Node) -> None:
        stack = [(root, frozenset())]
        while stack:
            node, above = stack.pop()
            if node.uncertainty is not None:
                if node.uncertainty in above:
                    raise self.error(
                        f"this chance node is an instance of uncertainty '{node.uncertainty}' "
                        "below another instance of it: an uncertain event is resolved once on "
                        "a path (use a different uncertainty name for a different event)",
                        node.path,
                    )
                above = above | {node.uncertainty}
            stack.extend((b.node, above) for b in node.branches)
        for name, nodes in self.instances.items():
            first = nodes[0]
            for other in nodes[1:]:
                if set(other.labels) != set(first.labels):
                    raise self.error(
                        f"chance nodes of uncertainty '{name}' must have the same outcomes: "
                        f"'{first.path}' has {list(first.labels)}, this one has "
                        f"{list(other.labels)}",
                        other.path,
                    )
