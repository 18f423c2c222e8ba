"""Hostile input: text from files shows as text and never runs; nothing hostile gets further.

YAML is loaded safely; tree expressions never reach eval, exec or attribute access; huge, deep
or truncated files fail with a clear error in bounded time and memory; parameters cannot write
outside ``--out``.

Time bounds here are hang guards for a loaded two-core machine (30 s), not benchmarks.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import json
import keyword
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from hardening_support import (
    HOSTILE_NAME,
    HOSTILE_NOTE,
    HOSTILE_RATIONALE,
    HOSTILE_SOURCE,
    TINY,
    bounded_memory,
    write_hostile_ledger,
    write_hostile_scenario,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decision.case import load_case
from decision.cli import main
from decision.core.errors import DecisionError, InputError
from decision.monitoring import add_observation, load_schedule, validate_ledger
from decision.observations import load_observations
from decision.report import (
    CONTENT_SECURITY_POLICY,
    check_run_name,
    load_parameter_file,
    parameters_code,
    parse_cli_parameters,
    render_from_manifest,
    render_report,
    validate_parameters,
)
from decision.sweep import load_sweep
from decision.tree import load_tree
from decision.tree.expressions import FUNCTIONS, MAX_EXPRESSION_LENGTH, compile_expression

HANG_GUARD = 30.0  # seconds


# ---------------------------------------------------------------------------
# What a browser would see: tags, attributes and text of a report
# ---------------------------------------------------------------------------


class _Page(HTMLParser):
    """Every element with its attributes, and the text a reader sees."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.chunks: list[str] = []
        self._skip = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag in ("style", "script"):
            self._skip += 1

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        if tag in ("style", "script") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def assert_inert(html: str) -> _Page:
    """No script, no event handler, no javascript: URL, nothing fetched from outside."""
    page = _Page(html)
    tags = [tag for tag, _ in page.elements]
    assert "script" not in tags
    assert "iframe" not in tags and "object" not in tags and "embed" not in tags
    for tag, attrs in page.elements:
        for key, value in attrs.items():
            assert not key.startswith("on"), (tag, key, value)
            assert "javascript:" not in value.lower(), (tag, key, value)
            assert "tracker.invalid" not in value, (tag, key, value)
            if key in ("src", "srcset") or (tag == "link" and key == "href"):
                assert value.startswith("data:"), (tag, key, value[:80])
        assert "mermaid" not in attrs.get("class", ""), (tag, attrs)
    policies = [
        a.get("content")
        for t, a in page.elements
        if t == "meta" and a.get("http-equiv", "").lower() == "content-security-policy"
    ]
    assert policies == [CONTENT_SECURITY_POLICY]
    return page


def _text(value: str) -> str:
    return " ".join(value.split())


def _injected_parameters(notebook: Path) -> dict:
    nb = json.loads(notebook.read_text())
    cells = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(cells) == 1
    values = {}
    for statement in ast.parse("".join(cells[0]["source"])).body:
        assert isinstance(statement, ast.Assign), ast.dump(statement)
        values[statement.targets[0].id] = ast.literal_eval(statement.value)
    return values


def test_hostile_text_in_the_brief_shows_as_text_and_never_runs(hostile_render):
    target, scenario, observations = hostile_render
    page = assert_inert((target / "report.html").read_text(encoding="utf-8"))
    text = _text(page.text)
    assert f"Scenario: {HOSTILE_NAME}." in text
    for piece in (
        "<script>document.title='pwned-description'</script>",
        "<img src=x onerror=\"document.title='pwned-img'\">",
        "![pixel](https://tracker.invalid/pixel.png)",
        "[click](javascript:document.title='pwned-link')",
        "<https://tracker.invalid/autolink>",
        "```mermaid",
        "# not a heading",
        "- not a list",
        _text(HOSTILE_RATIONALE),
    ):
        assert piece in text, piece
    # The file names were pasted into the notebook as string literals, not as code.
    injected = _injected_parameters(target / "report.ipynb")
    assert injected["scenario"] == str(scenario.resolve())
    assert injected["observations_file"] == str(observations.resolve())
    root = target.parent.parent
    assert not [p for p in root.rglob("PWNED*")]
    # Nothing was written beside the inputs, and the output folder holds only the report.
    assert sorted(p.name for p in scenario.parent.iterdir()) == sorted(
        [scenario.name, observations.name, observations.name + ".lock"]
    )
    assert sorted(p.name for p in target.parent.iterdir()) == [
        ".index.lock",
        "hostile",
        "index.html",
    ]
    analysis = json.loads((target / "analysis.json").read_text())
    assert analysis["scenario"] == HOSTILE_NAME


