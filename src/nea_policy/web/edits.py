"""Edits the page makes to a scenario's data besides typing into a field: add or remove entries and rows, apply a
verified change set, keep only the structure.

They work on the data of a fact file (which may not validate yet) and never decide anything about rules: a change
set comes from the library's counterfactual search, the structure from the interview's own definition.
"""

from __future__ import annotations

import copy
import string
from typing import Any

from nea_policy.api import Scenario, interview_structure, load_scenario
from nea_policy.errors import InputError, NeaPolicyError
from nea_policy.model.facts import AgreementKind, pair_key
from nea_policy.model.paths import apply_assignments, assignment_of
from nea_policy.web.fields import SECTIONS
from nea_policy.web.form import Handles

COLLECTIONS = tuple(collection for collection, *_ in SECTIONS)


def _codes(data: dict[str, Any], collection: str) -> list[str]:
    return [str(e.get("code")) for e in data.get(collection) or [] if isinstance(e, dict) and e.get("code")]


def _ids(data: dict[str, Any], collection: str) -> set[str]:
    return {str(e.get("id")) for e in data.get(collection) or [] if isinstance(e, dict)}


def _fresh(base: str, taken: set[str]) -> str:
    number = 1
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def new_entry(data: dict[str, Any], collection: str) -> dict[str, Any]:
    """A new entry that validates where it can: fresh codes and ids, linked to the first declared countries."""
    countries = _codes(data, "countries")
    names = {str(e.get("code")): str(e.get("name") or e.get("code")) for e in data.get("countries") or [] if isinstance(e, dict)}
    first = countries[0] if countries else ""
    second = countries[1] if len(countries) > 1 else first
    if collection == "countries":
        taken = set(countries) | set(_codes(data, "parties"))
        letter = next((c for c in string.ascii_uppercase if f"X{c}" not in taken), "Z")
        return {"code": f"X{letter}", "name": f"Country {letter}"}
    if collection == "parties":
        taken = set(_codes(data, "parties"))
        number = next(n for n in range(1, 10_000) if f"PARTY{n}" not in taken)
        return {"code": f"PARTY{number}", "name": f"party {number}"}
    if collection == "regions":
        ident = _fresh("region", _ids(data, "regions"))
        return {"id": ident, "name": f"new {ident.replace('-', ' ')}", "country": first}
    if collection == "relations":
        sides = countries + _codes(data, "parties")
        have = {pair_key(*map(str, e["between"])) for e in data.get("relations") or [] if isinstance(e, dict) and isinstance(e.get("between"), list) and len(e["between"]) == 2}
        for i, a in enumerate(sides):
            for b in sides[i + 1 :]:
                if pair_key(a, b) not in have:
                    return {"between": [a, b]}
        return {"between": [first, second]}
    if collection == "agreements":
        return {"id": _fresh("agreement", _ids(data, "agreements")), "between": [first, second], "kind": next(iter(AgreementKind)).value}
    if collection == "flows":
        return {"id": _fresh("flow", _ids(data, "flows")), "name": f"migrants from {names.get(first, first)} in {names.get(second, second)}", "origin": first, "destination": second}
    raise InputError(f"{collection!r} is not a part of a scenario", code="bad_action", location="_action")


def _position(handles: Handles, collection: str, handle: str) -> int:
    if collection not in handles or handle not in handles[collection]:
        raise InputError(f"{collection}.{handle}: no such entry in the form", code="bad_action", location="_action", hint="reload the page")
    return handles[collection].index(handle)


def edit(data: dict[str, Any], handles: Handles, action: str) -> dict[str, Any]:
    """The data after one form action: `add:flows`, `remove:flows.kp-to-cn`, `add-row:flows.kp-to-cn.estimates`,
    `remove-row:flows.kp-to-cn.estimates.1`."""
    result = copy.deepcopy(data)
    verb, _, target = action.partition(":")
    parts = target.split(".")
    if verb == "add" and len(parts) == 1 and parts[0] in COLLECTIONS:
        result.setdefault(parts[0], []).append(new_entry(result, parts[0]))
        return result
    if verb in ("remove", "add-row", "remove-row") and len(parts) >= 2 and parts[0] in COLLECTIONS:
        entries = result.get(parts[0]) or []
        index = _position(handles, parts[0], parts[1])
        if verb == "remove" and len(parts) == 2:
            del entries[index]
            return result
        entry = entries[index]
        if verb == "add-row" and len(parts) == 3:
            entry.setdefault(parts[2], []).append({})
            return result
        if verb == "remove-row" and len(parts) == 4 and parts[3].isdigit():
            rows = entry.get(parts[2]) or []
            if int(parts[3]) < len(rows):
                del rows[int(parts[3])]
                if not rows:
                    entry.pop(parts[2], None)
            return result
    raise InputError(f"{action!r} is not an action of the form", code="bad_action", location="_action", hint="reload the page")


def apply_changes(data: dict[str, Any], changes: list[dict[str, Any]]) -> dict[str, Any]:
    """The data with a change set applied: each `{"path": "flows.ru-to-jp.legal_status", "new": "unclear"}` (new null unsets)."""
    assignments = []
    for change in changes:
        if not isinstance(change, dict) or not isinstance(change.get("path"), str):
            raise InputError("a change is a path and a new value", code="bad_action", location="_changes", hint="reload the page")
        assignments.append(assignment_of(change["path"], change.get("new"), origin="_changes"))
    return apply_assignments(data, assignments)


def structure_only(data: dict[str, Any]) -> dict[str, Any]:
    """Who and what the scenario is about, without its facts (what a guided interview starts from)."""
    return interview_structure(data)


def valid_scenario(data: dict[str, Any]) -> Scenario | None:
    """The data as a Scenario when it validates, else None."""
    try:
        return load_scenario(data)
    except NeaPolicyError:
        return None


__all__ = ["apply_changes", "edit", "new_entry", "structure_only", "valid_scenario"]
