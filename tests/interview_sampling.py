"""Random values for answerable fields, random partial scenarios and random completions (for the interview's sampled tests)."""

from __future__ import annotations

import copy
import random
from typing import Any

from nea_policy.analysis.answerable import OPEN, AnswerableField, FieldIndex, field_index
from nea_policy.analysis.interview import _entry_key, apply_answer, scenario_data, structure_of
from nea_policy.model.facts import LEVEL_ORDER, Scenario, pair_key
from nea_policy.model.report import Report

SECTORS = ["construction", "agriculture", "trade", "housework"]
LABELS = [("media", "defectors"), ("government", "economic migrants"), ("NGOs", "refugees"), ("press", "Defectors ")]
MAGNITUDES = [0, 1_000, 100_000, 200_000, 400_000, 1_000_000]


def random_value(rnd: random.Random, field: AnswerableField, unset: float = 0.25) -> Any:
    """A value the fact model allows for the field, or None (unset) with probability `unset`."""
    if rnd.random() < unset:
        return None
    kind = field.kind
    if kind == "level":
        return rnd.choice(LEVEL_ORDER)
    if kind == "bool":
        return rnd.random() < 0.5
    if kind in ("enum", "code"):
        return rnd.choice(field.choices)
    if kind == "list[enum]":
        return rnd.sample(list(field.choices), rnd.randint(0, min(3, len(field.choices))))
    if kind == "list[text]":
        return rnd.sample(SECTORS, rnd.randint(0, 2))
    if kind == "list[estimate]":
        found = []
        for _ in range(rnd.randint(0, 3)):
            low = rnd.choice(MAGNITUDES)
            found.append({"low": low, "high": low + rnd.choice([0, 50_000, 600_000]), "kind": rnd.choice(["alarmist", "careful", "official"])})
        return found
    if kind == "list[label]":
        return [{"by": by, "label": label} for by, label in rnd.sample(LABELS, rnd.randint(0, 3))]
    raise AssertionError(f"no random value for {field.path} ({kind})")


def set_field(data: dict[str, Any], field: AnswerableField, value: Any) -> None:
    """Set a field of the scenario's data to a value, or unset it (None; for an agreement, remove it)."""
    if value is not None and not (field.collection == "agreements" and value is False):
        if field.collection == "agreements":
            unset_agreement(data, field)
        apply_answer(data, [], field, value)
        return
    if field.collection == "agreements":
        unset_agreement(data, field)
        return
    for entry in data.get(field.collection, []):
        if _entry_key(field.collection, entry) == field.key:
            entry.pop(field.field, None)


def unset_agreement(data: dict[str, Any], field: AnswerableField) -> None:
    """Remove the agreements of the field's pair and kind."""
    data["agreements"] = [a for a in data.get("agreements", []) if not (pair_key(*a["between"]) == field.key and a["kind"] == field.field)]


def variation(rnd: random.Random, scenario: Scenario, share: float = 0.3) -> dict[str, Any]:
    """The scenario's data with a random share of its fields (stated or not) set to random values or unset."""
    data = scenario_data(scenario)
    for field in field_index(scenario).fields.values():
        if rnd.random() < share:
            set_field(data, field, random_value(rnd, field))
    return data


def partial(rnd: random.Random, scenario: Scenario, keep: float, unknown: float) -> tuple[dict[str, Any], list[str]]:
    """The scenario's structure with each stated field kept with probability `keep`; each other field answered "don't know" with probability `unknown`."""
    data = structure_of(scenario)
    marked: list[str] = []
    for field in field_index(scenario).fields.values():
        if field.state == "answered" and rnd.random() < keep:
            set_field(data, field, copy.deepcopy(field.value))
        elif rnd.random() < unknown:
            marked.append(field.path)
    return data, marked


def completion(rnd: random.Random, data: dict[str, Any], index: FieldIndex) -> dict[str, Any]:
    """The partial scenario with every open field set to a random value or left unset (answered and unknown fields as they are)."""
    done = copy.deepcopy(data)
    for field in index.fields.values():
        if field.state == OPEN:
            set_field(done, field, random_value(rnd, field))
    return done


def recommendations(report: Report) -> set[tuple[str, str, tuple[str, ...]]]:
    """(rule, subject, governments addressed) of each recommendation."""
    return {(r.rule, r.subject.key, tuple(r.actors)) for r in report.recommendations}


def findings(report: Report) -> set[tuple[str, str]]:
    """(finding, subject) of each finding."""
    return {(f.finding, f.subject.key) for f in report.findings}
