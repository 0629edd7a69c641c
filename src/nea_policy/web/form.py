"""The form both ways: a scenario's data as controls named by field path, and a posted form back into that data.

Every control's `name` is its field path, with entries named as what-if paths name them (countries by code,
relations by their pair, the others by id): `flows.kp-to-cn.legal_status`, `countries.CN.labor_shortage`,
`flows.kp-to-cn.estimates.0.low`, `relations.CN-KP.between.1`. An entry whose key is missing, malformed or
taken twice (a file with errors) is named by its position instead (`flows.2.legal_status`), so names stay unique.
The form can hold data that does not validate (a value outside the choices is offered as it is, marked), so that
each problem is shown beside its field.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nea_policy.model.display import NOT_SET
from nea_policy.model.facts import pair_key
from nea_policy.web.fields import SECTIONS, FieldSpec, FormFields

_HANDLE = re.compile(r"^[A-Za-z0-9-]+$")
_INTEGER = re.compile(r"^\s*-?\d+\s*$")

Handles = dict[str, list[str]]


@dataclass(frozen=True)
class Option:
    """One choice of a select, radio group or checkbox group."""

    value: str
    text: str
    selected: bool
    #: a value the data holds that is not one of the allowed choices (shown so that its error has a place)
    invalid: bool = False


@dataclass
class Control:
    """One field of one entry, ready to draw: its spec, name (field path), element id, value and choices."""

    spec: FieldSpec
    name: str
    value: Any
    options: list[Option] = field(default_factory=list)
    rows: list[list[Control]] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The element id: `f-` and the field path."""
        return f"f-{self.name}"

    @property
    def text(self) -> str:
        """The value as a text input shows it (lists: one item a line)."""
        if self.value is None:
            return ""
        if isinstance(self.value, list):
            return "\n".join(str(v) for v in self.value)
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)


@dataclass
class Entry:
    """One country, party, region, relation, agreement or flow of the form."""

    collection: str
    one: str
    index: int
    handle: str
    heading: str
    controls: list[Control]

    @property
    def path(self) -> str:
        """`flows.kp-to-cn`: the prefix of its controls' names."""
        return f"{self.collection}.{self.handle}"


@dataclass
class Section:
    """The entries of one collection, with the word for one of them."""

    collection: str
    one: str
    heading: str
    entries: list[Entry]


@dataclass
class FormView:
    """The whole form: title and description, then one section per collection."""

    top: list[Control]
    sections: list[Section]


def _key(collection: str, entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    if collection in ("countries", "parties"):
        value = entry.get("code")
    elif collection == "relations":
        sides = entry.get("between")
        value = pair_key(*map(str, sides)) if isinstance(sides, list) and len(sides) == 2 and all(isinstance(s, str) for s in sides) else None
    else:
        value = entry.get("id")
    return value if isinstance(value, str) else None


def handles_of(data: dict[str, Any]) -> Handles:
    """Per collection, the name of each entry in its controls' names: its key, or its position when the key cannot serve."""
    handles: Handles = {}
    for collection, *_ in SECTIONS:
        entries = data.get(collection)
        keys = [_key(collection, e) for e in entries] if isinstance(entries, list) else []
        counts: dict[str | None, int] = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        handles[collection] = [
            key if key is not None and _HANDLE.match(key) and not key.isdigit() and counts[key] == 1 else str(i) for i, key in enumerate(keys)
        ]
    return handles


# --- data -> controls -----------------------------------------------------------------------------------


def _names(data: dict[str, Any], collection: str) -> dict[str, str]:
    entries = data.get(collection)
    out: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("code"), str):
            out[entry["code"]] = str(entry.get("name") or entry["code"])
    return out


def _options(choices: Iterable[tuple[str, str]], value: Any, *, unset: bool = True) -> list[Option]:
    options = [Option("", NOT_SET, value is None)] if unset else []
    known = False
    for choice, text in choices:
        chosen = value is not None and str(value) == choice
        known |= chosen
        options.append(Option(choice, text, chosen))
    if value is not None and not known:
        options.append(Option(str(value), f"{value} (not allowed)", True, invalid=True))
    return options


def _ref_choices(spec: FieldSpec, data: dict[str, Any], entry: dict[str, Any]) -> list[tuple[str, str]]:
    if spec.ref == "countries":
        return [(code, f"{name} ({code})") for code, name in _names(data, "countries").items()]
    if spec.ref == "regions":
        regions = data.get("regions")
        return [(str(r.get("id")), f"{r.get('name') or r.get('id')} ({r.get('id')})") for r in regions if isinstance(r, dict)] if isinstance(regions, list) else []
    sides = entry.get("between")
    names = {**_names(data, "countries"), **_names(data, "parties")}
    return [(s, f"{names.get(s, s)} ({s})") for s in sides if isinstance(s, str)] if isinstance(sides, list) else []


