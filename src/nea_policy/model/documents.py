"""Reading fact and rule files: UTF-8 text, safe YAML or JSON, duplicate keys refused, line numbers kept."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nea_policy.errors import InputError, Problem
from nea_policy.model.display import visible

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# Aliases let a tiny YAML file expand into billions of nodes ("billion laughs"); cap the expanded size.
MAX_EXPANDED_NODES = 200_000
MAX_DEPTH = 100

PathKey = tuple[str | int, ...]


@dataclass
class Document:
    """A parsed file: its data and, for YAML, the line and column of every value by its path."""

    name: str
    data: Any
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def locate(self, path: PathKey) -> str:
        """`file:line:col` of the value at path, or of its nearest located parent; just the file if unknown."""
        probe = tuple(path)
        while probe:
            if probe in self.positions:
                line, col = self.positions[probe]
                return f"{self.name}:{line}:{col}"
            probe = probe[:-1]
        if () in self.positions:
            line, col = self.positions[()]
            return f"{self.name}:{line}:{col}"
        return self.name

    def line_of(self, path: PathKey) -> int | None:
        """Line number of the value at path (or nearest parent), if known."""
        probe = tuple(path)
        while probe:
            if probe in self.positions:
                return self.positions[probe][0]
            probe = probe[:-1]
        return None


def read_text(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, label: str | None = None) -> str:
    """Read a UTF-8 text file, with a clear error for every way that can fail."""
    p = Path(path)
    name = label or str(path)
    if not p.exists():
        raise InputError(f"no such file; check the path", code="file_not_found", location=name)
    if p.is_dir():
        raise InputError("is a directory, not a file; name a .yaml or .json fact file inside it", code="is_a_directory", location=name)
    size = p.stat().st_size
    if size > max_bytes:
        raise InputError(
            f"file is {size:,} bytes, over the limit of {max_bytes:,}; raise it with --max-bytes if the file is genuine",
            code="file_too_large",
            location=name,
        )
    raw = p.read_bytes()
    return decode_bytes(raw, name)


def decode_bytes(raw: bytes, name: str) -> str:
    """Decode UTF-8 (a BOM is allowed), naming the line of the first bad byte."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid UTF-8; save the file as UTF-8",
            code="not_utf8",
            location=f"{name}:{line}",
        ) from None
    return text


def parse_document(text: str, name: str, *, fmt: str | None = None) -> Document:
    """Parse YAML (or JSON when the name ends in .json or fmt says so) into a Document."""
    if not text.strip():
        raise InputError("file is empty; describe a scenario in it (see `nea-policy new`)", code="empty_file", location=name)
    is_json = fmt == "json" or (fmt is None and name.lower().endswith(".json"))
    if is_json:
        return _parse_json(text, name)
    return _parse_yaml(text, name)