@pytest.fixture(scope="module")
def hostile_monitoring(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-monitoring")
    ledger = write_hostile_ledger(root / "ledger.csv")
    scenario = write_hostile_scenario(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DECISION_CACHE_DIR", str(root / "cache"))
        return render_report(
            {**TINY, "through": "2017-09", "ledger_file": str(ledger), "scenario": str(scenario)},
            template="monitoring",
            out_dir=root / "reports",
            name="2017-09",
        )


def test_hostile_sources_and_notes_in_the_monthly_report_show_as_text(hostile_monitoring):
    page = assert_inert((hostile_monitoring / "report.html").read_text(encoding="utf-8"))
    text = _text(page.text)
    for piece in (HOSTILE_SOURCE, _text(HOSTILE_NOTE), "<i onclick=alert(1)>no step tag</i>"):
        assert piece in text, piece
    assert not list(hostile_monitoring.parent.parent.rglob("PWNED*"))


# ---------------------------------------------------------------------------
# Parameters reach the notebook as literals
# ---------------------------------------------------------------------------

_plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(
            lambda name: not keyword.iskeyword(name)
        ),
        _plain,
        max_size=5,
    )
)
def test_any_plain_value_is_pasted_as_a_literal(values):
    code = parameters_code(values)  # raises if any value would not read back as a literal
    tree = ast.parse(code)
    assert all(isinstance(s, ast.Assign) for s in tree.body)
    assert {s.targets[0].id: ast.literal_eval(s.value) for s in tree.body} == values


@pytest.mark.parametrize(
    "text",
    [
        'x"; import os; os.mkdir("PWNED"); "',
        "x'''; import os; '''",
        'x""" + __import__("os").getcwd() + """',
        'back\\slash\\"quote\\',
        "new\nline\r\n\x00nul\x1b[31m",
        "{__import__('os').system('true')}",
        "\u202eright-to-left \U0001f4a3",
    ],
)
def test_hostile_strings_are_pasted_as_literals(text):
    values = {"scenario": text, "priors": {text: [text, {text: text}]}}
    tree = ast.parse(parameters_code(values))
    assert {s.targets[0].id: ast.literal_eval(s.value) for s in tree.body} == values


def _nested(depth):
    value = [1]
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value, match",
    [
        ({"dprk": b'x", "k": __import__("os").mkdir("PWNED"), "z": "'}, "got bytes"),
        ({"dprk": {1, 2}}, "got set"),
        ({"dprk": float("nan")}, "finite"),
        ({1: {}}, "text keys"),
        ({"dprk": {"a": _nested(25)}}, "levels deep"),
        ({"dprk": ["x" * 20_000]}, "longer than"),
    ],
)
def test_non_plain_parameter_values_are_refused(value, match):
    with pytest.raises(InputError, match=match):
        validate_parameters({"priors": value})