def _control(spec: FieldSpec, name: str, value: Any, data: dict[str, Any], entry: dict[str, Any]) -> Control:
    control = Control(spec, name, value)
    if spec.kind in ("level", "enum"):
        control.options = _options(((c, c) for c in spec.choices), value)
    elif spec.kind == "bool":
        control.options = [Option("true", "yes", value is True), Option("false", "no", value is False), Option("", NOT_SET, value is None)]
        if not (isinstance(value, bool) or value is None):
            control.options.append(Option(str(value), f"{value} (not allowed)", True, invalid=True))
    elif spec.kind == "ref":
        control.options = _options(_ref_choices(spec, data, entry), value, unset=not spec.required)
    elif spec.kind == "enums":
        chosen = [str(v) for v in value] if isinstance(value, list) else []
        control.options = [Option(c, c, c in chosen) for c in spec.choices] + [Option(v, f"{v} (not allowed)", True, invalid=True) for v in chosen if v not in spec.choices]
    elif spec.kind == "sides":
        sides = value if isinstance(value, list) else []
        names = {**_names(data, "countries"), **_names(data, "parties")}
        choices = [(code, f"{label} ({code})") for code, label in names.items()]
        control.rows = [[_side(spec, f"{name}.{i}", sides[i] if i < len(sides) else None, choices)] for i in range(2)]
    elif spec.kind == "rows":
        items = value if isinstance(value, list) else []
        for i, item in enumerate(items):
            item = item if isinstance(item, dict) else {}
            control.rows.append([_control(column, f"{name}.{i}.{column.name}", item.get(column.name), data, item) for column in spec.columns])
    return control


def _side(spec: FieldSpec, name: str, value: Any, choices: list[tuple[str, str]]) -> Control:
    return Control(dataclasses.replace(spec, kind="ref", ref="sides", hint=""), name, value, _options(choices, value, unset=value is None))


def _heading(collection: str, entry: dict[str, Any], data: dict[str, Any]) -> str:
    if collection in ("countries", "parties"):
        return f"{entry.get('name') or '(no name)'} ({entry.get('code') or '?'})"
    if collection == "relations":
        names = {**_names(data, "countries"), **_names(data, "parties")}
        sides = entry.get("between") if isinstance(entry.get("between"), list) else []
        return " and ".join(names.get(str(s), str(s)) for s in sides) or "(no sides)"
    if collection == "agreements":
        return f"{entry.get('kind') or '(no kind)'} ({entry.get('id') or '?'})"
    return f"{entry.get('name') or '(no name)'} ({entry.get('id') or '?'})"


def build_form(data: dict[str, Any], fields: FormFields) -> FormView:
    """The controls of a scenario's data (which may not validate), named by field path."""
    top = [_control(spec, spec.name, data.get(spec.name), data, data) for spec in fields.top]
    handles = handles_of(data)
    sections = []
    for collection, _fact, one, heading in SECTIONS:
        entries = data.get(collection)
        views = []
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            entry = entry if isinstance(entry, dict) else {}
            handle = handles[collection][index]
            controls = [_control(spec, f"{collection}.{handle}.{spec.name}", entry.get(spec.name), data, entry) for spec in fields.parts[collection]]
            views.append(Entry(collection, one, index, handle, _heading(collection, entry, data), controls))
        sections.append(Section(collection, one, heading, views))
    return FormView(top, sections)


def build_answer(spec: FieldSpec, rows: list[dict[str, Any]] | None = None) -> Control:
    """The control of a guided question (named `spec.name`), with no value chosen: "don't know" is a button of its own."""
    control = Control(spec, spec.name, None)
    if spec.kind in ("level", "enum", "enums"):
        control.options = [Option(c, c, False) for c in spec.choices]
    elif spec.kind == "bool":
        control.options = [Option("true", "yes", False), Option("false", "no", False)]
    elif spec.kind == "rows":
        control.rows = [[_control(column, f"{spec.name}.{i}.{column.name}", None, {}, {}) for column in spec.columns] for i in range(len(rows or []))]
    return control


def form_pairs(data: dict[str, Any], fields: FormFields) -> list[tuple[str, str]]:
    """The (name, value) pairs the form would post for the data: what the form can hold of it (`read_form` reads them back)."""
    pairs: list[tuple[str, str]] = []

    def add(control: Control) -> None:
        kind = control.spec.kind
        if kind in ("sides", "rows"):
            for row in control.rows:
                for cell in row:
                    add(cell)
        elif kind in ("level", "enum", "ref", "bool", "enums"):
            pairs.extend((control.name, o.value) for o in control.options if o.selected and o.value != "")
        else:
            pairs.append((control.name, control.text))

    form = build_form(data, fields)
    for control in form.top:
        add(control)
    for section in form.sections:
        for entry in section.entries:
            for control in entry.controls:
                add(control)
    return pairs


