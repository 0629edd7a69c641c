"""Reading fact and rule files: UTF-8 text, safe YAML or JSON, duplicate keys refused, line numbers kept, size bounded.

Every document nea-policy reads (fact files, standard input, `--set` values, rule files, rule tests) is parsed here,
by readers that count values as they go (`yaml_reader`, `json_reader`) from bytes that `files` counted as it read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class Document:
    """A parsed file: its data and the line and column of every value by its path."""

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
    reader = JsonReader(text, name, Bounds(max_nodes, MAX_DEPTH, MAX_DIGITS))
    data = reader.parse()
    return Document(name=name, data=data, positions=reader.positions, lines=text.splitlines())


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
