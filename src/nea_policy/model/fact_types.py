"""What rules can see: the fact types, their fields and kinds, and how a Scenario becomes engine facts."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from nea_policy.model.facts import (
    LEVEL_ORDER,
    Agreement,
    Country,
    Flow,
    Level,
    Region,
    Relation,
    Scenario,
    pair_key,
)


@dataclass(frozen=True)
class FieldSpec:
    """One field a rule may test: its kind (level, bool, enum, text, code, number, list) and allowed values."""

    name: str
    kind: str
    values: tuple[str, ...] = ()
    description: str = ""
    derived: bool = False

    @property
    def is_list(self) -> bool:
        """Whether the field holds a list (tested with contains / not contains)."""
        return self.kind.startswith("list")


@dataclass(frozen=True)
class FactType:
    """A kind of fact in the engine: its name and fields."""

    name: str
    fields: dict[str, FieldSpec]
    description: str


FINDING = "finding"


def _kind_of(annotation: Any) -> tuple[str, tuple[str, ...]]:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        return _kind_of(args[0])
    if origin is typing.Annotated:
        return _kind_of(args[0])
    if origin is list:
        inner, values = _kind_of(args[0])
        return f"list[{inner}]", values
    if annotation is Level:
        return "level", LEVEL_ORDER
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "enum", tuple(m.value for m in annotation)
    if annotation is bool:
        return "bool", ("true", "false")
    if annotation is int or annotation is float:
        return "number", ()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "record", ()
    return "text", ()


def _fields_of(model: type[BaseModel], skip: set[str] = frozenset()) -> dict[str, FieldSpec]:
    fields: dict[str, FieldSpec] = {}
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        kind, values = _kind_of(info.annotation)
        if kind == "text" and name in {"code", "origin", "destination", "country", "rising_power"}:
            kind = "code"
        if kind == "list[text]" and name == "between":
            kind = "list[code]"
        fields[name] = FieldSpec(name, kind, values, info.description or "")
    return fields


def _derived(name: str, kind: str, description: str) -> FieldSpec:
    return FieldSpec(name, kind, (), description, derived=True)


KEY = _derived("key", "text", "the fact's key: a country's code, a flow's or region's id, a pair's 'A-B' code")

FACT_TYPES: dict[str, FactType] = {
    "country": FactType(
        "country",
        {"key": KEY, **_fields_of(Country)},
        "a country (key: its code)",
    ),
    "region": FactType("region", {"key": KEY, **_fields_of(Region)}, "a sub-national region (key: its id)"),
    "relation": FactType(
        "relation",
        {
            "key": KEY,
            **_fields_of(Relation, skip={"between"}),
            "a": _derived("a", "code", "first of the two countries in alphabetical order"),
            "b": _derived("b", "code", "second of the two countries in alphabetical order"),
        },
        "the relation between two countries (key: 'A-B', codes in alphabetical order)",
    ),
    "agreement": FactType(
        "agreement",
        {"key": KEY, **_fields_of(Agreement, skip={"between", "id"}), "pair": _derived("pair", "text", "the pair of countries, 'A-B' in alphabetical order")},
        "an existing cooperation regime between two countries",
    ),
    "flow": FactType(
        "flow",
        {
            "key": KEY,
            **_fields_of(Flow, skip={"estimates", "labels", "id"}),
            "pair": _derived("pair", "text", "origin and destination, 'A-B' in alphabetical order (joins the relation)"),
            "estimate_alarmist_high": _derived("estimate_alarmist_high", "number", "highest alarmist size estimate"),
            "estimate_careful_high": _derived("estimate_careful_high", "number", "highest careful or official size estimate"),
            "estimate_exaggeration": _derived(
                "estimate_exaggeration", "number", "highest alarmist estimate divided by highest careful/official one"
            ),
            "label_count": _derived("label_count", "number", "how many different labels others give the people"),
        },
        "a migrant flow (key: its id)",
    ),
    FINDING: FactType(
        FINDING,
        {
            "finding": _derived("finding", "text", "id of the finding"),
            "subject": _derived("subject", "text", "key of the fact the finding is about"),
            "subject_type": _derived("subject_type", "text", "type of the fact the finding is about"),
        },
        "a finding derived by a finding rule",
    ),
}

BASE_TYPES: tuple[str, ...] = ("country", "region", "relation", "agreement", "flow")


def count_field(name: str) -> str:
    """Name of the hidden companion that holds a list field's length ('not contains' needs it: $iall is false on [])."""
    return f"{name}__count"


_LEVEL_RANK: dict[Level, int] = {level: level.rank for level in Level}


def _encoded_fields(type_name: str) -> tuple[tuple[str, FieldSpec, str | None], ...]:
    return tuple(
        (name, spec, count_field(name) if spec.is_list else None) for name, spec in FACT_TYPES[type_name].fields.items() if not spec.derived
    )


# Encoding runs once per evaluation over every fact: the field list of each type is worked out once.
_ENCODED_FIELDS: dict[str, tuple[tuple[str, FieldSpec, str | None], ...]] = {name: _encoded_fields(name) for name in FACT_TYPES}