def test_binary_tag_in_a_parameter_file_cannot_run_code(tmp_path, capsys):
    """``!!binary`` is a safe YAML tag, but papermill would paste bytes unquoted: refused."""
    import base64

    payload = base64.b64encode(b'x", "k": __import__("os").mkdir("PWNED"), "z": "').decode()
    params = tmp_path / "params.yaml"
    params.write_text(f"priors: {{dprk: !!binary {payload}}}\n")
    out = tmp_path / "reports"
    assert main(["report", "--params", str(params), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "params.yaml" in err and "priors" in err, err
    assert main(["report", "-p", f"priors={{dprk: !!binary {payload}}}", "--out", str(out)]) == 2
    assert "priors" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.rglob("PWNED*"))


def test_the_parameters_cell_is_checked_before_anything_runs(tmp_path, monkeypatch):
    """If papermill ever pasted a value unquoted, the run stops before a kernel starts."""
    from papermill.translators import PythonTranslator

    monkeypatch.setattr(
        PythonTranslator, "translate_str", classmethod(lambda cls, val: f'"{val}"')
    )  # a translator bug
    scenario = tmp_path / 'x", __import__("os").mkdir("PWNED"), "y.yaml'
    scenario.write_text("name: x\n")
    with pytest.raises(DecisionError, match="would not reach the notebook"):
        render_report({**TINY, "scenario": str(scenario)}, out_dir=tmp_path / "reports")
    assert not list(tmp_path.rglob("PWNED*"))
    assert not list((tmp_path / "reports").glob("*staging*"))


# ---------------------------------------------------------------------------
# YAML: every reader is safe and bounded
# ---------------------------------------------------------------------------


def _billion_laughs() -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\nname: *a9\n"


HOSTILE_YAML = {
    "python-apply": "name: !!python/object/apply:os.mkdir ['{marker}']\n",
    "python-name": "name: !!python/name:os.mkdir\n",
    "python-new": "name: !!python/object/new:pathlib.Path ['{marker}']\n",
    "python-module": "name: !!python/module:os\n",
    "python-in-list": "parameters: [!!python/object/apply:os.mkdir ['{marker}']]\n",
    "billion-laughs": _billion_laughs(),
    "recursive-alias": "name: &a [*a]\n",
    "deep-flow": "name: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "deep-block": "".join(" " * i + f"k{i}:\n" for i in range(1500)) + " " * 1500 + "v\n",
    "truncated": "name: x\nparameters:\n  d_moral: {distribution: triangular, low: 0.1",
    "huge": "# padding\n" * 300_000 + "name: x\n",
    "huge-integer": "name: " + "9" * 5000 + "\n",
}


def _read_tree(path):
    return load_tree(path)


def _read_parameters(path):
    return validate_parameters(load_parameter_file(path), source=str(path))


def _read_cli(path):
    code = main(["report", "--params", str(path), "--out", str(path.parent / "reports")])
    if code == 2:
        raise InputError("exit 2")
    return code


READERS = {
    "tree": _read_tree,
    "scenario": load_case,
    "parameter file": _read_parameters,
    "schedule": load_schedule,
    "sweep": load_sweep,
    "decision report --params": _read_cli,
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("kind", HOSTILE_YAML)
def test_every_yaml_reader_refuses_hostile_files_quickly(
    tmp_path, monkeypatch, capsys, reader, kind
):
    import os

    marker = tmp_path / "PWNED"
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE_YAML[kind].replace("{marker}", str(marker)))
    started = time.monotonic()
    with bounded_memory(1500) as peak:
        with pytest.raises(InputError) as info:
            READERS[reader](path)
    elapsed = time.monotonic() - started
    assert elapsed < HANG_GUARD, elapsed
    assert peak[0] < 400, f"{peak[0]:.0f} MB"
    assert not marker.exists() and not calls
    if reader == "decision report --params":
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "hostile.yaml" in err, err
        assert not (tmp_path / "reports").exists()
    else:
        assert "hostile.yaml" in str(info.value)


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object/apply:os.mkdir [PWNED]",
        "[&a [x, x, x, x, x, x, x, x], &b [*a, *a, *a, *a, *a, *a, *a, *a], "
        "&c [*b, *b, *b, *b, *b, *b, *b, *b], &d [*c, *c, *c, *c, *c, *c, *c, *c], "
        "&e [*d, *d, *d, *d, *d, *d, *d, *d], &f [*e, *e, *e, *e, *e, *e, *e, *e], "
        "&g [*f, *f, *f, *f, *f, *f, *f, *f]]",
        "&a [*a]",
        "[" * 5000 + "]" * 5000,
    ],
)
def test_yaml_in_a_p_option_is_safe_and_bounded(value, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    with bounded_memory(1500) as peak:
        try:
            parsed = parse_cli_parameters([f"priors={value}"])
        except InputError:
            parsed = None
        if parsed is not None:  # a string or plain data: then the parameter check refuses it
            with pytest.raises(InputError):
                validate_parameters(parsed, source="-p")
    assert time.monotonic() - started < HANG_GUARD
    assert peak[0] < 400
    assert main(["report", "-p", f"priors={value}", "--out", str(tmp_path / "r")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists() and not (tmp_path / "PWNED").exists()


def test_a_device_or_fifo_is_not_read_without_limit(tmp_path):
    with pytest.raises(InputError, match="more than the limit"):
        load_parameter_file("/dev/zero")
    with pytest.raises(InputError, match="more than the limit"):
        load_observations("/dev/zero")


# ---------------------------------------------------------------------------
# Tree expressions: fuzzed, never eval/exec/compile, never attribute access
# ---------------------------------------------------------------------------

KNOWN = ("p", "q", "cost")
_ALLOWED_NODES = (
    ast.Expression,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
)


@contextlib.contextmanager
def no_code_execution():
    """``eval`` and ``exec`` raise; ``compile`` may only build a syntax tree (``ast.parse``)."""
    real_compile = builtins.compile

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec called on expression text")

    def ast_only(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:
            raise AssertionError("compile called to make code from expression text")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    saved = builtins.eval, builtins.exec, builtins.compile
    builtins.eval, builtins.exec, builtins.compile = forbidden, forbidden, ast_only
    try:
        yield
    finally:
        builtins.eval, builtins.exec, builtins.compile = saved


def _check_expression(text: str) -> None:
    env = {"p": np.linspace(0.01, 0.99, 7), "q": np.float64(0.25), "cost": np.arange(7.0)}
    with no_code_execution():
        try:
            expression = compile_expression(
                text, KNOWN, what="payoff", file="fuzz.yaml", field="root"
            )
        except InputError as exc:
            assert "fuzz.yaml" in str(exc)
            return
        value = expression(env)
    # Accepted: it must be inside the grammar (checked independently here) and numeric.
    tree = ast.parse(text.strip(), mode="eval")
    for node in ast.walk(tree):
        assert isinstance(node, _ALLOWED_NODES), (text, type(node).__name__)
        if isinstance(node, ast.Name):
            assert node.id in KNOWN or node.id in FUNCTIONS, text
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS, text
            assert not node.keywords, text
        if isinstance(node, ast.Constant):
            assert type(node.value) in (int, float), text
    assert np.asarray(value).dtype.kind == "f", (text, value)
    assert np.ndim(value) in (0, 1)


_ATOMS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.sampled_from(list(KNOWN) + ["1e308", "1e309", "0", "-0.0", "1_000", "0x1F", "1j"]),
    st.sampled_from(
        [
            "__import__",
            "__builtins__",
            "__class__",
            "__dict__",
            "os",
            "sys",
            "eval",
            "exec",
            "open",
            "getattr",
            "globals",
            "locals",
            "vars",
            "type",
            "object",
            "np",
            "numpy",
            "env",
            "self",
            "True",
            "None",
            "...",
            "'text'",
            "b'x'",
            "f'{p}'",
            "breakpoint",
            "compile",
            "input",
            "print",
        ]
    ),
)
_CALLABLES = list(FUNCTIONS) + [
    "eval",
    "exec",
    "__import__",
    "getattr",
    "open",
    "compile",
    "globals",
    "type",
    "print",
    "breakpoint",
    "setattr",
]


def _call(parts):
    name, args = parts
    return f"{name}({', '.join(args)})"


#: One-operand constructs around a generated expression. Sampled as one strategy: a branch of
#: ``one_of`` each made Hypothesis's recursive strategy slow to validate (about 18 s a run).
_WRAPPERS = [
    *(lambda c, op=op: f"{op}{c}" for op in ("-", "+", "~", "not ")),
    *(
        lambda c, name=name: f"{c}.{name}"
        for name in (
            "__class__",
            "__globals__",
            "__subclasses__",
            "__dict__",
            "real",
            "system",
            "mro",
        )
    ),
    lambda c: f"{c}[0]",
    lambda c: f"(lambda: {c})()",
    lambda c: f"[{c} for x in (1,)]",
    lambda c: f"sum(x for x in [{c}])",
    lambda c: f"{{{c}: 1}}",
    lambda c: f"(x := {c})",
    lambda c: f"min(*[{c}, 1])",
    lambda c: f"max({c}, 1, key={c})",
    lambda c: f"({c},)",
    lambda c: f"f'{{{c}}}'",
    lambda c: f"(await {c})",
    lambda c: f"(yield {c})",
    lambda c: f"{c}; import os",
]


def _extend(children):
    return st.one_of(
        st.tuples(
            children,
            st.sampled_from(
                [
                    "+",
                    "-",
                    "*",
                    "/",
                    "**",
                    "//",
                    "%",
                    "@",
                    "<<",
                    ">>",
                    "|",
                    "&",
                    "^",
                    "<",
                    "==",
                    " and ",
                    " or ",
                    " is ",
                    " in ",
                    " if p else ",
                ]
            ),
            children,
        ).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        st.tuples(st.sampled_from(_CALLABLES), st.lists(children, max_size=4)).map(_call),
        st.tuples(st.sampled_from(_WRAPPERS), children).map(lambda t: t[0](t[1])),
    )


_EXPRESSIONS = st.recursive(_ATOMS, _extend, max_leaves=25)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_EXPRESSIONS)
def test_fuzzed_python_like_expressions_are_refused_or_numeric(text):
    _check_expression(text)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=120)
    | st.text(alphabet="pqcost_0123456789.+-*/()%@[]{}<>=!~^&|,:;'\"\\ \n\tlambda", max_size=120)
)
def test_fuzzed_text_is_refused_or_numeric(text):
    _check_expression(text)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 100_000 + "1" + ")" * 100_000,
        "-" * (MAX_EXPRESSION_LENGTH - 1) + "1",
        "(" * 400 + "p" + ")" * 400,
        "+".join(["p"] * 400),
        "min(" * 200 + "p" + ", 1)" * 200,
        "p" + "**p" * 300,
        "9" * 999,
        "1e309 - 1e309",
        "().__class__.__bases__[0].__subclasses__()",
        "__import__('os').system('true')",
        "p.__class__",
        "getattr(p, '__class__')",
        "(lambda: 1)()",
        "[x for x in ().__class__.__mro__]",
    ],
)
def test_long_deep_and_escaping_expressions(text):
    started = time.monotonic()
    _check_expression(text)
    assert time.monotonic() - started < HANG_GUARD


