"""The page's form, generated from the fact schema: per part of a scenario, its fields with a control kind and plain words.

`form_fields(schema, read)` walks the JSON Schema of fact files (`api.json_schema("facts")`): a level becomes an
ordered choice (none < low < ... < severe), a boolean a yes / no / not set choice, an enum a choice, a list of enum
values a group of checkboxes, a list of text one item a line, a list of objects rows of their own fields. Fields that
name other entries (a flow's origin, a relation's sides) choose among the entries the scenario declares. `read` is
the (fact type, field) pairs some rule reads: every other fact field is marked as read by no rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["text", "longtext", "key", "number", "level", "bool", "enum", "enums", "lines", "rows", "ref", "sides"]

#: The parts of a scenario in the order of a fact file: collection, fact type, the word for one entry, heading.
SECTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("countries", "country", "country", "Countries"),
    ("parties", "party", "party", "Parties (the EU, ASEAN ...)"),
    ("regions", "region", "region", "Regions"),
    ("relations", "relation", "relation", "Relations between two sides"),
    ("agreements", "agreement", "agreement", "Agreements that exist"),
    ("flows", "flow", "flow", "Migrant flows"),
)
_DEFS = {"countries": "Country", "parties": "Party", "regions": "Region", "relations": "Relation", "agreements": "Agreement", "flows": "Flow"}

#: Fields that name other entries of the scenario: what they choose among.
REFERENCES: dict[tuple[str, str], str] = {
    ("flows", "origin"): "countries",
    ("flows", "destination"): "countries",
    ("flows", "destination_region"): "regions",
    ("regions", "country"): "countries",
    ("relations", "rising_power"): "between",
}
#: The two sides of a relation or agreement: declared countries or parties.
SIDES = {("relations", "between"), ("agreements", "between")}
#: Fields that name or link entries (the structure): a change to one re-draws the form, since choices depend on them.
STRUCTURE = frozenset({"code", "id", "name", "between", "origin", "destination", "country", "destination_region"})

# Labels in plain words where the field's name does not read as one.
_LABELS = {
    "code": "Code",
    "id": "Id",
    "labor_shortage_sectors": "Sectors short of labor",
    "restrictive_migration_policy": "Limits the legal entry of migrants",
    "accepted_conventions": "Conventions accepted",
    "proximity": "Neighbours",
    "rising_power": "Rising power the other feels vulnerable to",
    "kinds": "Kinds of people",
    "unskilled": "Mostly uneducated and unskilled",
    "count_reliability": "How dependable the counts are",
    "cheap_labor_as_training": "Cheap labor under the guise of training",
    "illegal_work_by_students": "Students work illegally",
    "abuse": "Mental and physical abuse",
    "fear_of_exposure": "Fear of exposure and arrest",
    "under_reporting": "Abuse goes unreported",
    "persecution_risk_on_return": "Risk of persecution if forcibly returned",
    "back_and_forth_trips": "Cross back and forth, bringing goods and money home",
    "has_work_and_shelter": "Can prove they have work and shelter",
    "host_fear": "Fear of the flow in the host society",
    "nationalist_framing": "Framed in nationalist terms",
    "media_tone": "How the host's media cover them",
    "stereotypes": "Unfavorable stereotypes",
    "public_ignorance": "Host public's ignorance of the origin country",
    "superficial_interaction": "Interaction with hosts is superficial",
    "destination_region": "Region of the destination",
    "by": "By whom",
}
# Hints where the schema has no description.
_HINTS = {
    "legal_status": "regular: lawfully present; irregular: present without permission; unclear: contested, no one knows what rights they can claim;"
    " mixed: some regular, some not; temporary-protection: protected as a group, for a time; pending-asylum: asylum claims awaiting a decision",
    "indentured_servitude": "whether some are held in indentured servitude",
    "forced_prostitution": "whether some are forced into prostitution",
    "media_tone": "how the host country's media cover the people in the flow",
    "title": "what the scenario is about, in a few words",
    "description": "one or two sentences on the situation",
}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a part of a scenario as the form shows it."""

    name: str
    label: str
    kind: Kind
    hint: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False
    #: whether some rule reads it (always true of the structure, which every rule needs)
    read: bool = True
    structure: bool = False
    #: for kind ref: the collection (or `between`) its choices come from
    ref: str = ""
    #: for kind rows: the fields of each row
    columns: tuple[FieldSpec, ...] = ()
    pattern: str = ""
    max_length: int | None = None