def load_document(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Read and parse one file."""
    return parse_document(read_text(path, max_bytes=max_bytes), str(path))


def _parse_json(text: str, name: str) -> Document:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise InputError(f"duplicate key {key!r} in an object; keep one", code="duplicate_key", location=name)
            result[key] = value
        return result

    def reject_constant(token: str) -> Any:
        raise InputError(f"{token} is not a number a fact can hold; use a finite number", code="not_finite", location=name)

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        offending = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
        raise InputError(
            f"JSON syntax error: {exc.msg}{_pointer(offending, exc.colno - 1)}",
            code="json_syntax",
            location=f"{name}:{exc.lineno}:{exc.colno}",
        ) from None
    except RecursionError:
        raise InputError(f"nesting deeper than Python can parse", code="too_deep", location=name) from None
    return Document(name=name, data=data, lines=text.splitlines())


_WINDOW = 80


def _pointer(line: str, column: int) -> str:
    """The offending line under an error message, with a caret at the column (0-based).

    A long line (minified JSON, a runaway bracket) is cut to a window around the column, so an error never echoes
    megabytes; controls and bidi marks are shown as \\uXXXX so the line cannot act on the reader's terminal.
    """
    start = max(0, min(column - _WINDOW // 2, len(line) - _WINDOW)) if len(line) > _WINDOW else 0
    before = ("..." if start else "") + line[start:column]
    after = line[column : start + _WINDOW] + ("..." if start + _WINDOW < len(line) else "")
    shown_before = visible(before)
    shown_after = visible(after)
    return f"\n    {shown_before}{shown_after}\n    {' ' * len(shown_before)}^"


class _SafeLineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loading only (no Python tags): rule and fact files are data, never code. libyaml when present, for speed."""


def _parse_yaml(text: str, name: str) -> Document:
    loader = _SafeLineLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        lines = text.splitlines()
        offending = ""
        if mark and 0 <= mark.line < len(lines):
            offending = _pointer(lines[mark.line], mark.column)
        start = exc.context_mark
        if start is not None and exc.context and 0 <= start.line < len(lines) and (mark is None or start.line != mark.line):
            # At the end of the file the problem mark is past the last line: show where the unclosed construct began.
            offending += f"\n  {exc.context}, which starts at line {start.line + 1}:{_pointer(lines[start.line], start.column)}"
        problem = exc.problem or exc.context or "syntax error"
        raise InputError(f"YAML syntax error: {problem}{offending}", code="yaml_syntax", location=where) from None
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow (a control character): name its line and column, as a syntax error does.
        position = exc.position if isinstance(exc.position, int) else 0
        line_start = text.rfind("\n", 0, position) + 1
        line_number = text.count("\n", 0, position) + 1
        line = text[line_start:].split("\n", 1)[0]
        raise InputError(
            f"character U+{exc.character:04X} is not allowed in YAML ({exc.reason}); remove it{_pointer(line, position - line_start)}",
            code="yaml_syntax",
            location=f"{name}:{line_number}:{position - line_start + 1}",
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}", code="yaml_syntax", location=name) from None
    finally:
        loader.dispose()
    if node is None:
        raise InputError("file holds no document; describe a scenario in it", code="empty_file", location=name)
    positions: dict[PathKey, tuple[int, int]] = {}
    problems: list[Problem] = []
    budget = [MAX_EXPANDED_NODES]
    # One constructor per document: SafeConstructor keeps state, so it is not shared across threads.
    constructor = yaml.SafeLoader(" ")
    data = _construct(node, (), positions, problems, name, budget, 0, constructor)
    if problems:
        raise InputError(problems)
    return Document(name=name, data=data, positions=positions, lines=text.splitlines())


_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _construct(node: yaml.Node, path: PathKey, positions: dict[PathKey, tuple[int, int]], problems: list[Problem], name: str, budget: list[int], depth: int, constructor: yaml.SafeLoader) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise InputError(
            f"the document expands to more than {MAX_EXPANDED_NODES:,} values (YAML aliases?); write the values out instead",
            code="too_many_nodes",
            location=name,
        )
    if depth > MAX_DEPTH:
        raise InputError(f"nesting deeper than {MAX_DEPTH} levels", code="too_deep", location=f"{name}:{node.start_mark.line + 1}")
    positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        raise InputError(
            f"tag {node.tag!r} is not allowed; fact and rule files are plain data",
            code="unsafe_tag",
            location=f"{name}:{node.start_mark.line + 1}:{node.start_mark.column + 1}",
        )
    if isinstance(node, yaml.MappingNode):
        constructor.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, name, constructor)
            if key in result:
                problems.append(
                    Problem(
                        "duplicate_key",
                        f"key {key!r} appears twice in the same mapping (YAML would silently keep only the last); keep one",
                        f"{name}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}",
                    )
                )
                continue
            child = (*path, key) if isinstance(key, (str, int)) else (*path, str(key))
            positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _construct(value_node, child, positions, problems, name, budget, depth + 1, constructor)
            positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), positions, problems, name, budget, depth + 1, constructor) for i, item in enumerate(node.value)]
    return _scalar(node, name, constructor)


def _scalar(node: yaml.Node, name: str, constructor: yaml.SafeLoader) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise InputError("a mapping key must be a plain value", code="bad_key", location=f"{name}:{node.start_mark.line + 1}")
    try:
        value = constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:
        raise InputError(
            f"tag {node.tag!r} is not allowed; fact and rule files are plain data",
            code="unsafe_tag",
            location=f"{name}:{node.start_mark.line + 1}:{node.start_mark.column + 1}",
        ) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(
            f"{node.value} is not a number a fact can hold; use a finite number",
            code="not_finite",
            location=f"{name}:{node.start_mark.line + 1}:{node.start_mark.column + 1}",
        )
    return value
