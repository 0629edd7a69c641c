"""What would change it: the smallest sets of fact changes that make a rule fire (or stop firing), each verified.

The search works on the matcher's per-condition outcomes: for each condition that stands in the way, the values
of the facts it reads that would satisfy it (or, to stop a conclusion, break it); for a finding that is needed,
the changes that would make that finding hold, recursively. Change sets are combined, ordered by
(facts changed, changes, ordinal distance, text) and each is verified by evaluating the changed scenario with the
engine; only verified sets are returned. The search is bounded (candidates, change sets verified, seconds) and
deterministic as long as the time limit is not what stops it (the result says which bound stopped it). The clock
(`deadline.Deadline`) is asked inside every loop (enumerating candidates, proposing, verifying), and a verification
is not started when the time left is less than the slowest evaluation so far, so the bound holds.
"""

from __future__ import annotations

import itertools
import re
import shlex
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nea_policy.analysis.deadline import Deadline
from nea_policy.analysis.matcher import (
    FAILED,
    HELD,
    Candidate,
    ConditionResult,
    candidates,
    evaluate_condition,
)
from nea_policy.engine.admission import engine_limits
from nea_policy.errors import NeaPolicyError
from nea_policy.language.conditions import Comparison, Condition
from nea_policy.language.rules import Absence, Rule
from nea_policy.model.fact_types import FACT_TYPES, FINDING, encode_scenario
from nea_policy.model.facts import LEVEL_ORDER, Scenario, pair_key
from nea_policy.model.limits import DEFAULT_LIMITS, SizeLimits
from nea_policy.model.report import Report

if TYPE_CHECKING:
    from nea_policy.engine.engine import Engine

COLLECTION_OF: dict[str, str] = {"country": "countries", "region": "regions", "relation": "relations", "agreement": "agreements", "flow": "flows"}
# Fields that name what a fact is or which facts it links: changing them re-wires the scenario rather than
# describing it differently, so they are never proposed (destination_region and rising_power are).
_FIXED = {"key", "code", "id", "name", "origin", "destination", "between", "country", "pair", "a", "b"}
_PER_CONDITION = 3
_PER_LEVEL = 12


