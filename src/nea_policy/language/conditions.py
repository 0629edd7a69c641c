"""The condition language of rules: `alias.field OP value`, joins `alias.field == other.field`, and `any:` groups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Union

OPERATORS: tuple[str, ...] = ("==", "!=", ">=", "<=", ">", "<", "not in", "in", "not contains", "contains", "is not set", "is set")
ORDERING = {">=", "<=", ">", "<"}
UNARY = {"is set", "is not set"}


class ConditionSyntaxError(ValueError):
    """A condition string that cannot be parsed; the message says what was expected."""


@dataclass(frozen=True)
class FieldRef:
    """A field of a matched fact: `alias.field`."""

    alias: str
    field: str

    def __str__(self) -> str:
        return f"{self.alias}.{self.field}"


Literal = Union[str, int, float, bool]


@dataclass(frozen=True)
class Comparison:
    """One test: a field against a literal, a list of literals (in), another field (a join), or nothing (is set)."""

    left: FieldRef
    op: str
    right: FieldRef | Literal | tuple[Literal, ...] | None
    text: str

    @property
    def is_join(self) -> bool:
        """Whether the test compares two facts' fields (a join in the Rete network)."""
        return isinstance(self.right, FieldRef)

    def aliases(self) -> set[str]:
        """The aliases this test reads."""
        found = {self.left.alias}
        if isinstance(self.right, FieldRef):
            found.add(self.right.alias)
        return found

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class AnyOf:
    """A disjunction: at least one branch (a conjunction of conditions) holds."""

    branches: tuple[tuple[Condition, ...], ...]

    def aliases(self) -> set[str]:
        """Every alias any branch reads."""
        found: set[str] = set()
        for branch in self.branches:
            for condition in branch:
                found |= condition.aliases()
        return found

    def __str__(self) -> str:
        return "any of (" + " | ".join(" and ".join(str(c) for c in b) for b in self.branches) + ")"


Condition = Union[Comparison, AnyOf]

_REF = re.compile(r"^([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_WORD = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def parse_condition(raw: Any) -> Condition:
    """Parse one entry of a rule's `when:` list: a string, or a mapping `{any: [...]}`."""
    if isinstance(raw, dict):
        if set(raw) != {"any"} or not isinstance(raw["any"], list) or len(raw["any"]) < 2:
            raise ConditionSyntaxError("a condition mapping must be {any: [at least two conditions or lists of conditions]}")
        branches: list[tuple[Condition, ...]] = []
        for branch in raw["any"]:
            items = branch if isinstance(branch, list) else [branch]
            if not items:
                raise ConditionSyntaxError("an empty branch in any:")
            branches.append(tuple(parse_condition(item) for item in items))
        return AnyOf(tuple(branches))
    if not isinstance(raw, str):
        raise ConditionSyntaxError(f"a condition is a string like 'flow.abuse >= high', not {type(raw).__name__}")
    return parse_comparison(raw)


def parse_comparison(text: str) -> Comparison:
    """Parse `alias.field OP value`."""
    stripped = " ".join(text.split())
    for op in UNARY:
        if stripped.endswith(" " + op):
            return Comparison(_ref(stripped[: -len(op)].strip(), text), op, None, stripped)
    for op in OPERATORS:
        if op in UNARY:
            continue
        pattern = f" {op} " if op[0].isalpha() else op
        index = stripped.find(pattern)
        if index <= 0:
            continue
        if not op[0].isalpha() and stripped[index - 1] in "<>=!":
            continue
        left = stripped[:index].strip()
        right = stripped[index + len(pattern) :].strip()
        if not right:
            raise ConditionSyntaxError(f"{text!r}: nothing after {op!r}")
        return Comparison(_ref(left, text), op, _value(right, op, text), stripped)
    raise ConditionSyntaxError(f"{text!r}: no operator; write e.g. 'flow.abuse >= high' (operators: {', '.join(OPERATORS)})")


def _ref(text: str, whole: str) -> FieldRef:
    match = _REF.match(text)
    if not match:
        raise ConditionSyntaxError(f"{whole!r}: {text!r} is not alias.field (e.g. flow.legal_status)")
    return FieldRef(match.group(1), match.group(2))


def _value(text: str, op: str, whole: str) -> FieldRef | Literal | tuple[Literal, ...]:
    if op in ("in", "not in"):
        if not (text.startswith("[") and text.endswith("]")):
            raise ConditionSyntaxError(f"{whole!r}: {op!r} needs a list, e.g. [irregular, unclear]")
        items = [item.strip() for item in text[1:-1].split(",") if item.strip()]
        if not items:
            raise ConditionSyntaxError(f"{whole!r}: the list is empty")
        return tuple(_literal(item, whole) for item in items)
    if _REF.match(text):
        ref = _ref(text, whole)
        return ref
    return _literal(text, whole)


def _literal(text: str, whole: str) -> Literal:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.match(text):
        return float(text) if "." in text else int(text)
    if _WORD.match(text):
        return text
    raise ConditionSyntaxError(f"{whole!r}: {text!r} is not a value; quote text that has spaces or symbols")


def iter_comparisons(conditions: tuple[Condition, ...] | list[Condition]) -> list[Comparison]:
    """Every comparison in a list of conditions, inside any: groups too."""
    found: list[Comparison] = []
    for condition in conditions:
        if isinstance(condition, Comparison):
            found.append(condition)
        else:
            for branch in condition.branches:
                found.extend(iter_comparisons(branch))
    return found