class FactEncoder:
    """Encodes scenarios as engine facts with only the fields some rule reads, of only the types some rule matches.

    What an engine asserts: `encode_scenario` gives every field (the matcher and the explanations read them all),
    with an encoder of every field; but a field no compiled rule tests or shows only costs time to encode, serialize and index in the Rete
    network. `fields` maps each fact type to encode to the names read (stored, derived and `__count` companions).
    """

    def __init__(self, fields: dict[str, frozenset[str]]) -> None:
        self.fields = fields
        # Per type, each stored field that is read or whose length is: (name, store the value, a level, an
        # enumeration (for lists: of levels, of enumerations), the name of its length companion or None).
        self._plans: dict[str, tuple[tuple[str, bool, bool, bool, str | None], ...]] = {}
        for type_name, names in fields.items():
            if type_name not in FACT_TYPES or type_name == FINDING:
                continue
            plan = []
            for name, spec, count in _ENCODED_FIELDS[type_name]:
                wanted_count = count if count is not None and count in names else None
                if name in names or wanted_count is not None:
                    inner = spec.kind.removeprefix("list[").removesuffix("]")
                    plan.append((name, name in names, inner == "level", inner == "enum", wanted_count))
            self._plans[type_name] = tuple(plan)

    def encode(self, scenario: Scenario) -> list[dict[str, Any]]:
        """The facts of the scenario that some rule can match, in scenario order, each with the fields read."""
        facts: list[dict[str, Any]] = []
        plans = self._plans
        fields = self.fields
        if "country" in plans:
            plan = plans["country"]
            for country in scenario.countries:
                facts.append(self._fact("country", plan, country.__dict__, country.code))
        if "region" in plans:
            plan = plans["region"]
            for region in scenario.regions:
                facts.append(self._fact("region", plan, region.__dict__, region.id))
        if "relation" in plans:
            plan = plans["relation"]
            wanted = fields["relation"]
            for relation in scenario.relations:
                a, b = sorted(relation.between)
                fact = self._fact("relation", plan, relation.__dict__, f"{a}-{b}")
                if "a" in wanted:
                    fact["a"] = a
                if "b" in wanted:
                    fact["b"] = b
                facts.append(fact)
        if "agreement" in plans:
            plan = plans["agreement"]
            wanted = fields["agreement"]
            for agreement in scenario.agreements:
                fact = self._fact("agreement", plan, agreement.__dict__, agreement.id)
                if "pair" in wanted:
                    fact["pair"] = pair_key(*agreement.between)
                facts.append(fact)
        if "flow" in plans:
            plan = plans["flow"]
            wanted = fields["flow"]
            derived = wanted & _FLOW_DERIVED
            for flow in scenario.flows:
                fact = self._fact("flow", plan, flow.__dict__, flow.id)
                if derived:
                    for name, value in _flow_derived(flow).items():
                        if name in derived:
                            fact[name] = value
                facts.append(fact)
        return facts

    @staticmethod
    def _fact(type_name: str, plan: tuple[tuple[str, bool, bool, bool, str | None], ...], values: dict[str, Any], key: str) -> dict[str, Any]:
        fact: dict[str, Any] = {"id": f"{type_name}:{key}", "t": type_name, "key": key}
        for name, store, level, enum, count in plan:
            value = values.get(name)
            if value is None:
                # Absent, not false: a condition on a missing field does not match.
                continue
            if store:
                if value.__class__ is list:
                    fact[name] = [_LEVEL_RANK[v] for v in value] if level else [v.value for v in value] if enum else list(value)
                elif level:
                    fact[name] = _LEVEL_RANK[value]
                elif enum:
                    fact[name] = value.value
                else:
                    fact[name] = value
            if count is not None:
                fact[count] = len(value)
        return fact


_FLOW_DERIVED = frozenset({"pair", "estimate_alarmist_high", "estimate_careful_high", "estimate_exaggeration", "label_count"})


def _flow_derived(flow: Flow) -> dict[str, Any]:
    extra: dict[str, Any] = {"pair": pair_key(flow.origin, flow.destination)}
    alarmist = [e.high for e in flow.estimates if e.kind.value == "alarmist"]
    careful = [e.high for e in flow.estimates if e.kind.value in ("careful", "official")]
    if alarmist:
        extra["estimate_alarmist_high"] = max(alarmist)
    if careful:
        extra["estimate_careful_high"] = max(careful)
    if alarmist and careful and max(careful) > 0:
        extra["estimate_exaggeration"] = round(max(alarmist) / max(careful), 4)
    if flow.labels:
        extra["label_count"] = len({label.label.strip().lower() for label in flow.labels})
    return extra


def _every_field(type_name: str) -> frozenset[str]:
    stored = {name for name, _, _ in _ENCODED_FIELDS[type_name]}
    counts = {count for _, _, count in _ENCODED_FIELDS[type_name] if count is not None}
    derived = {name for name, spec in FACT_TYPES[type_name].fields.items() if spec.derived}
    return frozenset(stored | counts | derived)


_FULL_ENCODER = FactEncoder({type_name: _every_field(type_name) for type_name in BASE_TYPES})


def encode_scenario(scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario as engine facts: plain JSON values, levels as ranks 0..4, lists with their lengths."""
    return _FULL_ENCODER.encode(scenario)


def _level_fields(type_name: str) -> frozenset[str]:
    return frozenset(name for name, spec in FACT_TYPES[type_name].fields.items() if spec.kind == "level")


# Report building decodes every value it shows; a set lookup per value instead of a FieldSpec search.
_LEVEL_FIELDS: dict[str, frozenset[str]] = {name: _level_fields(name) for name in FACT_TYPES}


def is_level(type_name: str, field: str) -> bool:
    """Whether the engine holds this field as a level rank (0..4) that decode_value turns back into its name."""
    levels = _LEVEL_FIELDS.get(type_name)
    return field in (levels if levels is not None else _LEVEL_FIELDS["flow"])


def decode_value(type_name: str, field: str, value: Any) -> Any:
    """Turn an engine value back into what the fact file said (level ranks back to names)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    levels = _LEVEL_FIELDS.get(type_name)
    if field in (levels if levels is not None else _LEVEL_FIELDS["flow"]):
        return LEVEL_ORDER[value] if 0 <= value < len(LEVEL_ORDER) else value
    return value
