"""Reading fact and rule files: UTF-8 text, safe YAML or JSON, duplicate keys refused, line numbers kept, size bounded.

Every document nea-policy reads (fact files, standard input, `--set` values, rule files, rule tests) is parsed here,
by readers that count values as they go (`yaml_reader`, `json_reader`) from bytes that `files` counted as it read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from nea_policy.errors import InputError
from nea_policy.model.bounded import Bounds
from nea_policy.model.display import pointer
from nea_policy.model.files import DEFAULT_MAX_BYTES, read_bytes
from nea_policy.model.json_reader import JsonReader
from nea_policy.model.limits import DEFAULT_LIMITS
from nea_policy.model.yaml_reader import YamlReader

# Aliases let a tiny YAML file expand into billions of nodes ("billion laughs"); the readers cap the expanded size.
MAX_EXPANDED_NODES = DEFAULT_LIMITS.max_nodes
MAX_DEPTH = 100
#: Digits a number in a fact or rule file may have (estimates of people stay far below; Python refuses 4,300).
MAX_DIGITS = 30

PathKey = tuple[str | int, ...]

__all__ = ["DEFAULT_MAX_BYTES", "Document", "decode_bytes", "load_document", "parse_document", "read_text"]


class Document:
    """A parsed file: its data and the line and column of every value by its path.

    The positions of a JSON text are worked out when first asked for (to locate a problem): a valid request or file
    is read by the json module alone, some twenty times faster than the reader that records them.
    """

    def __init__(
        self,
        name: str,
        data: Any,
        positions: dict[PathKey, tuple[int, int]] | None = None,
        lines: list[str] | None = None,
        *,
        pending: Callable[[], dict[PathKey, tuple[int, int]]] | None = None,
    ) -> None:
        self.name = name
        self.data = data
        self._positions = positions
        self.lines: list[str] = lines if lines is not None else []
        self._pending = pending

    @property
    def positions(self) -> dict[PathKey, tuple[int, int]]:
        """Line and column (1-based) of each value, by its path."""
        if self._positions is None:
            self._positions = self._pending() if self._pending is not None else {}
            self._pending = None
        return self._positions

    def __repr__(self) -> str:
        return f"Document(name={self.name!r})"

    def locate(self, path: PathKey) -> str:
        """`file:line:col` of the value at path, or of its nearest located parent; just the file if unknown."""
        positions = self.positions
        probe = tuple(path)
        while probe:
            if probe in positions:
                line, col = positions[probe]
                return f"{self.name}:{line}:{col}"
            probe = probe[:-1]
        if () in positions:
            line, col = positions[()]
            return f"{self.name}:{line}:{col}"
        return self.name

    def line_of(self, path: PathKey) -> int | None:
        """Line number of the value at path (or nearest parent), if known."""
        positions = self.positions
        probe = tuple(path)
        while probe:
            if probe in positions:
                return positions[probe][0]
            probe = probe[:-1]
        return None


def read_text(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, label: str | None = None) -> str:
    """Read a UTF-8 text file (a regular file, at most max_bytes), with a clear error for every way that can fail."""
    name = label or str(path)
    return decode_bytes(read_bytes(path, max_bytes=max_bytes, label=name), name)


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


def parse_document(text: str, name: str, *, fmt: str | None = None, max_nodes: int = MAX_EXPANDED_NODES) -> Document:
    """Parse YAML (or JSON when the name ends in .json or fmt says so) into a Document of at most max_nodes values."""
    if not text.strip():
        raise InputError("file is empty; describe a scenario in it (see `nea-policy new`)", code="empty_file", location=name)
    is_json = fmt == "json" or (fmt is None and name.lower().endswith(".json"))
    if is_json:
        return _parse_json(text, name, max_nodes)
    return _parse_yaml(text, name, max_nodes)


def load_document(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_nodes: int = MAX_EXPANDED_NODES) -> Document:
    """Read and parse one file."""
    return parse_document(read_text(path, max_bytes=max_bytes), str(path), max_nodes=max_nodes)


def _parse_json(text: str, name: str, max_nodes: int) -> Document:
    bounds = Bounds(max_nodes, MAX_DEPTH, MAX_DIGITS)
    data = _fast_json(text, bounds)
    if data is not _REFUSED:

        def positions() -> dict[PathKey, tuple[int, int]]:
            reader = JsonReader(text, name, bounds)
            reader.parse()
            return reader.positions

        return Document(name=name, data=data, lines=text.splitlines(), pending=positions)
    # Something is wrong with it (or may be): the reader that records positions says what, and where.
    reader = JsonReader(text, name, bounds)
    data = reader.parse()
    return Document(name=name, data=data, positions=reader.positions, lines=text.splitlines())


_REFUSED = object()


class _Refused(Exception):
    pass


def _refuse(*_: Any) -> Any:
    raise _Refused


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Refused  # a duplicate key
    return result


def _fast_json(text: str, bounds: Bounds) -> Any:
    """The data of a JSON text by the json module, or _REFUSED when JsonReader might find anything wrong with it.

    Refused for anything the bounded reader refuses or words itself: a syntax error, a duplicate key, NaN or an
    infinity, a number of more digits than the bound, an escaped surrogate, more values or deeper nesting than the
    bounds. What is accepted is exactly what JsonReader would return.
    """
    if "\\ud" in text or "\\uD" in text:
        return _REFUSED
    digits = bounds.max_digits

    def number(kind: type) -> Callable[[str], Any]:
        def parse(literal: str) -> Any:
            if sum(c.isdigit() for c in literal) > digits:
                raise _Refused
            value = kind(literal)
            if kind is float and not math.isfinite(value):
                raise _Refused
            return value

        return parse

    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_refuse, parse_int=number(int), parse_float=number(float))
    except (_Refused, ValueError, RecursionError):
        return _REFUSED
    # Count the values and the depth as the reader does (each value once; keys aside), refusing a little early: at
    # the edge of a bound, the reader decides.
    budget = bounds.max_nodes
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        budget -= 1
        if budget < 1 or depth >= bounds.max_depth - 1:
            return _REFUSED
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return data


def _parse_yaml(text: str, name: str, max_nodes: int) -> Document:
    reader = YamlReader(text, name, Bounds(max_nodes, MAX_DEPTH, MAX_DIGITS))
    try:
        found, data = reader.read()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        lines = text.splitlines()
        offending = ""
        if mark and 0 <= mark.line < len(lines):
            offending = pointer(lines[mark.line], mark.column)
        start = exc.context_mark
        if start is not None and exc.context and 0 <= start.line < len(lines) and (mark is None or start.line != mark.line):
            # At the end of the file the problem mark is past the last line: show where the unclosed construct began.
            offending += f"\n  {exc.context}, which starts at line {start.line + 1}:{pointer(lines[start.line], start.column)}"
        problem = exc.problem or exc.context or "syntax error"
        raise InputError(f"YAML syntax error: {problem}{offending}", code="yaml_syntax", location=where) from None
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow (a control character): name its line and column, as a syntax error does.
        position = exc.position if isinstance(exc.position, int) else 0
        line_start = text.rfind("\n", 0, position) + 1
        line_number = text.count("\n", 0, position) + 1
        line = text[line_start:].split("\n", 1)[0]
        raise InputError(
            f"character U+{exc.character:04X} is not allowed in YAML ({exc.reason}); remove it{pointer(line, position - line_start)}",
            code="yaml_syntax",
            location=f"{name}:{line_number}:{position - line_start + 1}",
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", code="yaml_syntax", location=name) from None
    finally:
        reader.close()
    if not found:
        raise InputError("file holds no document; describe a scenario in it", code="empty_file", location=name)
    return Document(name=name, data=data, positions=reader.positions, lines=text.splitlines())
