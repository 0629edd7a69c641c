"""YAML fact and rule files read from libyaml's event stream, with the line and column of every value, within bounds.

Composing a YAML document first (PyYAML's node graph) costs memory before anything can be counted: a 10 MiB file
of two-character items took 14 s and 900 MB to be refused. This reader builds the data from the parser's events
instead and refuses while it reads: more values than the limit (aliases and merge keys count the values they
expand to, so a "billion laughs" stops at the limit, and an alias shares its value instead of copying it), nesting
deeper than the limit, tags other than plain data, numbers of more digits than any fact holds, keys that are not
plain scalars, merges of anything but mappings, and duplicate keys (all duplicates of a file at once). Keys are
kept as the text written (`yes:` is the key 'yes', not True), as in JSON.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from nea_policy.errors import InputError, Problem
from nea_policy.model.bounded import BoundedReader, Bounds, PathKey
from nea_policy.model.display import flat, shown

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present, for speed; safe loading only

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
# `=` and `<<` written as values resolve to these tags, which construct nothing; they are the text written.
_AS_TEXT = {"tag:yaml.org,2002:value", _MERGE}
_SURROGATE = re.compile("[\ud800-\udfff]")
_KIND = {_INT: "a whole number", _FLOAT: "a number", "tag:yaml.org,2002:timestamp": "a date", "tag:yaml.org,2002:bool": "true or false", "tag:yaml.org,2002:binary": "base64 data"}


class YamlReader(BoundedReader):
    """Parses one YAML text into data and positions (path -> 1-based line and column), or raises an InputError."""

    def __init__(self, text: str, name: str, bounds: Bounds) -> None:
        super().__init__(name, bounds)
        self.events = _Loader(text)
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        # One constructor per document: SafeConstructor keeps state, so it is not shared across threads.
        self.constructor = SafeConstructor()

    def _at(self, mark: Any) -> str:
        return f"{self.name}:{mark.line + 1}:{mark.column + 1}"

    def _refuse(self, code: str, message: str, mark: Any, hint: str = "") -> InputError:
        return InputError([Problem(code, message, self._at(mark), hint)])

    def close(self) -> None:
        """Free libyaml's parser."""
        self.events.dispose()

    def read(self) -> tuple[bool, Any]:
        """(whether the stream holds a document, its data); syntax errors propagate as PyYAML raises them."""
        events = self.events
        events.get_event()  # stream start
        if events.check_event(yaml.StreamEndEvent):
            return False, None
        events.get_event()  # document start
        data = self.node((), 0)
        events.get_event()  # document end
        if not events.check_event(yaml.StreamEndEvent):
            extra = events.get_event()
            raise self._refuse("yaml_syntax", "YAML syntax error: expected a single document in the stream, but found another document", extra.start_mark, "keep one document (one `---`) per file")
        if self.problems:
            raise InputError(self.problems)
        return True, data

    def _spend(self, count: int, mark: Any) -> None:
        self.budget -= count
        if self.budget < 0:
            raise self._refuse(
                "too_many_nodes",
                f"the document expands to more than {self.bounds.max_nodes:,} values (YAML aliases?)",
                mark,
                "write the values out instead of repeating aliases, split the file, or raise the limit with --limit nodes=N if it is genuine",
            )

    def node(self, path: PathKey | None, depth: int) -> Any:
        """The value of the next node; path None: a duplicate key's value, not recorded."""
        event = self.events.get_event()
        mark = event.start_mark
        if path is not None and path not in self.positions:
            self.positions[path] = (mark.line + 1, mark.column + 1)
        if isinstance(event, yaml.AliasEvent):
            anchor = event.anchor
            if anchor in self.open_anchors:
                raise self._refuse("yaml_syntax", f"YAML error: the alias *{flat(anchor)[:40]} refers to a value that contains it", mark, "write the values out")
            if anchor not in self.anchors:
                raise self._refuse("yaml_syntax", f"YAML syntax error: found undefined alias *{flat(anchor)[:40]}", mark, "define it with & before using it")
            value, size = self.anchors[anchor]
            self._spend(size, mark)
            return value
        before = self.budget  # what an alias of this node will cost: the node and everything below it
        self._spend(1, mark)
        if depth > self.bounds.max_depth:
            raise self._refuse("too_deep", f"nesting deeper than {self.bounds.max_depth} levels", mark)
        anchor = event.anchor
        if anchor is not None:
            self.open_anchors.add(anchor)
        if isinstance(event, yaml.ScalarEvent):
            value: Any = self.scalar(event)
        elif isinstance(event, yaml.SequenceStartEvent):
            self._plain(event, _SEQ)
            value = []
            while not self.events.check_event(yaml.SequenceEndEvent):
                value.append(self.node(None if path is None else (*path, len(value)), depth + 1))
            self.events.get_event()
        elif isinstance(event, yaml.MappingStartEvent):
            self._plain(event, _MAP)
            value = self.mapping(path, depth)
        else:  # pragma: no cover - libyaml's grammar allows nothing else here
            raise self._refuse("yaml_syntax", f"YAML syntax error: unexpected {type(event).__name__}", mark)
        if anchor is not None:
            self.open_anchors.discard(anchor)
            self.anchors[anchor] = (value, before - self.budget)
        return value

    def _plain(self, event: Any, tag: str) -> None:
        if event.tag not in (None, "!", tag):
            raise self._refuse("unsafe_tag", f"tag {shown(event.tag)} is not allowed; fact and rule files are plain data", event.start_mark)

    def mapping(self, path: PathKey | None, depth: int) -> dict[str, Any]:
        events = self.events
        explicit: dict[str, Any] = {}
        merges: list[tuple[list[dict[str, Any]], Any]] = []
        while not events.check_event(yaml.MappingEndEvent):
            key_event = events.peek_event()
            mark = key_event.start_mark
            if not isinstance(key_event, yaml.ScalarEvent):
                raise self._refuse("bad_key", "a mapping key must be a plain value, not a list, a mapping or an alias", mark)
            events.get_event()
            resolved = self._tag(key_event)
            if resolved == _MERGE and key_event.tag is None:
                if merges:
                    self.problems.append(Problem("duplicate_key", "a second merge key (<<) in the same mapping; merge a list of mappings with one: <<: [*a, *b]", self._at(mark)))
                value = self.node(None if path is None else (*path, "<<"), depth + 1)
                sources = value if isinstance(value, list) else [value]
                if not sources or not all(isinstance(source, dict) for source in sources):
                    raise self._refuse("bad_merge", f"a merge key (<<) takes a mapping or a list of mappings, not {_what(value)}", mark, "write <<: *anchor, with the anchor on a mapping")
                merges.append((sources, mark))
                continue
            if resolved not in SafeConstructor.yaml_constructors and resolved not in _AS_TEXT:
                raise self._refuse("unsafe_tag", f"tag {shown(key_event.tag)} is not allowed; fact and rule files are plain data", mark)
            key = key_event.value
            if key in explicit:
                self.problems.append(
                    Problem("duplicate_key", f"key {shown(key)} appears twice in the same mapping (YAML would silently keep only the last); keep one", self._at(mark))
                )
                self.node(None, depth + 1)
                continue
            child = None if path is None else (*path, key)
            if child is not None:
                self.positions[child] = (mark.line + 1, mark.column + 1)
            explicit[key] = self.node(child, depth + 1)
        events.get_event()
        if not merges:
            return explicit
        merged: dict[str, Any] = {}
        for sources, mark in merges:
            for source in sources:  # the first mapping named wins, and any key written out wins over all
                for key, value in source.items():
                    if key in explicit or key in merged:
                        continue
                    merged[key] = value
                    if path is not None:
                        self.positions[(*path, key)] = self.positions.get((*path, "<<", key), (mark.line + 1, mark.column + 1))
        return {**merged, **explicit}

    def _tag(self, event: Any) -> str:
        if event.tag is None or event.tag == "!":
            return str(self.events.resolve(yaml.ScalarNode, event.value, event.implicit if event.tag is None else (False, True)))
        return str(event.tag)

    def scalar(self, event: Any) -> Any:
        mark = event.start_mark
        tag = self._tag(event)
        if tag in _AS_TEXT:
            return event.value
        build = SafeConstructor.yaml_constructors.get(tag)
        if build is None:
            raise self._refuse("unsafe_tag", f"tag {shown(event.tag)} is not allowed; fact and rule files are plain data", mark)
        text = event.value
        if tag in (_INT, _FLOAT):
            # hex digits count too (0xFFFF...), and sexagesimal parts (1:30:00) multiply the value as digits do
            digits = sum(c.isalnum() for c in text) if len(text) <= 4 * self.bounds.max_digits else len(text)
            if digits > self.bounds.max_digits:
                raise self._refuse("number_too_long", f"a number of {digits:,} digits is not one a fact can hold; write at most {self.bounds.max_digits} digits", mark)
        try:
            value = build(self.constructor, yaml.ScalarNode(tag, text, mark, event.end_mark, event.style))
        except (ValueError, TypeError, OverflowError, yaml.YAMLError) as exc:
            reason = str(getattr(exc, "problem", None) or exc).split("\n")[0]
            raise self._refuse("bad_value", f"{shown(text)} is not {_KIND.get(tag, 'a value of ' + tag)} ({reason})", mark, "quote it if it is meant as text") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self._refuse("not_finite", f"{flat(text)[:40]} is not a number a fact can hold; use a finite number", mark)
        if isinstance(value, str) and _SURROGATE.search(value):
            found = _SURROGATE.search(value)
            raise self._refuse(
                "bad_character", f"\\u{ord(found.group()):04x} is half of a UTF-16 surrogate pair, not a character", mark, "write the character itself, or both halves of the pair"  # type: ignore[union-attr]
            )
        return value


def _what(value: Any) -> str:
    if isinstance(value, list):
        return "a list of " + ", ".join(sorted({_what(v) for v in value})) if value else "an empty list"
    return {str: "text", bool: "true or false", type(None): "nothing", dict: "a mapping"}.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


__all__ = ["YamlReader"]
