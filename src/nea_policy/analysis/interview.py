"""The interview: ask only what can still change a recommendation or finding, say why, and stop when nothing can.

`next_step(engine, InterviewRequest(scenario=partial, unknown=[...]))` is one turn: from the structure of a partial
scenario and the facts known so far (`analysis.relevance` decides what they already decide), the questions still
relevant, the most decisive first (the field most undecided recommendations wait on, then findings; ties in
scenario order), each with its reason in words; the recommendations decided so far and those still open; the report
of the partial scenario; and `decided` when no open field can change any outcome (the report is then final: any
answers to the fields never asked give the same recommendations and findings).

`run_interview` asks question after question through a callback until decided (`answers_from` replays a fact file:
a field it does not state is answered "don't know"), and returns what was asked, the answers and the final report.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nea_policy.analysis.answerable import (
    STRUCTURE,
    AnswerableField,
    FieldIndex,
    country_names,
    field_index,
    normalize_path,
    pair_name,
)
from nea_policy.analysis.reasons import Waiter, field_words, reason_words, waiter_words
from nea_policy.analysis.relevance import Candidate, Relevance, Step, any3, relevance
from nea_policy.errors import InputError, NeaPolicyError, Problem
from nea_policy.language.rule_docs import readable_condition
from nea_policy.model.facts import Scenario, load_scenario, pair_key
from nea_policy.model.report import Report, Subject

if TYPE_CHECKING:
    from nea_policy.engine.engine import Engine


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Goal = Literal["all", "recommendations"]


class InterviewRequest(_Model):
    """One turn of an interview: a partial scenario and the fields answered "don't know" (what `POST /v1/interview/next` takes)."""

    scenario: dict[str, Any] = Field(
        description="a fact file as JSON (`nea-policy schema facts`): its structure (countries, regions, relations, flows) and the facts known so far"
    )
    unknown: list[str] = Field(
        default_factory=list,
        description=(
            'fields answered "don\'t know", by path (flows.kp-to-cn.legal_status, countries.CN.labor_shortage, relations.CN-RU.proximity); '
            'they are not asked again. An agreement question (agreements.CN-RU.labor-migration-regime) answered "no" goes here too: '
            "a fact file lists only the agreements that exist"
        ),
    )
    goal: Goal = Field(
        "all",
        description="what the questions must settle: every recommendation and finding (all), or the recommendations only (fewer questions; findings that no open recommendation rests on may stay open)",
    )


class Through(_Model):
    """A finding between a rule and the field it waits on (needed, or needed absent)."""

    finding: str
    title: str
    subject: str
    negated: bool = Field(False, description="the rule needs this finding not to hold")


class Waiting(_Model):
    """A rule that cannot be decided without the field, for one subject."""

    rule: str
    kind: Literal["finding", "recommendation"]
    title: str
    subject: Subject | None
    actors: list[str] = Field(description="governments addressed (recommendations)")
    through: list[Through] = Field(description="the findings it waits through, from the rule down to the one that reads the field")
    conditions: list[str] = Field(description="the conditions on the field, in words, of the rule that reads it")
    words: str = Field(description="this entry in words, as the reason uses it")


class Question(_Model):
    """A fact field that can still change a recommendation or finding, with why it is asked."""

    field: str = Field(description="its path, e.g. flows.kp-to-cn.legal_status")
    label: str = Field(description="what it asks, in words")
    kind: str = Field(description="level, bool, enum, code, list[enum], list[text], list[estimate] or list[label]")
    choices: list[str] = Field(description="the allowed values (for lists: of each item), as a fact file writes them")
    reason: str
    waiting: list[Waiting] = Field(description="the recommendations (then findings) waiting on it")
    recommendations_waiting: int = Field(description="undecided recommendation candidates waiting on it (what orders the questions, then findings_waiting)")
    findings_waiting: int


class Conclusion(_Model):
    """A recommendation for a subject: decided to hold, or still open."""

    rule: str
    title: str
    subject: Subject
    actors: list[str]


class InterviewStep(_Model):
    """The answer to one turn: the relevant questions (next first), what is decided so far, and the report of the partial scenario."""

    decided: bool = Field(description="no open field can change any recommendation or finding: the report is final")
    questions: list[Question]
    holding: list[Conclusion] = Field(description="recommendations that hold whatever the open fields turn out to be")
    open: list[Conclusion] = Field(description="recommendations not decided yet")
    unknown: list[str] = Field(description="the fields answered \"don't know\", normalized")
    report: Report


class AskedQuestion(_Model):
    """A question as it was asked and answered (answer null: "don't know")."""

    field: str
    reason: str
    answer: Any = None


class Interview(_Model):
    """A finished interview: what was asked, in order, and the report it ends with."""

    questions: list[AskedQuestion]
    report: Report
    scenario: dict[str, Any] = Field(exclude=True, description="the answered scenario, as a fact file")
    unknown: list[str] = Field(exclude=True)
    goal: Goal = Field("all", exclude=True)
    facts_in_answers: int | None = Field(None, exclude=True, description="fact fields the replayed answers file states")

    def to_json(self) -> str:
        """`{"questions": [...], "report": ...}`, indented."""
        return self.model_dump_json(indent=2) + "\n"


# --- one turn -------------------------------------------------------------------------------------------


class _Names:
    def __init__(self, scenario: Scenario) -> None:
        self.countries = country_names(scenario)
        self.names: dict[tuple[str, str], str] = {("country", code): name for code, name in self.countries.items()}
        self.names.update({("region", r.id): r.name for r in scenario.regions})
        self.names.update({("flow", f.id): f.name for f in scenario.flows})
        for relation in scenario.relations:
            key = pair_key(*relation.between)
            self.names[("relation", key)] = pair_name(self.countries, key)

    def subject(self, candidate: Candidate) -> Subject | None:
        if candidate.subject is None:
            return None
        type_ = candidate.subject_type or ""
        return Subject(type=type_, key=candidate.subject, name=self.names.get((type_, candidate.subject), candidate.subject))


def _actors(candidate: Candidate) -> list[str]:
    codes = []
    for actor in candidate.rule.actors:
        value = candidate.binding.get(actor.alias, {}).get(actor.field)
        if isinstance(value, str) and value not in codes:
            codes.append(value)
    return codes


class _Words:
    """Conditions in words, each worked out once per turn (many candidates share a rule)."""

    def __init__(self) -> None:
        self._done: dict[tuple[int, int, int | None], str] = {}

    def __call__(self, condition: Any, rule: Any, absence: Any = None) -> str:
        key = (id(rule), id(condition), id(absence) if absence is not None else None)
        if key not in self._done:
            self._done[key] = readable_condition(condition, rule, absence)
        return self._done[key]


def _conditions_on(candidate: Candidate, path: str, words_of: _Words) -> list[str]:
    """The conditions of the candidate that read the field directly, in words."""
    words = [words_of(leaf.condition, candidate.rule) for leaf in candidate.leaves if path in leaf.fields]
    for absence, blockers in zip(candidate.rule.absences, candidate.absences):
        if any(b.field == path or path in b.match_fields for b in blockers):
            what = f"finding {absence.finding}" if absence.finding else absence.fact_type
            tests = " and ".join(words_of(c, candidate.rule, absence) for c in absence.conditions)
            words.append(f"no {what}" + (f" where {tests}" if tests else ""))
    if path in candidate.actor_fields:
        words.append("the governments it addresses")
    return words


def _reader(relevance_: Relevance, candidate: Candidate, chain: tuple[Step, ...], path: str) -> Candidate:
    """The candidate at the bottom of the chain: the one whose own conditions read the field."""
    if not chain:
        return candidate
    last = chain[-1]
    for other in relevance_.producers(last.finding, last.subject):
        if relevance_.waits(other).get(path) == ():
            return other
    return candidate


def next_step(engine: Engine, request: InterviewRequest | dict[str, Any]) -> InterviewStep:
    """One turn of the interview over a partial scenario: relevant questions (next first, with reasons), decided and open recommendations, the report.

    Errors: a scenario that does not validate is a ScenarioError (located, every problem at once); an unknown path
    that names no fact field, or one the scenario answers, is an InputError (`unknown_field_path`, `answered_and_unknown`).
    """
    request = request if isinstance(request, InterviewRequest) else InterviewRequest.model_validate(request)
    scenario = load_scenario(request.scenario)
    index = field_index(scenario, request.unknown)
    return _step(engine, scenario, index, request.goal)


def _step(engine: Engine, scenario: Scenario, index: FieldIndex, goal: Goal = "all") -> InterviewStep:
    found = relevance(engine, scenario, index)
    names = _Names(scenario)
    titles: dict[str, str] = {}
    for rule in engine.rules:
        titles.setdefault(rule.concludes, rule.title)
    waiting: dict[str, list[tuple[Candidate, tuple[Step, ...]]]] = {}
    for candidate in found.open_candidates():
        if goal == "recommendations" and candidate.rule.kind != "recommendation":
            continue
        for path, chain in found.waits(candidate).items():
            waiting.setdefault(path, []).append((candidate, chain))
    questions = []
    words_of = _Words()
    for path, waiters in waiting.items():
        field = index.fields[path]
        waiters.sort(key=lambda w: (w[0].rule.kind != "recommendation", len(w[1])))
        described = [_waiting(found, names, titles, words_of, field, candidate, chain) for candidate, chain in waiters]
        entries = [entry for entry, _ in described]
        recommendations = [entry for entry in entries if entry.kind == "recommendation"]
        shown = [words for entry, words in described if entry.kind == "recommendation"] or [words for _, words in described]
        questions.append(
            Question(
                field=path,
                label=field_words(field),
                kind=field.kind,
                choices=list(field.choices),
                reason=reason_words(shown, field),
                waiting=entries,
                recommendations_waiting=len(recommendations),
                findings_waiting=len(entries) - len(recommendations),
            )
        )
    questions.sort(key=lambda q: (-q.recommendations_waiting, -q.findings_waiting, index.fields[q.field].order))
    holding, still_open = _conclusions(found, names)
    unknown = [f.path for f in index.fields.values() if f.state == "unknown"]
    return InterviewStep(decided=not questions, questions=questions, holding=holding, open=still_open, unknown=unknown, report=engine.evaluate(scenario))


def _waiting(
    found: Relevance, names: _Names, titles: dict[str, str], words_of: _Words, field: AnswerableField, candidate: Candidate, chain: tuple[Step, ...]
) -> tuple[Waiting, Waiter]:
    subject = names.subject(candidate)
    actors = _actors(candidate) if candidate.rule.kind == "recommendation" else []
    through = [Through(finding=s.finding, title=titles.get(s.finding, s.finding), subject=s.subject, negated=s.negated) for s in chain]
    about = subject.name if subject is not None and (subject.type, subject.key) != (field.fact, field.key) else None
    waiter = Waiter(candidate.rule.title, candidate.rule.kind, tuple(names.countries.get(a, a) for a in actors), about, tuple((t.title, t.negated) for t in through))
    reader = _reader(found, candidate, chain, field.path)
    entry = Waiting(
        rule=candidate.rule.id,
        kind=candidate.rule.kind,  # type: ignore[arg-type]
        title=candidate.rule.title,
        subject=subject,
        actors=actors,
        through=through,
        conditions=_conditions_on(reader, field.path, words_of),
        words=waiter_words(waiter),
    )
    return entry, waiter


def _conclusions(found: Relevance, names: _Names) -> tuple[list[Conclusion], list[Conclusion]]:
    groups: dict[tuple[str, str], list[Candidate]] = {}
    for candidate in found.candidates:
        if candidate.rule.kind == "recommendation" and candidate.subject is not None:
            groups.setdefault((candidate.rule.concludes, candidate.subject), []).append(candidate)
    holding, still_open = [], []
    for group in groups.values():
        status = any3(c.status for c in group)
        if status == "failed":
            continue
        first = next(c for c in group if c.status == status)
        subject = names.subject(first)
        assert subject is not None
        conclusion = Conclusion(rule=first.rule.concludes, title=first.rule.title, subject=subject, actors=_actors(first))
        (holding if all(found.decided(c) for c in group) and status == "held" else still_open).append(conclusion)
    return holding, still_open


# --- answering ------------------------------------------------------------------------------------------

Answerer = Callable[[Question, InterviewStep], Any]


def facts_stated(scenario: Scenario) -> int:
    """How many fact fields a scenario states (each field of each entry once, each agreement once)."""
    return sum(f.state == "answered" for f in field_index(scenario).fields.values())


def apply_answer(data: dict[str, Any], unknown: list[str], field: AnswerableField, answer: Any) -> None:
    """Record an answer in the scenario's data (None: "don't know"; an agreement answered no is left out, final like it)."""
    if answer is None or (field.collection == "agreements" and answer is False):
        unknown.append(field.path)
        return
    if field.collection == "agreements":
        a, b = field.key.split("-")
        ids = {str(item.get("id")) for item in data.get("agreements", [])}
        base = f"{a.lower()}-{b.lower()}-{field.field}"
        ident = base
        for number in range(2, 1000):
            if ident not in ids:
                break
            ident = f"{base}-{number}"
        data.setdefault("agreements", []).append({"id": ident, "between": [a, b], "kind": field.field})
        return
    for entry in data.get(field.collection, []):
        if _entry_key(field.collection, entry) == field.key:
            entry[field.field] = answer
            return
    raise InputError(f"{field.path}: the scenario has no such entry", code="unknown_field_path", location=field.path)


