"""The answerable fields of a partial scenario: each fact field of its structure by path, its kind, allowed values and state.

A scenario's *structure* is who and what it is about: countries (code, name), regions (id, name, country), relations
(the pair), flows (id, name, origin, destination, destination region). Everything else is a *fact field*, one
question each: `countries.CN.labor_shortage`, `regions.russian-far-east.population_decline`,
`relations.CN-RU.proximity` (the pair in either order), `flows.kp-to-cn.legal_status`, and for each pair of declared
countries and each kind of agreement, whether that agreement exists: `agreements.CN-RU.labor-migration-regime`
(a fact file lists the agreements that exist, so "no" and "don't know" leave it out alike).

Each field is *answered* (the scenario states it), *unknown* (answered "don't know": final, it stays unset) or
*open* (not asked yet). An unset list reads as the empty list, as in the fact model.
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from nea_policy.errors import InputError, Problem
from nea_policy.model.fact_types import FACT_TYPES, count_field
from nea_policy.model.facts import AgreementKind, Country, Flow, Region, Relation, Scenario, pair_key

State = Literal["answered", "unknown", "open"]
ANSWERED: State = "answered"
UNKNOWN: State = "unknown"
OPEN: State = "open"

#: Per collection, the fields that make up the structure (never asked as facts).
STRUCTURE: dict[str, frozenset[str]] = {
    "countries": frozenset({"code", "name"}),
    # A party (the EU) is a side of relations and agreements; no rule reads a fact of it.
    "parties": frozenset({"code", "name", "kind"}),
    "regions": frozenset({"id", "name", "country"}),
    "relations": frozenset({"between"}),
    "agreements": frozenset({"id", "between", "kind"}),
    "flows": frozenset({"id", "name", "origin", "destination", "destination_region"}),
}

#: Per engine fact type, the fields that come from the structure: a join on two of them is part of the structure.
ENGINE_STRUCTURE: dict[str, frozenset[str]] = {
    "country": frozenset({"key", "code", "name"}),
    "region": frozenset({"key", "id", "name", "country"}),
    "relation": frozenset({"key", "a", "b"}),
    "agreement": frozenset({"key", "pair", "kind"}),
    "flow": frozenset({"key", "name", "origin", "destination", "destination_region", "pair"}),
    "finding": frozenset({"finding", "subject", "subject_type"}),
}

# Engine fields computed from a fact field of the file.
_DERIVED: dict[tuple[str, str], str] = {
    ("flow", "estimate_alarmist_high"): "estimates",
    ("flow", "estimate_careful_high"): "estimates",
    ("flow", "estimate_exaggeration"): "estimates",
    ("flow", "label_count"): "labels",
}

_MODELS: dict[str, tuple[str, type[BaseModel]]] = {
    "countries": ("country", Country),
    "regions": ("region", Region),
    "relations": ("relation", Relation),
    "flows": ("flow", Flow),
}
COLLECTION_ORDER = ("countries", "regions", "relations", "agreements", "flows")


@dataclass(frozen=True)
class AnswerableField:
    """One fact field a scenario could state: its path, what it belongs to, its kind and allowed values, and its state."""

    path: str
    collection: str
    fact: str
    key: str
    field: str
    kind: str
    choices: tuple[str, ...]
    description: str
    entity: str
    order: int
    state: State
    value: Any = None

    @property
    def is_list(self) -> bool:
        """Whether the field holds a list (an unset list reads as empty)."""
        return self.kind.startswith("list")


def _kind(collection: str, fact: str, name: str, entry: BaseModel) -> tuple[str, tuple[str, ...]]:
    if name == "estimates":
        return "list[estimate]", ()
    if name == "labels":
        return "list[label]", ()
    spec = FACT_TYPES[fact].fields[name]
    if collection == "relations" and name == "rising_power":
        return "code", tuple(entry.between)  # type: ignore[attr-defined]
    return spec.kind, spec.values


def _key(collection: str, entry: Any) -> str:
    if collection == "countries":
        return str(entry.code)
    if collection == "relations":
        return pair_key(*entry.between)
    return str(entry.id)


class FieldIndex:
    """The answerable fields of a scenario in scenario order, and which of them an engine read concerns."""

    def __init__(self, fields: list[AnswerableField]) -> None:
        self.fields: dict[str, AnswerableField] = {f.path: f for f in fields}
        self._by_read: dict[tuple[str, str, str], str] = {(f.fact, f.key, f.field): f.path for f in fields if f.collection != "agreements"}

    def open(self) -> list[AnswerableField]:
        """The fields not asked yet, in scenario order."""
        return [f for f in self.fields.values() if f.state == OPEN]

    def is_open(self, path: str) -> bool:
        """Whether the field is still to be asked."""
        found = self.fields.get(path)
        return found is not None and found.state == OPEN

    def path_of(self, fact: str, key: str, field: str) -> str | None:
        """The field an engine fact's field comes from (None for structure and findings)."""
        # A list's hidden length companion (`not contains` reads it) is the list itself.
        field = field.removesuffix(count_field(""))
        name = _DERIVED.get((fact, field), field)
        return self._by_read.get((fact, key, name))

    def agreement_fields(self) -> list[AnswerableField]:
        """The questions whether an agreement of a kind exists between a pair."""
        return [f for f in self.fields.values() if f.collection == "agreements"]


