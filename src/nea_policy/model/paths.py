"""Addressing the facts of a scenario by path (`flows.kp-to-cn.legal_status`) and changing them (`PATH=VALUE`).

Paths name flows, regions and agreements by id, countries by code and relations by their pair in either order;
what-if, sweeps, rule tests and the counterfactual search all change scenarios through them.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

from nea_policy.errors import InputError, Problem
from nea_policy.model.display import shown
from nea_policy.model.documents import parse_document
from nea_policy.model.facts import Agreement, Country, Flow, Party, Region, Relation, pair_key

# Scenario collections, the engine fact type each becomes, and how an entry is keyed.
COLLECTIONS: dict[str, str] = {"countries": "country", "parties": "party", "regions": "region", "relations": "relation", "agreements": "agreement", "flows": "flow"}
MODELS: dict[str, type[Any]] = {"countries": Country, "parties": Party, "regions": Region, "relations": Relation, "agreements": Agreement, "flows": Flow}
_TOP_LEVEL = ("title", "description")


@dataclass(frozen=True)
class Assignment:
    """One `--set PATH=VALUE`: the path split at dots and the value read as YAML (None unsets the field)."""

    text: str
    path: tuple[str, ...]
    value: Any
    #: Where the change was asked for, as problems about it name it; None: the `--set` option of the command line.
    origin: str | None = None


def assignment_of(path: str, value: Any, *, origin: str | None = None) -> Assignment:
    """A change given as data (a path and a value already parsed, as from a JSON request): no YAML reading of the value."""
    text = f"{path}={value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
    return Assignment(text, _path_parts(path, text, origin), value, origin)


def _path_parts(path_text: str, text: str, origin: str | None) -> tuple[str, ...]:
    path = tuple(part.strip() for part in path_text.strip().split("."))
    if not path_text.strip() or any(not part for part in path):
        raise InputError(
            f"{'--set ' if origin is None else ''}{shown(text, 40)}: the path {shown(path_text, 40)} has an empty part; write e.g. countries.CN.labor_shortage",
            code="bad_assignment",
            location=origin or "--set",
        )
    return path


def parse_assignment(text: str, *, origin: str | None = None) -> Assignment:
    """Parse `PATH=VALUE`; the value is read as a YAML scalar or list, so `true`, `3`, `[a, b]` and `null` work."""
    if "=" not in text:
        raise InputError(f"--set {shown(text, 40)}: expected PATH=VALUE, e.g. flows.kp-to-cn.legal_status=regular", code="bad_assignment", location=origin or "--set")
    path_text, value_text = text.split("=", 1)
    path = _path_parts(path_text, text, origin)
    try:
        # The reader of fact files, with its bounds: a value of a few aliases must not expand to billions of nodes.
        value = parse_document(value_text, "--set", fmt="yaml").data if value_text.strip() else None
    except InputError as exc:
        if exc.code != "yaml_syntax":
            raise InputError([Problem(p.code, f"--set {shown(text)}: {p.message}", origin or "--set", p.hint) for p in exc.problems]) from None
        value = value_text  # not YAML: the text itself (e.g. a title with a colon)
    if isinstance(value, dict):
        # No field takes a mapping, so `title=What if: a = b` is text, not YAML.
        value = value_text
    return Assignment(text, path, value, origin)


def apply_assignments(data: dict[str, Any], assignments: list[Assignment]) -> dict[str, Any]:
    """A copy of a scenario's data with each assignment applied; all bad paths reported at once.

    Only what an assignment changes is copied (the containers on its path); the rest of the copy is the data's own:
    sweeps apply assignments at every grid point, and deep copies were most of their time.
    """
    result = dict(data)
    copied: set[int] = {id(result)}
    problems: list[Problem] = []
    for assignment in assignments:
        try:
            _apply(result, assignment, copied)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return result


def field_path(a: Assignment, data: dict[str, Any]) -> str:
    """Where an applicable assignment lands, in the notation of validation messages: `flows[0].legal_status`."""
    head, rest = a.path[0], a.path[1:]
    if not rest:
        return head
    index = _find_entry(head, data.get(head) or [], rest[0], a)
    out = f"{head}[{index}]"
    for step in rest[1:]:
        out += f"[{step}]" if _is_index(step) else f".{step}"
    return out


def _own(parent: Any, key: Any, copied: set[int]) -> Any:
    """parent[key], copied into the parent first unless it is already a copy of this application (lists and mappings)."""
    child = parent[key]
    if isinstance(child, (list, dict)) and id(child) not in copied:
        child = list(child) if isinstance(child, list) else dict(child)
        parent[key] = child
        copied.add(id(child))
    return child


def _apply(data: dict[str, Any], a: Assignment, copied: set[int]) -> None:
    head, rest = a.path[0], a.path[1:]
    if head in _TOP_LEVEL and not rest:
        _set(data, head, a.value)
        return
    if head not in COLLECTIONS:
        choices = [*COLLECTIONS, *_TOP_LEVEL]
        raise _bad(a, f"{shown(head, 40)} is not a part of a scenario; use one of {', '.join(choices)}", _close(head, choices))
    if not rest:
        raise _bad(a, f"name the entry, e.g. {head}.<id>.<field>", "")
    entries = data.get(head)
    if not isinstance(entries, list):
        raise _bad(a, f"the scenario has no {head}", "add them to the file first")
    index = _find_entry(head, entries, rest[0], a)
    entries = _own(data, head, copied)
    if len(rest) == 1:
        raise _bad(a, f"name a field of {head}.{rest[0]}, e.g. {head}.{rest[0]}.name", "")
    field = rest[1]
    model = MODELS[head]
    if field not in model.model_fields:
        raise _bad(a, f"a {COLLECTIONS[head]} has no field {shown(field, 40)}", _close(field, list(model.model_fields)) or f"fields: {', '.join(model.model_fields)}")
    target: Any = _own(entries, index, copied)
    for step in rest[1:-1]:
        _step(target, step, a)  # checks the step, with its message
        target = _own(target, _list_index(target, step, a) if isinstance(target, list) else step, copied)
    last = rest[-1]
    if isinstance(target, list):
        position = _list_index(target, last, a)
        if a.value is None:
            raise _bad(a, "to remove an item, set the whole list", "")
        target[position] = a.value
    elif isinstance(target, dict):
        _set(target, last, a.value)
    else:
        raise _bad(a, f"{'.'.join(a.path[:-1])} holds a single value, not fields", "")


def _find_entry(collection: str, entries: list[Any], name: str, a: Assignment) -> int:
    if _is_index(name):
        return _list_index(entries, name, a)
    keys: list[str] = []
    wanted = pair_key(*name.split("-", 1)) if collection == "relations" and name.count("-") == 1 else name
    for i, entry in enumerate(entries):
        key = entry_key(collection, entry)
        keys.append(key)
        if key == wanted:
            return i
    hint = _close(name, keys) or (f"entries: {', '.join(keys)}" if keys else "")
    what = {"countries": "code", "parties": "code", "relations": "pair of codes (e.g. CN-RU)"}.get(collection, "id")
    raise _bad(a, f"no entry in {collection} has the {what} {shown(name, 40)}", hint)


def entry_key(collection: str, entry: Any) -> str:
    if not isinstance(entry, dict):
        return "?"
    if collection in ("countries", "parties"):
        return str(entry.get("code"))
    if collection == "relations":
        between = entry.get("between")
        return pair_key(*map(str, between)) if isinstance(between, list) and len(between) == 2 else "?"
    return str(entry.get("id"))


def _step(target: Any, step: str, a: Assignment) -> Any:
    if isinstance(target, list):
        return target[_list_index(target, step, a)]
    if isinstance(target, dict):
        if step not in target:
            raise _bad(a, f"{shown(step, 40)} is not set in the file, so it has no parts to change", "set the whole field instead")
        return target[step]
    raise _bad(a, f"{shown(step, 40)}: the value before it holds no fields", "")


def _list_index(items: list[Any], step: str, a: Assignment) -> int:
    if not _is_index(step) or int(step) >= len(items):
        raise _bad(a, f"{shown(step, 40)} is not a position in a list of {len(items)} (0 to {len(items) - 1})", "")
    return int(step)


def _is_index(step: str) -> bool:
    """Whether a path part is a list position: ASCII digits only ('²'.isdigit() is true, but int('²') fails)."""
    return step.isascii() and step.isdigit() and len(step) < 19


def _set(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _close(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def _bad(a: Assignment, message: str, hint: str) -> InputError:
    return InputError([Problem("bad_set_path", f"{shown(a.text)}: {message}", a.origin or "--set", hint)])


def blame(problem: Problem, landing: dict[str, Assignment]) -> Problem:
    """A problem of the changed scenario, located at the change that made the value (field path -> assignment)."""
    for path, a in landing.items():
        if problem.message.startswith((f"{path}:", f"{path}[", f"{path}.")):
            return Problem(problem.code, problem.message, a.origin or f"--set {a.text}", problem.hint)
    return problem