def test_expressions_in_a_tree_file_are_checked_the_same_way(tmp_path):
    path = tmp_path / "tree.yaml"
    path.write_text(
        "parameters: {p: 0.5}\n"
        "root:\n"
        "  type: decision\n"
        "  name: d\n"
        "  options:\n"
        '    go: {payoff: "p.__class__.__mro__"}\n'
        "    stop: {payoff: 0}\n"
    )
    with no_code_execution(), pytest.raises(InputError, match="attribute access"):
        load_tree(path)


# ---------------------------------------------------------------------------
# CSV files: huge, truncated, garbage
# ---------------------------------------------------------------------------

ROW = (
    "2017-11-15,DPRK,suspected_export,1,synthetic test data row {i} with padding text to "
    "make each line long,0.5,synthetic\n"
)
HEADER = "date,actor,kind,value,source,confidence,note\n"


@pytest.fixture(scope="module")
def huge_ledger(tmp_path_factory):
    path = tmp_path_factory.mktemp("huge") / "synthetic_huge.csv"
    with open(path, "w") as fh:
        fh.write(HEADER)
        block = "".join(ROW.format(i=i) for i in range(1000))
        while fh.tell() < 50 * 2**20:
            fh.write(block)
    return path


@pytest.mark.parametrize(
    "reader",
    ["load_observations", "validate_ledger", "add", "observe validate", "analyze", "report"],
)
def test_a_50_mb_csv_is_refused_quickly_with_bounded_memory(huge_ledger, reader, capsys, tmp_path):
    before = huge_ledger.stat().st_size
    readers = {
        "load_observations": lambda: load_observations(huge_ledger),
        "validate_ledger": lambda: validate_ledger(huge_ledger),
        "add": lambda: add_observation(
            huge_ledger,
            date="2018-01-01",
            actor="DPRK",
            kind="nuclear_test",
            value=1,
            source="synthetic",
        ),
        "observe validate": lambda: main(["observe", "validate", "--ledger", str(huge_ledger)]),
        "analyze": lambda: main(["analyze", "--observations", str(huge_ledger)]),
        "report": lambda: main(
            ["report", "-p", f"observations_file={huge_ledger}", "--out", str(tmp_path / "reports")]
        ),
    }
    started = time.monotonic()
    with bounded_memory(1000) as peak:
        try:
            outcome = readers[reader]()
        except InputError as exc:
            outcome = str(exc)
    assert time.monotonic() - started < HANG_GUARD
    assert peak[0] < 200, f"{peak[0]:.0f} MB"
    if isinstance(outcome, int):
        assert outcome != 0
        outcome = capsys.readouterr().err
    assert "more than the limit" in outcome and "synthetic_huge.csv" in outcome, outcome
    assert huge_ledger.stat().st_size == before
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    "cut_after, match",
    [
        (b"2017-09-15,DPRK,suspected_ex", r"synthetic\.csv, row 3, field '"),
        (b"2017-09-1", r"synthetic\.csv, row 3, field 'date'"),
        (b'0.5,"synthetic ""quo', r"synthetic\.csv"),  # inside a quoted field
    ],
)
def test_a_truncated_ledger_is_a_clear_error_and_is_not_extended(tmp_path, cut_after, match):
    path = tmp_path / "synthetic.csv"
    add_observation(
        path,
        date="2017-09-03",
        actor="DPRK",
        kind="nuclear_test",
        value=1,
        source="synthetic test data",
    )
    add_observation(
        path,
        date="2017-09-15",
        actor="DPRK",
        kind="suspected_export",
        value=1,
        confidence=0.5,
        source="synthetic test data, second",
        note='synthetic "quoted" note',
    )
    data = path.read_bytes()
    cut = data[: data.index(cut_after) + len(cut_after)]
    path.write_bytes(cut)
    with pytest.raises(InputError, match=match):
        validate_ledger(path)
    with pytest.raises(InputError, match=match):
        load_observations(path)
    with pytest.raises(InputError, match="synthetic.csv"):
        add_observation(
            path, date="2017-10-01", actor="DPRK", kind="nuclear_test", value=1, source="synthetic"
        )
    assert path.read_bytes() == cut


