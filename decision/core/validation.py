"""YAML files validated with pydantic: every error names the file, the key path and the line.

:func:`read_yaml_document` reads a file with :func:`decision.core.yaml.read_yaml_file` and
keeps, beside the data, the line where each key path starts (from the composed YAML nodes).
:meth:`YamlDocument.validate` validates the data with a pydantic model and turns the first
validation error into an :class:`~decision.core.errors.InputError` whose ``field`` is the key
path (list positions count from 0: ``china_steps[2].target.reduction``) and whose message ends
with the line; :meth:`YamlDocument.error` does the same for checks made outside pydantic
(those that need a case, a file on disk, ...). A validator that finds a problem at another key
path than its own (a duplicate id two items away) raises :class:`KeyPathError`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from decision.core.errors import InputError
from decision.core.suggest import did_you_mean
from decision.core.yaml import read_yaml_file

__all__ = [
    "KeyPath",
    "KeyPathError",
    "YamlDocument",
    "key_path",
    "node_lines",
    "read_yaml_document",
]

Model = TypeVar("Model", bound=BaseModel)
#: A key path: keys (text) and list positions (numbers), from the top of the document.
KeyPath = tuple[str | int, ...]


class KeyPathError(ValueError):
    """A problem found by a validator at a key path below the one it validates.

    Parameters
    ----------
    message
        What is wrong and what is expected.
    loc
        The key path, relative to where the validator runs (e.g. ``("china_steps", 2, "id")``
        from a model validator of the document's top level).
    """

    def __init__(self, message: str, loc: Sequence[str | int]):
        super().__init__(message)
        self.loc: KeyPath = tuple(loc)


def key_path(loc: Sequence[str | int]) -> str:
    """Write a key path as text: ``("grid", "w", 2)`` -> ``grid.w[2]``, ``()`` -> ``(top level)``.

    Parameters
    ----------
    loc
        Keys (text) and list positions (numbers, counted from 0).
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def node_lines(node: yaml.Node | None, prefix: KeyPath = (), out: dict | None = None) -> dict:
    """Map each key path (a tuple) of a composed YAML document to its 1-based line.

    A mapping key's path maps to the line of the key, a list item's to the line of the item.
    """
    out = {} if out is None else out
    if node is None:
        return out
    out[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
            node_lines(value, prefix + (name,), out)
            out[prefix + (name,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            node_lines(item, prefix + (i,), out)
    return out


@dataclasses.dataclass(frozen=True)
class YamlDocument:
    """A YAML file's data and the line of every key path in it (see :func:`read_yaml_document`).

    Attributes
    ----------
    path
        The file.
    data
        What it holds (``None`` for an empty file).
    lines
        Key path (tuple) -> 1-based line.
    """

    path: Path
    data: Any
    lines: Mapping[KeyPath, int]

    @property
    def file(self) -> str:
        """The file, as errors name it."""
        return str(self.path)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """Return the line of ``loc``, or of its nearest enclosing key written in the file."""
        loc = tuple(loc)
        while loc not in self.lines and loc:
            loc = loc[:-1]
        return self.lines.get(loc)

    def error(self, message: str, loc: Sequence[str | int] = ()) -> InputError:
        """Make an :class:`InputError` naming the file, the key path ``loc`` and its line."""
        line = self.line_of(loc)
        suffix = f" (line {line})" if line else ""
        return InputError(f"{message}{suffix}", file=self.file, field=key_path(loc))

    def validate(
        self,
        model: type[Model],
        data: Any = None,
        *,
        loc: Sequence[str | int] = (),
        context: Mapping[str, Any] | None = None,
        patterns: Mapping[str, str] | None = None,
    ) -> Model:
        """Validate the document (or ``data`` found at key path ``loc``) with a pydantic model.

        Parameters
        ----------
        model
            The pydantic model.
        data
            What to validate instead of the whole document (e.g. a section after defaults
            were merged in); its errors are located under ``loc``.
        loc
            Key path of ``data`` in the document.
        context
            Passed to the model's validators (``ValidationInfo.context``).
        patterns
            Regular expression of a string constraint -> what it means in words ("a month as
            YYYY-MM"), for messages about text that does not match.

        Raises
        ------
        InputError
            For the first validation error, naming the file, the key path and the line.
        """
        data = self.data if data is None else data
        try:
            return model.model_validate(data, context=dict(context or {}))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            cause = (err.get("ctx") or {}).get("error")
            inside = _data_loc(data, err["loc"])
            if isinstance(cause, KeyPathError):
                inside, message = inside + cause.loc, str(cause)
            else:
                message = _message(err, model, inside, patterns or {})
            raise self.error(message, tuple(loc) + inside) from None


def read_yaml_document(path: str | os.PathLike, *, what: str) -> YamlDocument:
    """Read a YAML file (:func:`decision.core.yaml.read_yaml_file`) and the lines of its keys.

    Raises
    ------
    InputError
        As :func:`~decision.core.yaml.read_yaml_file` does: naming the file, with ``what``
        (e.g. "a sweep file (YAML)") for a missing file.
    """
    path = Path(path)
    data, root = read_yaml_file(path, what=what, with_node=True)
    return YamlDocument(path, data, node_lines(root))


#: Location parts pydantic adds for the member of a union (``int``, ``none``) that failed.
_UNION_TAGS = frozenset({"str", "int", "float", "bool", "none", "date", "list", "dict"})


def _data_loc(data: Any, loc: Sequence[str | int]) -> KeyPath:
    """Reduce pydantic's error location to a key path of ``data``.

    Pydantic inserts the names of union members and of validator functions
    (``function-after[...]``) into locations; a part that is not a key of the data at that
    level and looks like one of these is dropped. Mapping keys become text (a key ``5`` is
    ``.5``, not the list position ``[5]``).
    """
    out: list[str | int] = []
    node: Any = data
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
            part = str(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and ("[" in part or part in _UNION_TAGS):
            continue
        else:
            node = None  # a missing key: nothing below it is in the data
        out.append(part)
    return tuple(out)


def _message(
    err: Mapping[str, Any], model: type[BaseModel], loc: KeyPath, patterns: Mapping[str, str]
) -> str:
    """Word one pydantic error as the package does ("expected ..., got ...")."""
    kind = err["type"]
    msg = err["msg"]
    field = _field(_model_at(model, loc[:-1]), loc[-1]) if loc else None
    described = field.description if field is not None else None
    if kind == "missing":
        if described:
            return f"missing key: expected {described}"
        return "missing key: a value is required"
    if kind == "model_type":  # a section given as something else than a mapping
        known = _keys(_model_at(model, loc))
        return f"expected a mapping with keys {', '.join(known)}, got {err.get('input')!r}"
    if described and (kind.endswith(("_type", "_parsing")) or kind == "string_too_short"):
        return f"expected {described}, got {err.get('input')!r}"
    if kind in _BOUND_WORDS and field is not None:
        return f"expected {_range_words(field)}, got {err.get('input')!r}"
    if kind == "extra_forbidden":
        known = _keys(_model_at(model, loc[:-1]))
        key = str(loc[-1]) if loc else ""
        if not known:
            return "unexpected key"
        hint = did_you_mean(key, known)
        return f"unexpected key '{key}'{hint}; expected one of: {', '.join(known)}"
    if kind == "string_pattern_mismatch":
        pattern = (err.get("ctx") or {}).get("pattern", "")
        what = patterns.get(pattern, f"text matching {pattern}")
        return f"expected {what}, got {err.get('input')!r}"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "too_short":
        least = (err.get("ctx") or {}).get("min_length")
        return f"expected at least {least} item{'s' if least != 1 else ''}, got {err['input']!r}"
    text = msg[0].lower() + msg[1:] if msg else "invalid value"
    if text.startswith("input should be"):
        text = "expected " + text.removeprefix("input should be ")
    if "input" in err:
        return f"{text}, got {err['input']!r}"
    return text


#: A number's bounds in words, by the name pydantic gives them.
_BOUND_WORDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "greater than or equal to"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "less than or equal to"),
}


def _range_words(field: FieldInfo) -> str:
    """Say what a bounded number field expects: "a whole number from 1 to 10", ..."""
    bounds: dict[str, Any] = {}
    whole = False

    def visit(annotation: Any, metadata: Sequence[Any]) -> None:
        nonlocal whole
        whole = whole or annotation is int
        for item in metadata:
            for key, _ in _BOUND_WORDS.values():
                if getattr(item, key, None) is not None:
                    bounds.setdefault(key, getattr(item, key))
            if isinstance(item, FieldInfo):
                visit(item.annotation, item.metadata)
        args = get_args(annotation)
        if args and get_origin(annotation) is Annotated:
            visit(args[0], args[1:])
        else:
            for arg in args:
                visit(arg, ())

    visit(field.annotation, field.metadata)
    what = "a whole number" if whole else "a number"
    if "ge" in bounds and "le" in bounds:
        return f"{what} from {bounds['ge']} to {bounds['le']}"
    words = [f"{text} {bounds[key]}" for key, text in _BOUND_WORDS.values() if key in bounds]
    return f"{what} {' and '.join(words)}"


def _model_at(model: type[BaseModel] | None, loc: KeyPath) -> type[BaseModel] | None:
    """Find the pydantic model that validates the mapping at key path ``loc`` (None: no model)."""
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):  # an item of a list of models
            continue
        field = _field(model, part)
        model = None if field is None else _model_in(field.annotation)
    return model


def _field(model: type[BaseModel] | None, key: str | int) -> FieldInfo | None:
    """Find the field of ``model`` written ``key`` in a file (its alias, else its name)."""
    if model is None:
        return None
    for name, info in model.model_fields.items():
        if (info.alias or name) == key:
            return info
    return None


def _keys(model: type[BaseModel] | None) -> list[str]:
    """List the keys a mapping validated by ``model`` may have, as written in a file."""
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """Find the pydantic model in a field's type (``Model``, ``Model | None``, ``list[Model]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