def _entry_key(collection: str, entry: dict[str, Any]) -> str:
    if collection in ("countries", "parties"):
        return str(entry.get("code"))
    if collection == "relations":
        between = entry.get("between") or ["?", "?"]
        return pair_key(*map(str, between))
    return str(entry.get("id"))


def check_answer(data: dict[str, Any], field: AnswerableField, answer: Any) -> None:
    """Raise an InputError (`bad_answer`, located at the field's path) if the scenario would not validate with the answer."""
    trial = copy.deepcopy(data)
    apply_answer(trial, [], field, answer)
    try:
        load_scenario(trial)
    except NeaPolicyError as error:
        raise InputError([Problem("bad_answer", p.message, field.path, p.hint) for p in error.problems]) from None


def record_answer(request: InterviewRequest | dict[str, Any], path: str, answer: Any) -> InterviewRequest:
    """The request with one question answered (None: "don't know"): its scenario and unknown fields updated as
    `run_interview` records answers; an InputError (`unknown_field_path`, `bad_answer`) when the path is no open
    question of the scenario or the scenario would not validate with the answer."""
    request = request if isinstance(request, InterviewRequest) else InterviewRequest.model_validate(request)
    index = field_index(load_scenario(request.scenario), request.unknown)
    field = index.fields.get(normalize_path(path))
    if field is None:
        raise InputError(f"{path!r} is not a fact field of the scenario", code="unknown_field_path", location=path)
    data = copy.deepcopy(request.scenario)
    unknown = list(request.unknown)
    if answer is not None:
        check_answer(data, field, answer)
    apply_answer(data, unknown, field, answer)
    return request.model_copy(update={"scenario": data, "unknown": unknown})


