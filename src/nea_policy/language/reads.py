"""Which facts the rules read, in the fact file's own field names: per rule, for a rule set, and what a scenario sets that none reads.

Rules read engine fields (`Rule.fields_used()`); some of those are made from other fields of the file (a flow's
`pair` from its origin and destination, `estimate_exaggeration` from its estimates). A field of the file is read
when a rule reads it or a field made from it, in its conditions, absent: blocks, actors or justification.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nea_policy.language.conditions import FieldRef, iter_comparisons
from nea_policy.language.rules import Rule, RuleSet
from nea_policy.model.paths import COLLECTIONS

if TYPE_CHECKING:
    from nea_policy.model.facts import Scenario

# Scenario fields the engine sees under other names (derived fields): a change to the left moves those on the right.
DERIVED: dict[tuple[str, str], frozenset[str]] = {
    ("flow", "estimates"): frozenset({"estimate_alarmist_high", "estimate_careful_high", "estimate_exaggeration"}),
    ("flow", "labels"): frozenset({"label_count"}),
    ("flow", "origin"): frozenset({"pair"}),
    ("flow", "destination"): frozenset({"pair"}),
    ("flow", "id"): frozenset({"key"}),
    ("country", "code"): frozenset({"key"}),
    ("region", "id"): frozenset({"key"}),
    ("relation", "between"): frozenset({"key", "a", "b"}),
    ("agreement", "between"): frozenset({"pair"}),
    ("agreement", "id"): frozenset({"key"}),
}

# The other way round: the file fields an engine field is made from.
_SOURCES: dict[tuple[str, str], tuple[str, ...]] = {}
for (_type, _file_field), _engine_fields in DERIVED.items():
    for _engine_field in sorted(_engine_fields):
        _SOURCES[(_type, _engine_field)] = (*_SOURCES.get((_type, _engine_field), ()), _file_field)

# Fields that name or link the entries of a file: its structure, which every scenario needs, not facts to read.
STRUCTURE: frozenset[str] = frozenset({"code", "id", "name", "between", "origin", "destination", "country", "destination_region"})


def file_fields(fact_type: str, engine_field: str) -> tuple[str, ...]:
    """The fields of the file an engine field is made from (itself when it is not derived)."""
    return _SOURCES.get((fact_type, engine_field), (engine_field,))


def rule_reads(rule: Rule) -> dict[str, tuple[str, list[str]]]:
    """Per alias of the rule (absent: blocks' too): its fact type and the file fields it reads, in first-use order."""
    reads: dict[str, tuple[str, list[str]]] = {}

    def note(alias: str, fact_type: str, engine_field: str) -> None:
        fields = reads.setdefault(alias, (fact_type, []))[1]
        for name in file_fields(fact_type, engine_field):
            if name not in fields:
                fields.append(name)

    for alias, names in rule.fields_used().items():
        for name in names:
            note(alias, rule.aliases[alias], name)
    for absence in rule.absences:
        for comparison in iter_comparisons(absence.conditions):
            for ref in (comparison.left, comparison.right):
                if isinstance(ref, FieldRef) and ref.alias == absence.alias:
                    note(ref.alias, absence.fact_type, ref.field)
    return {alias: value for alias, value in reads.items() if value[0] != "finding"}


def ruleset_reads(ruleset: RuleSet) -> frozenset[tuple[str, str]]:
    """Every (fact type, file field) some rule of the set reads."""
    return frozenset((fact_type, name) for rule in ruleset.rules for fact_type, names in rule_reads(rule).values() for name in names)


@dataclass(frozen=True)
class UnreadFact:
    """A field a scenario sets that no rule reads: it describes the situation but changes no result."""

    path: tuple[str | int, ...]
    collection: str
    key: str
    field: str

    @property
    def path_text(self) -> str:
        """The path as validation messages write it: `flows[0].kinds`."""
        collection, index, field = self.path
        return f"{collection}[{index}].{field}"


def unread_facts(scenario: Scenario, ruleset: RuleSet) -> list[UnreadFact]:
    """The fields the scenario sets (not its structure, nor empty lists) that no rule of the set reads, in file order."""
    reads = ruleset_reads(ruleset)
    found: list[UnreadFact] = []
    for collection, fact_type in COLLECTIONS.items():
        for index, entry in enumerate(getattr(scenario, collection)):
            key = str(getattr(entry, "code", None) or getattr(entry, "id", None) or "-".join(getattr(entry, "between", [])))
            for name in type(entry).model_fields:
                value = getattr(entry, name)
                if name in STRUCTURE or name not in entry.model_fields_set or value is None or value == [] or (fact_type, name) in reads:
                    continue
                found.append(UnreadFact((collection, index, name), collection, key, name))
    return found