# --- posted form -> data --------------------------------------------------------------------------------


def _value(spec: FieldSpec, raw: list[str]) -> Any:
    """A control's posted text as the fact file would write it; None: leave the field out."""
    if spec.kind == "enums":
        return [v for v in raw if v] or None
    text = raw[-1] if raw else ""
    if spec.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()] or None
    if spec.kind not in ("text", "longtext"):
        text = text.strip()
    if text == "":
        return None
    if spec.kind == "bool":
        return {"true": True, "false": False}.get(text, text)
    if spec.kind == "number":
        return int(text) if _INTEGER.match(text) else text
    return text


def read_form(pairs: Iterable[tuple[str, str]], fields: FormFields) -> tuple[dict[str, Any], Handles]:
    """The scenario data a posted form describes, and each entry's handle in the order of the data's entries.

    Names starting with `_` carry the page's own state and are skipped; so are names that are no field path.
    """
    posted: dict[str, list[str]] = {}
    for name, value in pairs:
        if not name.startswith("_"):
            posted.setdefault(name, []).append(value)
    data: dict[str, Any] = {}
    for spec in fields.top:
        if spec.name in posted and (value := _value(spec, posted[spec.name])) is not None:
            data[spec.name] = value
    handles: Handles = {collection: [] for collection, *_ in SECTIONS}
    grouped: dict[tuple[str, str], dict[str, list[str]]] = {}
    for name, values in posted.items():
        parts = name.split(".", 2)
        if len(parts) == 3 and parts[0] in fields.parts:
            collection, handle, rest = parts
            if handle not in handles[collection]:
                handles[collection].append(handle)
            grouped.setdefault((collection, handle), {})[rest] = values
    for collection, _fact, _one, _heading in SECTIONS:
        entries = []
        for handle in handles[collection]:
            entries.append(_entry(fields.parts[collection], grouped[(collection, handle)]))
        if entries or collection == "countries":
            data[collection] = entries
    return data, handles


def entry_values(specs: tuple[FieldSpec, ...], pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The fields `specs` describe, read from posted (name, value) pairs named by the fields' own names; rows left blank are dropped."""
    posted: dict[str, list[str]] = {}
    for name, value in pairs:
        posted.setdefault(name, []).append(value)
    return _entry(specs, posted, keep_blank_rows=False)


def _entry(specs: tuple[FieldSpec, ...], posted: dict[str, list[str]], *, keep_blank_rows: bool = True) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for spec in specs:
        if spec.kind == "sides":
            sides = [_value(spec, posted.get(f"{spec.name}.{i}", [])) for i in range(2)]
            if any(s is not None for s in sides):
                entry[spec.name] = [s for s in sides if s is not None]
        elif spec.kind == "rows":
            rows: dict[int, dict[str, list[str]]] = {}
            for key, values in posted.items():
                head, _, rest = key.partition(".")
                if head == spec.name and rest:
                    position, _, column = rest.partition(".")
                    if position.isdigit() and column:
                        rows.setdefault(int(position), {})[column] = values
            items = []
            for position in sorted(rows):
                item = {c.name: v for c in spec.columns if (v := _value(c, rows[position].get(c.name, []))) is not None}
                if item or keep_blank_rows:
                    items.append(item)
            if items:
                entry[spec.name] = items
        elif spec.name in posted or spec.kind == "enums":
            value = _value(spec, posted.get(spec.name, []))
            if value is not None:
                entry[spec.name] = value
    return entry


# --- problems -> fields ---------------------------------------------------------------------------------


def control_path(path: tuple[str | int, ...] | None, handles: Handles) -> str | None:
    """The field path of the control (or the entry, or the row) a problem's path into the data concerns."""
    if not path:
        return None
    head, rest = path[0], path[1:]
    if head in ("title", "description"):
        return str(head)
    if head not in handles:
        return None
    if not rest or not isinstance(rest[0], int) or rest[0] >= len(handles[str(head)]):
        return str(head)
    return ".".join([str(head), handles[str(head)][rest[0]], *(str(p) for p in rest[1:])])


def path_text(path: tuple[str | int, ...]) -> str:
    """A data path as validation messages write it: `flows[0].legal_status`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


__all__ = [
    "Control",
    "Entry",
    "FormView",
    "Handles",
    "Option",
    "Section",
    "build_answer",
    "build_form",
    "control_path",
    "entry_values",
    "form_pairs",
    "handles_of",
    "path_text",
    "read_form",
]