def scenario_data(scenario: Scenario) -> dict[str, Any]:
    """The fact file data of a scenario, with only what it states."""
    return scenario.model_dump(mode="json", exclude_unset=True, exclude_none=True)


def structure_of(scenario: Scenario) -> dict[str, Any]:
    """The structure of a scenario (title, description, countries, parties, regions, relations, flows) without any fact."""
    data = scenario_data(scenario)
    out: dict[str, Any] = {k: v for k, v in data.items() if k in ("title", "description")}
    for collection in ("countries", "parties", "regions", "relations", "flows"):
        out[collection] = [{k: v for k, v in entry.items() if k in STRUCTURE[collection]} for entry in data.get(collection, [])]
    return out


def merge_structure(data: dict[str, Any], source: Scenario) -> dict[str, Any]:
    """`data` with every country, party, region, relation and flow of `source` that it lacks (structure only), and its title if it has none."""
    merged = copy.deepcopy(data)
    extra = structure_of(source)
    for key in ("title", "description"):
        if key in extra and key not in merged:
            merged[key] = extra[key]
    for collection in ("countries", "parties", "regions", "relations", "flows"):
        have = {_entry_key(collection, e) for e in merged.get(collection, [])}
        for entry in extra[collection]:
            if _entry_key(collection, entry) not in have:
                merged.setdefault(collection, []).append(entry)
    return merged