@dataclass(frozen=True)
class FormFields:
    """The scenario's top-level fields and, per collection, the fields of one entry."""

    top: tuple[FieldSpec, ...]
    parts: dict[str, tuple[FieldSpec, ...]]

    def spec(self, collection: str, name: str) -> FieldSpec | None:
        """The field `name` of an entry of `collection` (None if it has none)."""
        return next((s for s in self.parts.get(collection, ()) if s.name == name), None)


def label_of(name: str) -> str:
    """A field's label in plain words: "labor_shortage" -> "Labor shortage"."""
    return _LABELS.get(name) or name.replace("_", " ").capitalize()


def _nullable(prop: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of an `anyOf: [X, null]` property, with the property's own description kept."""
    branches = [b for b in prop.get("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        return {**branches[0], **{k: v for k, v in prop.items() if k not in ("anyOf", "default", "title")}}
    return prop


def _field(collection: str, fact: str, name: str, raw: dict[str, Any], defs: dict[str, Any], required: bool, read: frozenset[tuple[str, str]]) -> FieldSpec:
    prop = _nullable(raw)
    hint = prop.get("description", "") or _HINTS.get(name, "")
    common: dict[str, Any] = {
        "name": name,
        "label": label_of(name),
        "hint": hint,
        "required": required,
        "structure": name in STRUCTURE,
        "read": name in STRUCTURE or fact == "scenario" or (fact, name) in read,
        "pattern": prop.get("pattern", ""),
        "max_length": prop.get("maxLength"),
    }
    ref = REFERENCES.get((collection, name))
    if (collection, name) in SIDES:
        return FieldSpec(kind="sides", **common)
    if ref is not None:
        return FieldSpec(kind="ref", ref=ref, **common)
    if "$ref" in prop:
        target = defs[prop["$ref"].rsplit("/", 1)[1]]
        kind: Kind = "level" if prop["$ref"].endswith("/Level") else "enum"
        return FieldSpec(kind=kind, choices=tuple(target["enum"]), **common)
    type_ = prop.get("type")
    if type_ == "boolean":
        return FieldSpec(kind="bool", **common)
    if type_ == "integer":
        return FieldSpec(kind="number", **common)
    if type_ == "array":
        items = prop.get("items", {})
        if "$ref" in items:
            target = defs[items["$ref"].rsplit("/", 1)[1]]
            if "enum" in target:
                return FieldSpec(kind="enums", choices=tuple(target["enum"]), **common)
            needed = set(target.get("required", []))
            columns = tuple(_field(collection, fact, sub, sub_prop, defs, sub in needed, frozenset({(fact, sub)})) for sub, sub_prop in target["properties"].items())
            return FieldSpec(kind="rows", columns=columns, **common)
        return FieldSpec(kind="lines", **common)
    if name in ("code", "id"):
        return FieldSpec(kind="key", **common)
    if name == "description":
        return FieldSpec(kind="longtext", **common)
    return FieldSpec(kind="text", **common)


def form_fields(schema: dict[str, Any], read: frozenset[tuple[str, str]]) -> FormFields:
    """The form of a fact file: its top-level text fields and, per collection, one entry's fields in the schema's order."""
    defs = schema["$defs"]
    top = tuple(_field("", "scenario", name, schema["properties"][name], defs, False, frozenset()) for name in ("title", "description"))
    parts: dict[str, tuple[FieldSpec, ...]] = {}
    for collection, fact, _one, _heading in SECTIONS:
        model = defs[_DEFS[collection]]
        needed = set(model.get("required", []))
        parts[collection] = tuple(_field(collection, fact, name, prop, defs, name in needed, read) for name, prop in model["properties"].items())
    return FormFields(top=top, parts=parts)


__all__ = ["REFERENCES", "SECTIONS", "STRUCTURE", "FieldSpec", "FormFields", "form_fields", "label_of"]
