"""JSON fact and rule files read with the line and column of every value, within bounds of values, depth and digits.

Python's json module keeps no positions, so problems in JSON files could only name the file. This reader is a small
recursive-descent parser (strings are decoded by json's own C scanner) that records, like the YAML reader, the line
and column of every value by its path, and refuses while it reads: more values than the limit, nesting deeper than
the limit, numbers of more digits than any fact holds, NaN and infinities, halves of surrogate pairs and duplicate
keys (all duplicates of a file at once). Syntax errors are worded as json words them.
"""

from __future__ import annotations

import math
import re
from json.decoder import JSONDecodeError, scanstring
from typing import Any

from nea_policy.errors import InputError, Problem
from nea_policy.model.bounded import BoundedReader, Bounds, PathKey
from nea_policy.model.display import pointer, shown

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONSTANTS = {"null": None, "true": True, "false": False}
_NOT_FINITE = ("NaN", "-Infinity", "Infinity")


class JsonReader(BoundedReader):
    """Parses one JSON text into data and positions (path -> 1-based line and column), or raises an InputError."""

    def __init__(self, text: str, name: str, bounds: Bounds) -> None:
        super().__init__(name, bounds)
        self.text = text
        # Values are met in text order: the line is kept up to date by counting newlines since the last position.
        self._line = 1
        self._line_start = 0
        self._scanned = 0

    # --- positions and errors ------------------------------------------------------------------------------

    def where(self, pos: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        text = self.text
        if pos < self._scanned:
            return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1
        newlines = text.count("\n", self._scanned, pos)
        if newlines:
            self._line += newlines
            self._line_start = text.rfind("\n", self._scanned, pos) + 1
        self._scanned = pos
        return self._line, pos - self._line_start + 1

    def _location(self, pos: int) -> str:
        line, column = self.where(pos)
        return f"{self.name}:{line}:{column}"

    def _line_text(self, pos: int) -> tuple[str, int]:
        start = self.text.rfind("\n", 0, pos) + 1
        end = self.text.find("\n", pos)
        return self.text[start : end if end >= 0 else len(self.text)], pos - start

    def syntax(self, message: str, pos: int) -> InputError:
        """A JSON syntax error at pos, with the offending line and a caret."""
        line, column = self._line_text(pos)
        return InputError(f"JSON syntax error: {message}{pointer(line, column)}", code="json_syntax", location=self._location(pos))

    def _refuse(self, code: str, message: str, pos: int, hint: str = "") -> InputError:
        return InputError([Problem(code, message, self._location(pos), hint)])

    # --- the grammar -------------------------------------------------------------------------------------------

    def parse(self) -> Any:
        """The data of the whole text (one value, whitespace around it)."""
        pos = _WHITESPACE.match(self.text, 0).end()  # type: ignore[union-attr]
        value, pos = self.value(pos, (), 0)
        pos = _WHITESPACE.match(self.text, pos).end()  # type: ignore[union-attr]
        if pos != len(self.text):
            raise self.syntax("Extra data", pos)
        if self.problems:
            raise InputError(self.problems)
        return value

    def value(self, pos: int, path: PathKey | None, depth: int) -> tuple[Any, int]:
        """The value starting at pos and the offset after it; path None: a duplicate's value, not recorded."""
        text = self.text
        self.budget -= 1
        if self.budget < 0:
            raise self._refuse(
                "too_many_nodes",
                f"the document holds more than {self.bounds.max_nodes:,} values",
                pos,
                "split it into smaller files, or raise the limit with --limit nodes=N if the file is genuine",
            )
        if path is not None and path not in self.positions:
            self.positions[path] = self.where(pos)
        char = text[pos : pos + 1]
        if char == '"':
            return self.string(pos)
        if char in ("{", "["):
            if depth >= self.bounds.max_depth:
                raise self._refuse("too_deep", f"nesting deeper than {self.bounds.max_depth} levels", pos)
            return self.object(pos, path, depth + 1) if char == "{" else self.array(pos, path, depth + 1)
        for word, constant in _CONSTANTS.items():
            if text.startswith(word, pos):
                return constant, pos + len(word)
        for word in _NOT_FINITE:
            if text.startswith(word, pos):
                raise self._refuse("not_finite", f"{word} is not a number a fact can hold; use a finite number", pos)
        match = _NUMBER.match(text, pos)
        if match is None:
            raise self.syntax("Expecting value", pos)
        integer, fraction, exponent = match.groups()
        digits = len(integer.lstrip("-")) + (len(fraction) - 1 if fraction else 0)
        if digits > self.bounds.max_digits:
            raise self._refuse(
                "number_too_long", f"a number of {digits:,} digits is not one a fact can hold; write at most {self.bounds.max_digits} digits", pos
            )
        if fraction is None and exponent is None:
            return int(integer), match.end()
        number = float(match.group())
        if not math.isfinite(number):
            raise self._refuse("not_finite", f"{shown(match.group(), 40)} is too large to be a number a fact can hold; use a finite number", pos)
        return number, match.end()

    def string(self, pos: int) -> tuple[str, int]:
        """The string whose opening quote is at pos, decoded."""
        try:
            value, end = scanstring(self.text, pos + 1, True)
        except JSONDecodeError as exc:
            raise self.syntax(exc.msg, exc.pos) from None
        surrogate = _SURROGATE.search(value)
        if surrogate is not None:
            raise self._refuse(
                "bad_character",
                f"\\u{ord(surrogate.group()):04x} is half of a UTF-16 surrogate pair, not a character",
                pos,
                "write the character itself, or both halves of the pair",
            )
        return value, end

    def object(self, pos: int, path: PathKey | None, depth: int) -> tuple[dict[str, Any], int]:
        text = self.text
        result: dict[str, Any] = {}
        pos = _WHITESPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
        if text[pos : pos + 1] == "}":
            return result, pos + 1
        while True:
            if text[pos : pos + 1] != '"':
                raise self.syntax("Expecting property name enclosed in double quotes", pos)
            key_at = pos
            key, pos = self.string(pos)
            pos = _WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]
            if text[pos : pos + 1] != ":":
                raise self.syntax("Expecting ':' delimiter", pos)
            pos = _WHITESPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
            child: PathKey | None = None
            if key in result:
                self.problems.append(Problem("duplicate_key", f"key {shown(key)} appears twice in the same object; keep one", self._location(key_at)))
            elif path is not None:
                child = (*path, key)
                self.positions[child] = self.where(key_at)
            value, pos = self.value(pos, child, depth)
            if key not in result:
                result[key] = value
            done, pos = self._after_item(pos, "}")
            if done:
                return result, pos

    def array(self, pos: int, path: PathKey | None, depth: int) -> tuple[list[Any], int]:
        text = self.text
        result: list[Any] = []
        pos = _WHITESPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
        if text[pos : pos + 1] == "]":
            return result, pos + 1
        while True:
            value, pos = self.value(pos, None if path is None else (*path, len(result)), depth)
            result.append(value)
            done, pos = self._after_item(pos, "]")
            if done:
                return result, pos

    def _after_item(self, pos: int, closer: str) -> tuple[bool, int]:
        """Past one item of an object or array: whether the container ends here, and where what follows starts."""
        text = self.text
        pos = _WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]
        char = text[pos : pos + 1]
        if char == ",":
            return False, _WHITESPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
        if char == closer:
            return True, pos + 1
        raise self.syntax("Expecting ',' delimiter", pos)


__all__ = ["JsonReader"]