def answers_from(source: Scenario) -> Answerer:
    """Answers replayed from a fact file: what it states, "don't know" for what it does not (no, for an agreement it does not list)."""
    index = field_index(source)

    def answer(question: Question, _step: InterviewStep) -> Any:
        found = index.fields.get(question.field)
        if found is None or found.state != "answered":
            return False if question.field.startswith("agreements.") and found is not None else None
        return copy.deepcopy(found.value)

    return answer


def run_interview(
    engine: Engine,
    start: dict[str, Any],
    answer: Answerer,
    *,
    unknown: list[str] | None = None,
    goal: Goal = "all",
    on_step: Callable[[InterviewStep], None] | None = None,
    on_invalid: Callable[[NeaPolicyError], None] | None = None,
) -> Interview:
    """Ask the next question until no open field can change an outcome; `answer` gives a value as a fact file writes it, or None for "don't know".

    An answer the scenario refuses (`bad_answer`) is raised, or, with `on_invalid`, shown through it and asked again.
    """
    data = copy.deepcopy(start)
    unknown = list(unknown or [])
    asked: list[AskedQuestion] = []
    while True:
        scenario = load_scenario(data)
        index = field_index(scenario, unknown)
        step = _step(engine, scenario, index, goal)
        if on_step is not None:
            on_step(step)
        if step.decided:
            return Interview(questions=asked, report=step.report, scenario=data, unknown=list(step.unknown), goal=goal)
        question = step.questions[0]
        field = index.fields[question.field]
        while True:
            value = answer(question, step)
            try:
                if value is not None:
                    check_answer(data, field, value)
                break
            except NeaPolicyError as error:
                if on_invalid is None:
                    raise
                on_invalid(error)
        apply_answer(data, unknown, field, value)
        asked.append(AskedQuestion(field=question.field, reason=question.reason, answer=value))


__all__ = [
    "Answerer",
    "AskedQuestion",
    "Conclusion",
    "Interview",
    "InterviewRequest",
    "InterviewStep",
    "Question",
    "Through",
    "Waiting",
    "answers_from",
    "apply_answer",
    "check_answer",
    "facts_stated",
    "merge_structure",
    "next_step",
    "record_answer",
    "run_interview",
    "scenario_data",
    "structure_of",
]
