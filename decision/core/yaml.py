"""Read YAML from untrusted files: safe loaders only, with size, nesting and alias limits.

Every YAML file the package reads (tree, scenario, report-parameter, sweep and schedule files)
goes through :func:`read_yaml_file` (which uses :func:`read_limited` and :func:`load_yaml`):

* only ``yaml.SafeLoader`` (or a subclass) is used, so a tag such as
  ``!!python/object/apply:os.system`` is an error, never a call;
* a file larger than :data:`MAX_FILE_BYTES` is refused after reading at most that many bytes
  (so ``/dev/zero`` cannot exhaust memory);
* nesting deeper than :data:`MAX_NESTING` levels stops the scanner at once (PyYAML's own
  limit is a ``RecursionError`` after time quadratic in the depth), and any deeper recursion
  is an :class:`~decision.core.errors.InputError`, not a traceback;
* aliases are counted where they are used: a document whose aliases expand to more than
  :data:`MAX_EXPANDED_NODES` nodes (a "billion laughs" bomb) or that contains itself is
  refused before anything walks it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from decision.core.errors import InputError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_EXPANDED_NODES",
    "MAX_NESTING",
    "read_limited",
    "load_yaml",
    "read_yaml_file",
]

#: Largest YAML file read, in bytes.
MAX_FILE_BYTES = 2_000_000
#: Most YAML nodes in a document once every alias is expanded where it is used.
MAX_EXPANDED_NODES = 1_000_000
#: Most levels of nested collections (flow brackets and block indentation together).
MAX_NESTING = 250  # a tree of MAX_DEPTH (100) levels is about 200 levels of YAML


class _NestingLimit:
    """Scanner hooks: stop at :data:`MAX_NESTING` levels, before the parser recurses."""

    def _check_nesting(self) -> None:
        if self.flow_level + len(self.indents) > MAX_NESTING:
            raise yaml.scanner.ScannerError(
                None, None, f"nested more than {MAX_NESTING} levels deep", self.get_mark()
            )

    def fetch_flow_collection_start(self, token_class):
        super().fetch_flow_collection_start(token_class)
        self._check_nesting()

    def add_indent(self, column):
        added = super().add_indent(column)
        self._check_nesting()
        return added


_LIMITED: dict[type, type] = {}


def _limited(loader: type) -> type:
    if loader not in _LIMITED:
        _LIMITED[loader] = type(f"Limited{loader.__name__}", (_NestingLimit, loader), {})
    return _LIMITED[loader]


def read_limited(path: str | os.PathLike, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read at most ``limit`` bytes of a file; a larger file is an :class:`InputError`.

    ``FileNotFoundError``, ``IsADirectoryError`` and other ``OSError`` pass through so that
    callers keep their own messages for them.
    """
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"file is more than the limit of {limit} bytes", file=Path(path))
    return data


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_expansion(root: yaml.Node, max_nodes: int = MAX_EXPANDED_NODES, *, file=None) -> int:
    """Count the nodes of a composed document with every alias expanded where it is used.

    Iterative and memoised on node identity, so it takes time linear in the *written*
    document whatever the aliases expand to.

    Raises
    ------
    InputError
        More than ``max_nodes`` nodes, or an alias inside the node it refers to.
    """
    size: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            total = 1 + sum(size[id(child)] for child in _children(node))
            if total > max_nodes:
                raise InputError(
                    f"the YAML expands to more than {max_nodes} nodes once its "
                    "aliases (*name) are expanded",
                    file=file,
                )
            size[key] = total
            continue
        if key in size:
            continue
        active.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in active:
                mark = child.start_mark
                raise InputError(
                    f"an alias at line {mark.line + 1} refers to a node that "
                    "contains it (a recursive structure)",
                    file=file,
                )
            if id(child) not in size:
                stack.append((child, False))
    return size[id(root)]


def load_yaml(
    text: str,
    *,
    file=None,
    loader: type = yaml.SafeLoader,
    max_nodes: int | None = MAX_EXPANDED_NODES,
    with_node: bool = False,
) -> Any:
    """Parse one YAML document with a safe loader and the limits above.

    Parameters
    ----------
    text
        The document.
    file
        Its file, for messages.
    loader
        ``yaml.SafeLoader`` or a subclass of it.
    max_nodes
        Limit on the expanded document (``None``: the caller enforces its own limits while
        walking the data, as the tree loader does).
    with_node
        Also return the composed root node (for line numbers); ``None`` for an empty file.

    Raises
    ------
    yaml.YAMLError
        For text that is not YAML (callers word the message with the line).
    InputError
        For the limits.
    """
    if not (isinstance(loader, type) and issubclass(loader, yaml.SafeLoader)):
        raise TypeError("load_yaml takes yaml.SafeLoader or a subclass of it")
    instance = _limited(loader)(text)
    try:
        try:
            node = instance.get_single_node()
        except RecursionError:
            raise InputError("YAML nested too deeply", file=file) from None
        if node is None:
            return (None, None) if with_node else None
        if max_nodes is not None:
            check_expansion(node, max_nodes, file=file)
        try:
            data = instance.construct_document(node)
        except RecursionError:
            raise InputError("YAML nested too deeply", file=file) from None
        except (ValueError, OverflowError) as exc:  # e.g. an integer of more than 4300 digits
            raise InputError(f"cannot read a value ({exc})", file=file) from None
    finally:
        instance.dispose()
    return (data, node) if with_node else data


def read_yaml_file(
    path: str | os.PathLike,
    *,
    what: str = "YAML file",
    max_bytes: int | None = None,
    loader: type = yaml.SafeLoader,
    max_nodes: int | None = MAX_EXPANDED_NODES,
    with_node: bool = False,
) -> Any:
    """Read and parse a YAML file with :func:`load_yaml`; every failure is an :class:`InputError`.

    Parameters
    ----------
    path
        The file.
    what
        What the file should be, for messages ("a scenario file", "a sweep file", ...).
    max_bytes
        Largest file read (default :data:`MAX_FILE_BYTES`).
    loader, max_nodes, with_node
        As for :func:`load_yaml`.

    Raises
    ------
    InputError
        Naming the file (and, for a syntax error, the line as ``row``): not found, a
        folder, unreadable, not UTF-8, not YAML, or over a limit.
    """
    path = Path(path)
    try:
        text = read_limited(path, max_bytes or MAX_FILE_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"file not found: expected {what}", file=path) from None
    except IsADirectoryError:
        raise InputError(f"is a folder: expected {what}", file=path) from None
    except UnicodeDecodeError:
        raise InputError("cannot decode: expected UTF-8 text", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None
    try:
        return load_yaml(text, file=path, loader=loader, max_nodes=max_nodes, with_node=with_node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at column {mark.column + 1}" if mark else ""  # the line is the row
        problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise InputError(
            f"not valid YAML{where}: {problem}",
            file=path,
            row=mark.line + 1 if mark else None,
        ) from None
