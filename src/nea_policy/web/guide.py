"""Guided mode: one question at a time from the library's interview, why it is asked, and the fields that no longer matter.

Each turn is `api.interview_next` on the scenario of the form and the fields answered "don't know"; its first
question is asked with a control of its own (so the form keeps one control per field path), and every unset fact
field of the form that no question asks about is greyed out: nothing it could say would change a recommendation
or finding. An answer is recorded by `api.interview_answer`, which checks it against the scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nea_policy.analysis.interview import InterviewStep, Question
from nea_policy.api import Engine, interview_answer, interview_next
from nea_policy.errors import InputError
from nea_policy.web.fields import FieldSpec, FormFields
from nea_policy.web.form import Control, FormView, build_answer, entry_values

#: The name of the answer control(s) of the question asked.
ANSWER = "answer"
#: Blank rows offered for a question whose answer is a list of estimates or labels.
BLANK_ROWS = 4


@dataclass
class Guide:
    """The guided panel: the turn, the question asked with its control, and what the form greys out."""

    step: InterviewStep
    question: Question | None
    control: Control | None
    irrelevant: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        """No field left unanswered can change any recommendation or finding."""
        return self.step.decided


def _spec(question: Question, fields: FormFields) -> FieldSpec:
    collection, _, name = question.field.split(".", 2)
    if question.kind in ("list[estimate]", "list[label]"):
        spec = fields.spec(collection, name)
        assert spec is not None
        return FieldSpec(ANSWER, spec.label, "rows", columns=spec.columns)
    kind = {"level": "level", "bool": "bool", "enum": "enum", "code": "enum", "list[enum]": "enums", "list[text]": "lines"}[question.kind]
    return FieldSpec(ANSWER, question.label, kind, choices=tuple(question.choices))  # type: ignore[arg-type]


def _turn(engine: Engine, data: dict[str, Any], unknown: list[str]) -> InterviewStep:
    """The turn; "don't know" answers that no longer name an open field (the form now sets it, or it was renamed) are dropped."""
    try:
        return interview_next({"scenario": data, "unknown": unknown}, engine=engine)
    except InputError as error:
        stale = {p.location for p in error.problems if p.code in ("answered_and_unknown", "unknown_field_path")}
        if not stale:
            raise
        kept = [path for i, path in enumerate(unknown) if f"unknown[{i}]" not in stale]
        return interview_next({"scenario": data, "unknown": kept}, engine=engine)


def guide_of(engine: Engine, data: dict[str, Any], unknown: list[str], fields: FormFields, form: FormView) -> Guide:
    """The guided panel for a valid scenario's data and its "don't know" answers."""
    step = _turn(engine, data, unknown)
    question = step.questions[0] if step.questions else None
    control = None
    if question is not None:
        spec = _spec(question, fields)
        rows = [{}] * BLANK_ROWS if spec.kind == "rows" else None
        control = build_answer(spec, rows)
    asked = {q.field for q in step.questions}
    known = set(step.unknown)
    irrelevant = []
    for section in form.sections:
        for entry in section.entries:
            for item in entry.controls:
                if item.spec.structure or item.name in asked or item.name in known or item.value not in (None, []):
                    continue
                irrelevant.append(item.name)
    return Guide(step, question, control, irrelevant, list(step.unknown))


def answer(data: dict[str, Any], unknown: list[str], question: str, kind: str, pairs: list[tuple[str, str]], fields: FormFields) -> tuple[dict[str, Any], list[str]]:
    """The scenario's data and "don't know" answers after answering `question` with the posted answer controls
    (`kind` is the question's kind; nothing posted is "don't know")."""
    spec = _spec(Question(field=question, label="", kind=kind, choices=[], reason="", waiting=[], recommendations_waiting=0, findings_waiting=0), fields)
    value = entry_values((spec,), pairs).get(ANSWER)
    if value is None and spec.kind not in ("enums", "lines", "rows"):
        raise InputError("choose an answer first, or press “Don't know”", code="no_answer", location=question)
    if value is None:
        value = []  # nothing chosen of a list is an answer: none of them
    turned = interview_answer({"scenario": data, "unknown": unknown}, question, value)
    return turned.scenario, turned.unknown


def dont_know(data: dict[str, Any], unknown: list[str], question: str) -> tuple[dict[str, Any], list[str]]:
    """The data and "don't know" answers after answering `question` "don't know" (final: it is not asked again)."""
    turned = interview_answer({"scenario": data, "unknown": unknown}, question, None)
    return turned.scenario, turned.unknown


__all__ = ["ANSWER", "Guide", "answer", "dont_know", "guide_of"]