def test_an_open_quote_at_the_end_is_a_clear_error(tmp_path):
    path = tmp_path / "synthetic.csv"
    path.write_text(HEADER + '2017-09-03,DPRK,nuclear_test,1,"synthetic source cut off')
    with pytest.raises(InputError, match="synthetic.csv"):
        validate_ledger(path)
    with pytest.raises(InputError, match="synthetic.csv"):
        load_observations(path)


def test_binary_garbage_is_a_clear_error(tmp_path):
    path = tmp_path / "synthetic.csv"
    path.write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 100_000, dtype=np.uint8)))
    for reader in (
        validate_ledger,
        load_observations,
        load_parameter_file,
        load_schedule,
        load_sweep,
        load_tree,
        load_case,
    ):
        with pytest.raises(InputError):
            reader(path)


# ---------------------------------------------------------------------------
# Paths: nothing is written outside the chosen output folder
# ---------------------------------------------------------------------------

BAD_NAMES = [
    "../escape",
    "/tmp/escape",
    "..",
    ".",
    ".hidden",
    "a/b",
    "a\\b",
    "brief\n",
    "-rf",
    "x" * 101,
    "\x00",
    "name with space",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_run_names_cannot_leave_the_output_folder(tmp_path, name):
    out = tmp_path / "out" / "reports"
    with pytest.raises(InputError, match="run name"):
        render_report(TINY, out_dir=out, name=name)
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--name", "../escape"],
        ["report", "--name", "/tmp/escape"],
        ["report", "sensitivity", "--name", "../escape"],
        ["report", "monitoring", "--through", "../../escape"],
        ["report", "monitoring", "--through", "2017-09\n"],
        ["report", "monitoring", "--through", "2017-09/../../x"],
    ],
)
def test_cli_paths_from_options_stay_in_the_output_folder(tmp_path, monkeypatch, capsys, args):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ledger.csv").write_text(HEADER + ROW.format(i=0))
    out = tmp_path / "out"
    assert main([*args, "--out", str(out)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.csv"]


def test_a_scenario_file_stem_cannot_name_a_folder_outside(tmp_path, capsys):
    scenario = tmp_path / "...yaml"  # stem '..'
    scenario.write_text("name: x\nparameters: {}\n")
    out = tmp_path / "out"
    assert main(["report", "--params", str(scenario), "--out", str(out)]) == 2
    assert "run name" in capsys.readouterr().err
    assert not out.exists()


def test_a_manifest_cannot_name_a_folder_outside(tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"template": "brief", "name": "../escape", "parameters": {}}))
    with pytest.raises(InputError, match="run name"):
        render_from_manifest(manifest, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert check_run_name("2017-09") == "2017-09"
