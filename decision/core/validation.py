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
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from decision.core.errors import InputError
from decision.core.yaml import read_yaml_file

__all__ = ["KeyPathError", "YamlDocument", "key_path", "node_lines", "read_yaml_document"]

Model = TypeVar("Model", bound=BaseModel)
Loc = tuple[str | int, ...]


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
        self.loc: Loc = tuple(loc)


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


def node_lines(node: yaml.Node | None, prefix: Loc = (), out: dict | None = None) -> dict:
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
    lines: Mapping[Loc, int]

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
            where = tuple(loc) + _data_loc(data, err["loc"])
            if isinstance(cause, KeyPathError):
                where, message = where + cause.loc, str(cause)
            else:
                message = _message(err, patterns or {})
            raise self.error(message, where) from None


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


def _data_loc(data: Any, loc: Sequence[str | int]) -> Loc:
    """Pydantic's error location reduced to a key path of ``data``.

    Pydantic inserts the names of union members and of validator functions
    (``function-after[...]``) into locations; a part that is not a key of the data at that
    level and looks like one of these is dropped.
    """
    out: list[str | int] = []
    node: Any = data
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and ("[" in part or part in _UNION_TAGS):
            continue
        else:
            node = None  # a missing key: nothing below it is in the data
        out.append(part)
    return tuple(out)


def _message(err: Mapping[str, Any], patterns: Mapping[str, str]) -> str:
    """Pydantic's message for one error, in the package's words ("expected ..., got ...")."""
    kind = err["type"]
    msg = err["msg"]
    if kind == "missing":
        return "missing key: a value is required"
    if kind == "extra_forbidden":
        return "unexpected key"
    if kind == "string_pattern_mismatch":
        pattern = (err.get("ctx") or {}).get("pattern", "")
        what = patterns.get(pattern, f"text matching {pattern}")
        return f"expected {what}, got {err.get('input')!r}"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    text = msg[0].lower() + msg[1:] if msg else "invalid value"
    if text.startswith("input should be"):
        text = "expected " + text.removeprefix("input should be ")
    if "input" in err:
        return f"{text}, got {err['input']!r}"
    return text