def country_names(scenario: Scenario) -> dict[str, str]:
    """Code -> name of the declared countries."""
    return {c.code: c.name for c in scenario.countries}


def pair_name(names: dict[str, str], pair: str) -> str:
    """'China and Russia' for CN-RU."""
    a, b = pair.split("-")
    return f"{names.get(a, a)} and {names.get(b, b)}"


def field_index(scenario: Scenario, unknown: list[str] | tuple[str, ...] = ()) -> FieldIndex:
    """Every answerable field of the scenario with its state; `unknown` are paths answered "don't know".

    A path of `unknown` that names no field, or one the scenario states, is an InputError (every one at once).
    """
    names = country_names(scenario)
    fields: list[AnswerableField] = []
    order = itertools.count()
    for collection in COLLECTION_ORDER:
        if collection == "agreements":
            fields.extend(_agreement_fields(scenario, names, order))
            continue
        fact, model = _MODELS[collection]
        for entry in getattr(scenario, collection):
            key = _key(collection, entry)
            entity = pair_name(names, key) if collection == "relations" else str(entry.name)  # type: ignore[attr-defined]
            dumped = entry.model_dump(mode="json")
            for name, info in model.model_fields.items():
                if name in STRUCTURE[collection]:
                    continue
                kind, choices = _kind(collection, fact, name, entry)
                given = name in entry.model_fields_set and getattr(entry, name) is not None
                fields.append(
                    AnswerableField(
                        path=f"{collection}.{key}.{name}",
                        collection=collection,
                        fact=fact,
                        key=key,
                        field=name,
                        kind=kind,
                        choices=choices,
                        description=info.description or "",
                        entity=entity,
                        order=next(order),
                        state=ANSWERED if given else OPEN,
                        value=dumped[name] if given else None,
                    )
                )
    return _mark_unknown(fields, unknown)


def _agreement_fields(scenario: Scenario, names: dict[str, str], order: Any) -> list[AnswerableField]:
    existing = {(pair_key(*a.between), a.kind.value) for a in scenario.agreements}
    found = []
    for a, b in itertools.combinations(sorted(names), 2):
        pair = f"{a}-{b}"
        for kind in AgreementKind:
            given = (pair, kind.value) in existing
            found.append(
                AnswerableField(
                    path=f"agreements.{pair}.{kind.value}",
                    collection="agreements",
                    fact="agreement",
                    key=pair,
                    field=kind.value,
                    kind="bool",
                    choices=("true", "false"),
                    description=f"whether a {kind.value} agreement exists between the two",
                    entity=pair_name(names, pair),
                    order=next(order),
                    state=ANSWERED if given else OPEN,
                    value=True if given else None,
                )
            )
    return found


def normalize_path(path: str) -> str:
    """A field path as the index keys it: a relation's or agreement's pair in alphabetical order (RU-CN -> CN-RU)."""
    parts = path.strip().split(".")
    if len(parts) == 3 and parts[0] in ("relations", "agreements") and parts[1].count("-") == 1:
        parts[1] = pair_key(*parts[1].upper().split("-"))
    elif len(parts) == 3 and parts[0] == "countries":
        parts[1] = parts[1].upper()
    return ".".join(parts)


def _mark_unknown(fields: list[AnswerableField], unknown: list[str] | tuple[str, ...]) -> FieldIndex:
    by_path = {f.path: f for f in fields}
    problems: list[Problem] = []
    for index, raw in enumerate(unknown):
        path = normalize_path(str(raw))
        found = by_path.get(path)
        where = f"unknown[{index}]"
        if found is None:
            close = difflib.get_close_matches(path, list(by_path), n=1, cutoff=0.7)
            hint = f"did you mean {close[0]!r}?" if close else "name a fact field of the scenario, e.g. flows.<id>.legal_status"
            problems.append(Problem("unknown_field_path", f"{raw!r} is not a fact field of the scenario", where, hint))
        elif found.state == ANSWERED:
            stated = "the scenario lists that agreement" if found.collection == "agreements" else f"the scenario answers it ({found.value!r})"
            problems.append(Problem("answered_and_unknown", f"{path}: {stated}, and it is listed as unknown", where, "drop it from one of the two"))
        else:
            by_path[path] = AnswerableField(**{**found.__dict__, "state": UNKNOWN})
    if problems:
        raise InputError(problems)
    return FieldIndex(list(by_path.values()))


__all__ = [
    "ANSWERED",
    "ENGINE_STRUCTURE",
    "OPEN",
    "STRUCTURE",
    "UNKNOWN",
    "AnswerableField",
    "FieldIndex",
    "country_names",
    "field_index",
    "normalize_path",
    "pair_name",
]