class Limits(BaseModel):
    """Bounds of the search: candidates per conclusion, change sets verified, results wanted, seconds, depth."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    candidates: int = Field(8, ge=1, description="candidate bindings tried per conclusion (closest first)")
    verify: int = Field(60, ge=1, description="change sets evaluated with the engine at most")
    results: int = Field(3, ge=1, description="verified change sets wanted")
    seconds: float = Field(10.0, gt=0, description="wall-clock bound of the whole search")
    depth: int = Field(3, ge=0, description="how deep to follow needed findings")


class FactChange(BaseModel):
    """One proposed change: a field of one fact set to a new value (as the fact file writes it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str = Field(description="what-if path, e.g. flows.ru-to-jp.legal_status")
    fact: str
    key: str
    field: str
    old: Any = None
    new: Any
    distance: int = Field(description="steps on the level scale (none..severe); 1 for any other change")
    order: int = Field(0, exclude=True, description="position of the value in its field's declared order (ties)")

    @property
    def assignment(self) -> str:
        """`path=value` as `nea-policy what-if --set` takes it."""
        return f"{self.path}={format_value(self.new)}"


class ChangeSet(BaseModel):
    """A verified set of changes and what it does: the conclusion now holds (or no longer holds) for the subject."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    subject: str | None
    effect: Literal["fires", "stops"]
    changes: list[FactChange]
    facts_changed: int
    distance: int = Field(description="sum of the changes' distances: the steps each level moves on the none..severe scale, 1 for any other change")
    command: str = Field(description="a ready `nea-policy what-if` command line")


class Counterfactuals(BaseModel):
    """The verified change sets for one conclusion, and how the bounded search went."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    target: str
    subject: str | None
    goal: Literal["fire", "stop"]
    change_sets: list[ChangeSet]
    proposed: int = Field(description="change sets the search proposed")
    verified: int = Field(description="change sets evaluated with the engine")
    stopped_by: Literal["results", "verify", "seconds", "exhausted"] = Field(description="what ended the search")
    note: str | None = None


#: What the distance of a change set counts, for every output that shows one.
DISTANCE_NOTE = "the steps each changed level moves on the none..severe scale (1 for a level the file does not give), plus 1 for each other change"


def format_value(value: Any) -> str:
    """A value as `--set` reads it back (YAML scalar or flow list)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def command_line(file: str, changes: list[FactChange]) -> str:
    """The `nea-policy what-if` command that applies the changes."""
    parts = ["nea-policy", "what-if", file]
    for change in changes:
        parts += ["--set", change.assignment]
    return " ".join(shlex.quote(p) for p in parts)


# --- the situation the search works on ------------------------------------------------------------------


@dataclass
class Situation:
    """A scenario evaluated once: its report, engine facts and the findings that hold (what explain and the search read).

    `deadline`, when set, bounds every enumeration of candidates made through the situation; candidates are
    enumerated once per conclusion, subject and structure, and facts are found by type and key in one lookup.
    """

    engine: Engine
    scenario: Scenario
    report: Report
    file: str = "FILE"
    facts: list[dict[str, Any]] = field(default_factory=list)
    findings: dict[tuple[str, str], str] = field(default_factory=dict)
    deadline: Deadline | None = None
    evaluation_seconds: float = 0.0
    _candidates: dict[tuple[str, str | None, bool], list[Candidate]] = field(default_factory=dict, repr=False)
    _index: dict[tuple[str, str], dict[str, Any]] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, engine: Engine, scenario: Scenario, file: str = "FILE", report: Report | None = None, deadline: Deadline | None = None) -> Situation:
        """Evaluate the scenario (unless its report is given) and index what the matcher needs."""
        started = time.monotonic()
        report = report if report is not None else engine.evaluate(scenario)
        seconds = time.monotonic() - started
        findings = {(f.finding, f.subject.key): f.subject.type for f in report.findings}
        return cls(engine, scenario, report, file, encode_scenario(scenario), findings, deadline, seconds)

    def producers(self, conclusion: str) -> list[Rule]:
        """The rules that conclude a finding or recommendation id."""
        return [r for r in self.engine.rules if r.concludes == conclusion]

    def holding(self, conclusion: str) -> set[str]:
        """Subjects the conclusion holds for, per the engine's report."""
        subjects = {r.subject.key for r in self.report.recommendations if r.rule == conclusion}
        return subjects | {f.subject.key for f in self.report.findings if f.finding == conclusion}

    def candidates(self, conclusion: str, subject: str | None, *, structural: bool = True) -> list[Candidate]:
        """Candidate bindings of every rule concluding it, for one subject or all, closest first (within the deadline)."""
        key = (conclusion, subject, structural)
        cached = self._candidates.get(key)
        if cached is not None:
            return cached
        found: list[Candidate] = []
        for rule in self.producers(conclusion):
            found += candidates(rule, self.facts, self.findings, structural=structural, subject=subject, deadline=self.deadline)
        ordered = sorted(found, key=lambda c: (c.distance, c.rule, c.subject or "", _binding_text(c)))
        if self.deadline is None or not self.deadline.hit:
            self._candidates[key] = ordered  # a list cut short by the clock is not kept as if it were complete
        return ordered

    def fact(self, type_name: str, key: str) -> dict[str, Any] | None:
        """The engine fact of this type and key."""
        if self._index is None:
            self._index = {(f["t"], str(f["key"])): f for f in self.facts}
        return self._index.get((type_name, key))


def _binding_text(candidate: Candidate) -> str:
    return " ".join(f"{a}={b.key}" for a, b in candidate.binding.items())


def normalize_subject(subject: str | None) -> str | None:
    """A subject as the engine keys it: a pair of country codes in alphabetical order (RU-JP -> JP-RU)."""
    if subject is not None and re.fullmatch(r"[A-Z][A-Z0-9]{1,9}-[A-Z][A-Z0-9]{1,9}", subject):
        return pair_key(*subject.split("-"))
    return subject


def resolve_target(engine: Engine, rule_id: str) -> tuple[str, str]:
    """The conclusion id a rule or conclusion id names, and its kind (finding or recommendation)."""
    for rule in engine.rules:
        if rule.concludes == rule_id:
            return rule.concludes, rule.kind
    rule = engine.ruleset.by_id(rule_id)
    return rule.concludes, rule.kind


# --- proposing changes -----------------------------------------------------------------------------------

Bundle = tuple[FactChange, ...]


def _cost(bundle: Bundle) -> tuple[int, int, int, int, str]:
    facts = {(c.fact, c.key) for c in bundle}
    return (len(facts), len(bundle), sum(c.distance for c in bundle), sum(c.order for c in bundle), " ".join(c.assignment for c in bundle))


def _merge(parts: list[Bundle]) -> Bundle | None:
    """Union of change bundles; None when two set the same field to different values."""
    chosen: dict[str, FactChange] = {}
    for part in parts:
        for change in part:
            other = chosen.get(change.path)
            if other is not None and other.new != change.new:
                return None
            chosen[change.path] = change
    return tuple(chosen[p] for p in sorted(chosen))


def _key(bundle: Bundle) -> tuple[str, ...]:
    # FactChange holds lists (conventions), so bundles are compared by their assignments, not hashed
    return tuple(sorted(c.assignment for c in bundle))


def _best(bundles: list[Bundle], limit: int) -> list[Bundle]:
    unique: dict[tuple[str, ...], Bundle] = {}
    for bundle in bundles:
        unique.setdefault(_key(bundle), tuple(sorted(bundle, key=lambda c: c.path)))
    return sorted(unique.values(), key=_cost)[:limit]


def _combine(options: list[list[Bundle]], limit: int) -> list[Bundle]:
    """Every way to pick one bundle per option list (each list sorted best first), merged, best `limit` kept."""
    if any(not o for o in options):
        return []
    merged: list[Bundle] = []
    for combination in itertools.product(*(o[:_PER_CONDITION] for o in options)):
        bundle = _merge(list(combination))
        if bundle is not None:
            merged.append(bundle)
    return _best(merged, limit)


def _domain(type_name: str, field_name: str) -> list[Any] | None:
    spec = FACT_TYPES[type_name].fields.get(field_name)
    if spec is None or spec.derived or field_name in _FIXED:
        return None
    if spec.kind == "level":
        return list(LEVEL_ORDER)
    if spec.kind == "bool":
        return [True, False]
    if spec.kind == "enum":
        return list(spec.values)
    if spec.kind == "list[enum]":
        return ["__list__"]
    return None


def _encoded(type_name: str, field_name: str, value: Any) -> Any:
    spec = FACT_TYPES[type_name].fields[field_name]
    if spec.kind == "level":
        return LEVEL_ORDER.index(value)
    return value


def _distance(type_name: str, field_name: str, old: Any, new: Any) -> int:
    spec = FACT_TYPES[type_name].fields[field_name]
    if spec.kind == "level" and old in LEVEL_ORDER and new in LEVEL_ORDER:
        return abs(LEVEL_ORDER.index(new) - LEVEL_ORDER.index(old))
    return 1


class _Search:
    """Proposes change bundles for conditions, candidates and conclusions, on one situation."""

    def __init__(self, situation: Situation, limits: Limits) -> None:
        self.s = situation
        self.limits = limits
        self.rules = {r.id: r for r in situation.engine.rules}
        # Conditions no single-field change could satisfy, per rule and subject: the reason when nothing is found.
        self.dead_ends: dict[str, None] = {}

    # values of one field that make a comparison come out as wanted
    def _field_options(self, comparison: Condition, binding: dict[str, dict[str, Any]], aliases: dict[str, str], alias: str, field_name: str, want: str) -> list[Bundle]:
        fact = binding.get(alias)
        if fact is None or fact["t"] == FINDING or fact.get("__absent__"):
            return []
        type_name = fact["t"]
        domain = _domain(type_name, field_name)
        if domain is None:
            return []
        from nea_policy.model.fact_types import decode_value

        old = decode_value(type_name, field_name, fact[field_name]) if field_name in fact else None
        values: list[Any]
        if domain == ["__list__"]:
            spec = FACT_TYPES[type_name].fields[field_name]
            current = list(old or [])
            values = [current + [v] for v in spec.values if v not in current] + [[x for x in current if x != v] for v in current]
        else:
            values = [v for v in domain if v != old]
        outcomes: list[tuple[int, Any, bool]] = []
        for position, value in enumerate(values):
            trial = dict(fact)
            trial[field_name] = _encoded(type_name, field_name, value) if domain != ["__list__"] else value
            if domain == ["__list__"]:
                trial[f"{field_name}__count"] = len(value)
            outcomes.append((position, value, evaluate_condition(comparison, {**binding, alias: trial}, aliases).outcome == want))
        found: list[tuple[int, int, Bundle]] = []
        for position, value, ok in outcomes:
            if not ok:
                continue
            if domain == ["__list__"]:
                distance = 1
            elif old is None and domain == list(LEVEL_ORDER):
                # From nothing, the level nearest the boundary of what satisfies it is the smallest claim ('moderate' for >= moderate).
                failing = [LEVEL_ORDER.index(v) for _, v, good in outcomes if not good]
                distance = 1 + (min(abs(LEVEL_ORDER.index(value) - f) for f in failing) - 1 if failing else 0)
            else:
                distance = _distance(type_name, field_name, old, value)
            change = FactChange(
                path=f"{COLLECTION_OF[type_name]}.{fact['key']}.{field_name}",
                fact=type_name,
                key=str(fact["key"]),
                field=field_name,
                old=old,
                new=value,
                distance=distance,
                order=position,
            )
            found.append((distance, position, (change,)))
        found.sort(key=lambda item: (item[0], item[1]))
        return [bundle for _, _, bundle in found[:2]]

    def _comparison_options(self, comparison: Comparison, binding: dict[str, dict[str, Any]], aliases: dict[str, str], want: str) -> list[Bundle]:
        refs = [comparison.left] + ([comparison.right] if comparison.is_join else [])
        options: list[Bundle] = []
        for ref in refs:
            if ref.alias not in binding:  # type: ignore[union-attr]
                continue
            options += self._field_options(comparison, binding, aliases, ref.alias, ref.field, want)  # type: ignore[union-attr]
        if comparison.is_join and want == HELD:
            options += self._join_options(comparison, binding)
        return _best(options, _PER_CONDITION)

    def _join_options(self, comparison: Comparison, binding: dict[str, dict[str, Any]]) -> list[Bundle]:
        """Make an equality join hold by setting a linking field (destination_region, rising_power) to the other side."""
        if comparison.op != "==":
            return []
        found: list[Bundle] = []
        right = comparison.right
        for mine, other in ((comparison.left, right), (right, comparison.left)):
            fact, source = binding.get(mine.alias), binding.get(other.alias)  # type: ignore[union-attr]
            if fact is None or source is None or fact["t"] == FINDING or other.field not in source:  # type: ignore[union-attr]
                continue
            spec = FACT_TYPES[fact["t"]].fields.get(mine.field)  # type: ignore[union-attr]
            if spec is None or spec.derived or mine.field in _FIXED or spec.kind not in ("code", "text"):  # type: ignore[union-attr]
                continue
            value = source[other.field]  # type: ignore[union-attr]
            old = fact.get(mine.field)  # type: ignore[union-attr]
            found.append((FactChange(path=f"{COLLECTION_OF[fact['t']]}.{fact['key']}.{mine.field}", fact=fact["t"], key=str(fact["key"]), field=mine.field, old=old, new=value, distance=1),))  # type: ignore[union-attr]
        return found

    def condition_options(self, condition: Condition, binding: dict[str, dict[str, Any]], aliases: dict[str, str], want: str) -> list[Bundle]:
        """Bundles that make the condition hold (want=held) or fail (want=failed) on this binding."""
        if isinstance(condition, Comparison):
            return self._comparison_options(condition, binding, aliases, want)
        if want == HELD:
            # any branch made to hold; within a branch every condition not yet holding
            bundles: list[Bundle] = []
            for branch in condition.branches:
                parts = [self.condition_options(c, binding, aliases, HELD) for c in branch if evaluate_condition(c, binding, aliases).outcome != HELD]
                bundles += _combine(parts, _PER_CONDITION) if parts else []
            return _best(bundles, _PER_CONDITION)
        # to fail: every branch that holds must get one of its conditions broken
        parts = []
        for branch in condition.branches:
            if all(evaluate_condition(c, binding, aliases).outcome == HELD for c in branch):
                breaks: list[Bundle] = []
                for c in branch:
                    breaks += self.condition_options(c, binding, aliases, FAILED)
                parts.append(_best(breaks, _PER_CONDITION))
        return _combine(parts, _PER_CONDITION)

    def _binding(self, rule: Rule, candidate: Candidate) -> dict[str, dict[str, Any]] | None:
        binding: dict[str, dict[str, Any]] = {}
        for alias, bound in candidate.binding.items():
            if bound.fact == FINDING:
                binding[alias] = {"t": FINDING, "finding": bound.finding, "subject": bound.key, **({} if bound.present else {"__absent__": True})}
                continue
            fact = self.s.fact(bound.fact, str(bound.key))
            if fact is None:
                return None
            binding[alias] = fact
        return binding

    def fire_candidate(self, candidate: Candidate, depth: int, seen: frozenset[tuple[str, str]]) -> list[Bundle]:
        """Bundles that would make this candidate binding hold."""
        rule = self.rules[candidate.rule]
        binding = self._binding(rule, candidate)
        if binding is None:
            return []
        conditions = {c.text if isinstance(c, Comparison) else str(c): c for c in rule.conditions}
        parts: list[list[Bundle]] = []
        # The matcher reports the absent: blocks last, in the rule's order.
        absences = iter(rule.absences)
        for result in candidate.results:
            absence = next(absences) if result.kind == "absent" else None
            if result.outcome == HELD:
                continue
            if result.kind == "finding":
                if result.finding is None or depth <= 0:
                    return []
                parts.append(self.fire(result.finding.finding, result.finding.subject, depth - 1, seen))
            elif absence is not None:
                parts.append(self._unblock(rule, absence, result, binding, depth, seen))
            else:
                condition = conditions.get(result.condition)
                if condition is None:
                    return []
                parts.append(self.condition_options(condition, binding, rule.aliases, HELD))
            if not parts[-1]:
                self.dead_ends[self._dead_end(rule, candidate, result)] = None
                return []
        return _combine(parts, _PER_LEVEL) if parts else []

    def _dead_end(self, rule: Rule, candidate: Candidate, result: ConditionResult) -> str:
        where = f"rule {rule.id} for {candidate.subject}: {result.condition}"
        if result.kind == "finding":
            return f"{where} (the finding cannot be made to hold within the bound)"
        if result.kind == "absent":
            return f"{where} (existing: {', '.join(result.blocking)})"
        derived = [r.ref for r in result.reads if r.fact in FACT_TYPES and (FACT_TYPES[r.fact].fields.get(r.field) is None or FACT_TYPES[r.fact].fields[r.field].derived)]
        fixed = [r.ref for r in result.reads if r.field in _FIXED]
        if derived:
            return f"{where} (reads the derived {', '.join(derived)}: change the estimates or labels in the file)"
        if fixed:
            return f"{where} (reads {', '.join(fixed)}, which links facts and is not proposed)"
        return f"{where} (no value of the fields it reads satisfies it)"

    def _unblock(
        self, rule: Rule, absence: Absence, result: ConditionResult, binding: dict[str, dict[str, Any]], depth: int, seen: frozenset[tuple[str, str]]
    ) -> list[Bundle]:
        """Make an absent: block hold again: stop the blocking findings, or change the blocking facts' fields."""
        parts: list[list[Bundle]] = []
        for key in result.blocking:
            if absence.finding:
                if depth <= 0:
                    return []
                parts.append(self.stop(absence.finding, key, depth - 1, seen))
                continue
            fact = self.s.fact(absence.fact_type, key)
            if fact is None:
                return []
            scope = {**rule.aliases, absence.alias: absence.fact_type}
            trial = {**binding, absence.alias: fact}
            breaks: list[Bundle] = []
            for condition in absence.conditions:
                breaks += self.condition_options(condition, trial, scope, FAILED)
            parts.append(_best(breaks, _PER_CONDITION))
        return _combine(parts, _PER_CONDITION)

    def fire(self, conclusion: str, subject: str | None, depth: int, seen: frozenset[tuple[str, str]] = frozenset()) -> list[Bundle]:
        """Bundles that would make the conclusion hold for the subject (any subject when None)."""
        key = (conclusion, subject or "*")
        if key in seen:
            return []
        seen = seen | {key}
        pool = self.s.candidates(conclusion, subject) or self.s.candidates(conclusion, subject, structural=False)
        bundles: list[Bundle] = []
        for candidate in pool[: self.limits.candidates]:
            if candidate.holds:
                return [()]
            if self._out_of_time():
                break
            bundles += self.fire_candidate(candidate, depth, seen)
        return _best(bundles, _PER_LEVEL)

    def _out_of_time(self) -> bool:
        return self.s.deadline is not None and self.s.deadline.expired()

    def stop(self, conclusion: str, subject: str, depth: int, seen: frozenset[tuple[str, str]] = frozenset()) -> list[Bundle]:
        """Bundles that would make the conclusion stop holding for the subject: every binding that holds broken."""
        key = (conclusion, "-" + subject)
        if key in seen:
            return []
        seen = seen | {key}
        parts: list[list[Bundle]] = []
        for candidate in self.s.candidates(conclusion, subject):
            if not candidate.holds:
                continue
            if self._out_of_time():
                return []
            rule = self.rules[candidate.rule]
            binding = self._binding(rule, candidate)
            if binding is None:
                return []
            conditions = {c.text if isinstance(c, Comparison) else str(c): c for c in rule.conditions}
            breaks: list[Bundle] = []
            for result in candidate.results:
                if result.kind == "finding" and result.finding is not None:
                    if depth > 0:
                        breaks += self.stop(result.finding.finding, result.finding.subject, depth - 1, seen)
                elif result.kind in ("test", "any"):
                    condition = conditions.get(result.condition)
                    if condition is not None:
                        breaks += self.condition_options(condition, binding, rule.aliases, FAILED)
            parts.append(_best(breaks, _PER_LEVEL))
        if not parts:
            return [()]
        return _combine(parts, _PER_LEVEL)


# --- verifying --------------------------------------------------------------------------------------------


def apply_changes(scenario: Scenario, changes: list[FactChange] | tuple[FactChange, ...], limits: SizeLimits = DEFAULT_LIMITS) -> Scenario:
    """The scenario with the changes applied through the what-if path syntax (validated like a fact file)."""
    from nea_policy.model.facts import load_scenario
    from nea_policy.model.paths import apply_assignments, parse_assignment

    data = scenario.model_dump(mode="json", exclude_none=True)
    return load_scenario(apply_assignments(data, [parse_assignment(c.assignment) for c in changes]), limits=limits)


def _holds_after(situation: Situation, bundle: Bundle, conclusion: str, subject: str | None) -> bool | None:
    try:
        report = situation.engine.evaluate(apply_changes(situation.scenario, bundle, engine_limits(situation.engine)))
    except NeaPolicyError:
        return None  # the change makes an invalid scenario (e.g. a region outside the destination): not a proposal
    subjects = {r.subject.key for r in report.recommendations if r.rule == conclusion} | {f.subject.key for f in report.findings if f.finding == conclusion}
    return (subject in subjects) if subject is not None else bool(subjects)


def search(situation: Situation, conclusion: str, subject: str | None, goal: Literal["fire", "stop"], limits: Limits | None = None) -> Counterfactuals:
    """Verified change sets that make the conclusion fire (goal fire) or stop (goal stop) for the subject."""
    limits = limits or Limits()
    subject = normalize_subject(subject)
    if situation.deadline is None:
        situation.deadline = Deadline(limits.seconds)
    deadline = situation.deadline
    finder = _Search(situation, limits)
    holding = situation.holding(conclusion)
    proposals: list[tuple[str | None, Bundle]] = []
    if goal == "fire":
        if subject is not None:
            targets: list[str | None] = [subject]
        else:
            pool = situation.candidates(conclusion, None) or situation.candidates(conclusion, None, structural=False)
            targets = list(dict.fromkeys(c.subject for c in pool[: limits.candidates] if c.subject not in holding))
        for target in targets:
            if deadline.expired():
                break
            proposals += [(target, b) for b in finder.fire(conclusion, target, limits.depth) if b]
    else:
        for target in sorted(holding if subject is None else holding & {subject}):
            if deadline.expired():
                break
            proposals += [(target, b) for b in finder.stop(conclusion, target, limits.depth) if b]
    unique: dict[tuple[str | None, tuple[str, ...]], tuple[str | None, Bundle]] = {}
    for target, bundle in proposals:
        unique.setdefault((target, _key(bundle)), (target, bundle))
    ordered = sorted(unique.values(), key=lambda p: (_cost(p[1]), p[0] or ""))
    found: list[ChangeSet] = []
    verified = 0
    stopped: Literal["results", "verify", "seconds", "exhausted"] = "seconds" if deadline.hit else "exhausted"
    kept: list[tuple[str | None, set[str]]] = []
    # A verification is one evaluation: one is not started without the time the slowest took so far.
    slowest = situation.evaluation_seconds
    for target, bundle in ordered:
        assignments = {c.assignment for c in bundle}
        if any(t == target and prior <= assignments for t, prior in kept):
            continue  # a superset of a verified set is not a smallest change
        if len(found) >= limits.results:
            stopped = "results"
            break
        if verified >= limits.verify:
            stopped = "verify"
            break
        if deadline.expired() or deadline.left() < slowest:
            stopped = "seconds"
            break
        verified += 1
        started = time.monotonic()
        outcome = _holds_after(situation, bundle, conclusion, target)
        slowest = max(slowest, time.monotonic() - started)
        if outcome is None or outcome != (goal == "fire"):
            continue
        kept.append((target, assignments))
        changes = list(bundle)
        found.append(
            ChangeSet(
                subject=target,
                effect="fires" if goal == "fire" else "stops",
                changes=changes,
                facts_changed=len({(c.fact, c.key) for c in changes}),
                distance=sum(c.distance for c in changes),
                command=command_line(situation.file, changes),
            )
        )
    note = None
    if not found:
        if deadline.hit and verified == 0:
            note = f"the time bound ({deadline.seconds:g} s) ended the search before a change set could be verified"
        elif not proposals:
            note = _why_none(situation, conclusion, subject, goal, list(finder.dead_ends))
        else:
            note = f"none of the {verified} proposed change sets tried made it {'fire' if goal == 'fire' else 'stop'} (bound: {stopped})"
    return Counterfactuals(target=conclusion, subject=subject, goal=goal, change_sets=found, proposed=len(ordered), verified=verified, stopped_by=stopped, note=note)


def _why_none(situation: Situation, conclusion: str, subject: str | None, goal: str, dead_ends: list[str]) -> str:
    if goal == "stop":
        return "nothing a --set of one field can change holds it up (only linking fields or derived values such as size estimates support it)"
    pool = situation.candidates(conclusion, subject) or situation.candidates(conclusion, subject, structural=False)
    if not pool:
        types = sorted({t for r in situation.producers(conclusion) for a, t in r.aliases.items() if a not in r.finding_aliases})
        return f"the scenario has no {' / '.join(types)} facts this rule could concern" + (f" with the subject {subject!r}" if subject else "")
    if dead_ends:
        return "no change set within the bound; what stands in the way: " + "; ".join(dead_ends[:6])
    return "no change set within the bound (candidates, depth) of the search"


__all__ = ["ChangeSet", "Counterfactuals", "FactChange", "Limits", "Situation", "apply_changes", "command_line", "format_value", "normalize_subject", "resolve_target", "search"]
