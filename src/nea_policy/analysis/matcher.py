"""Evaluate a rule's parsed conditions in Python, per candidate binding: which conditions hold, fail, or lack a fact.

This mirrors what the durable_rules network decides (a test checks that the two agree over the examples and
their variations), but keeps what Rete throws away: for every combination of facts a rule could concern, the
outcome of each condition with the actual value against what the condition asks.

Use:

    from nea_policy.analysis.matcher import candidates
    for cand in candidates(rule, encode_scenario(scenario), findings):   # findings: {(finding_id, subject_key)}
        cand.holds, cand.subject, [(r.condition, r.outcome, r.actual, r.expected) for r in cand.results]

Semantics that follow durable_rules (verified against it):
- a test on a field the fact does not have never matches, whatever the operator (`!=` and `not in` too):
  its outcome is "missing", not "failed"; only `is not set` holds on a missing field;
- levels are compared by rank (none < low < moderate < high < severe);
- `not contains` holds on an empty list;
- an `absent:` block holds when no fact (or finding) satisfies its conditions for this binding.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nea_policy.analysis.deadline import Deadline
from nea_policy.language.conditions import AnyOf, Comparison, Condition, FieldRef
from nea_policy.language.rule_docs import Wording, absence_words, condition_words
from nea_policy.language.rules import Absence, Rule
from nea_policy.model.display import NOT_SET
from nea_policy.model.fact_types import FACT_TYPES, FINDING, count_field, decode_value
from nea_policy.model.facts import LEVEL_ORDER

Outcome = Literal["held", "failed", "missing"]
HELD: Outcome = "held"
FAILED: Outcome = "failed"
MISSING: Outcome = "missing"

#: Bound on the bindings one call enumerates (the cartesian product of a rule's facts can grow fast).
DEFAULT_LIMIT = 20_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadField(_Model):
    """One field a condition read: which fact, which field, its value as the fact file says it, and whether it is set."""

    alias: str
    fact: str = Field(description="fact type: flow, country, region, relation, agreement or finding")
    key: str = Field(description="the fact's key (a finding's subject for a finding)")
    field: str
    value: Any = None
    present: bool

    @property
    def ref(self) -> str:
        """`alias.field` as the rule writes it."""
        return f"{self.alias}.{self.field}"


class FindingKey(_Model):
    """A finding about a subject: the unit a rule's `finding:` fact and the why-not recursion work on."""

    finding: str
    subject: str
    subject_type: str


class ConditionResult(_Model):
    """The outcome of one condition of a rule for one binding, with the actual values and what it asks."""

    condition: str = Field(description="the condition as written in the rule")
    words: str = Field("", description="the condition in words: \"the flow's fear of exposure is at least high\"")
    sentence: str = Field("", description="the condition in words with its outcome: \"..., but it is not set\"")
    kind: Literal["test", "join", "any", "finding", "absent"]
    outcome: Outcome
    actual: dict[str, Any] = Field(default_factory=dict, description="alias.field -> the value (None when missing)")
    expected: str = Field(description="what the condition asks, e.g. '>= moderate' or '== host.code (JP)'")
    reads: list[ReadField] = Field(default_factory=list)
    finding: FindingKey | None = Field(None, description="for kind 'finding': the finding the rule needs")
    blocking: list[str] = Field(default_factory=list, description="for kind 'absent': keys of the facts that exist and should not")
    branches: list[list[ConditionResult]] = Field(default_factory=list, description="for kind 'any': each branch's results")


class BoundFact(_Model):
    """What an alias of the rule stands for in one candidate binding."""

    alias: str
    fact: str
    key: str | None = Field(description="the fact's key; a finding's subject; None when it could not be determined")
    finding: str | None = None
    present: bool = True


class Candidate(_Model):
    """One combination of facts a rule could concern, and the outcome of each of its conditions on it."""

    rule: str
    subject: str | None = Field(description="key of the rule's subject fact (what a finding/recommendation is about)")
    subject_type: str | None = None
    binding: dict[str, BoundFact]
    results: list[ConditionResult]

    @property
    def holds(self) -> bool:
        """Whether every condition holds: the rule fires for this binding."""
        return all(r.outcome == HELD for r in self.results)

    @property
    def failed(self) -> int:
        """How many conditions failed (a value is set but is not what the rule asks)."""
        return sum(r.outcome == FAILED for r in self.results)

    @property
    def missing(self) -> int:
        """How many conditions could not be decided because a fact or field is missing."""
        return sum(r.outcome == MISSING for r in self.results)

    @property
    def distance(self) -> tuple[int, int]:
        """Sort key, closest first: fewest failed conditions, then fewest missing ones."""
        return (self.failed, self.missing)


ConditionResult.model_rebuild()

FindingSet = Iterable[tuple[str, str]]


def finding_fact(finding: str, subject: str, subject_type: str = "") -> dict[str, Any]:
    """The engine fact a finding becomes (what `finding:` aliases of rules match)."""
    return {"id": f"finding:{finding}:{subject}", "t": FINDING, "finding": finding, "subject": subject, "subject_type": subject_type}


def candidates(
    rule: Rule,
    facts: list[dict[str, Any]],
    findings: FindingSet | dict[tuple[str, str], str],
    *,
    structural: bool = True,
    limit: int = DEFAULT_LIMIT,
    subject: str | None = None,
    deadline: Deadline | None = None,
) -> list[Candidate]:
    """Every candidate binding of the rule over the encoded facts and the findings that hold, each evaluated.

    `facts` are engine facts (`fact_types.encode_scenario`); `findings` the (finding id, subject key) pairs that
    hold (a dict may map them to their subject type). With `structural` (the default), only bindings whose
    equality joins between facts hold are candidates (each flow with its own origin and host...); otherwise every
    combination, up to `limit`, so that a binding held apart by a missing or different join field shows up too.
    `subject` keeps only the bindings about that subject (enumerating only those when the subject is a fact);
    once `deadline` has passed, the candidates found so far are returned (and `deadline.hit` says so).
    """
    held = {(f, s): "" for f, s in findings} if not isinstance(findings, dict) else dict(findings)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for fact in facts:
        by_type.setdefault(fact["t"], []).append(fact)
    for (finding, about), subject_type in held.items():
        by_type.setdefault(FINDING, []).append(finding_fact(finding, about, subject_type))
    only: dict[str, list[dict[str, Any]]] = {}
    if subject is not None and rule.subject not in rule.finding_aliases:
        only[rule.subject] = [f for f in by_type.get(rule.aliases[rule.subject], []) if str(f.get("key")) == subject]
    found: list[Candidate] = []
    for binding in _bindings(rule, by_type, held, structural, limit, only, deadline):
        if deadline is not None and deadline.expired():
            break
        candidate = _evaluate(rule, binding, by_type)
        if subject is None or candidate.subject == subject:
            found.append(candidate)
    return found


def holding_subjects(rule: Rule, facts: list[dict[str, Any]], findings: FindingSet | dict[tuple[str, str], str]) -> set[str]:
    """Keys of the subjects for which the rule holds (fires) on these facts."""
    return {c.subject for c in candidates(rule, facts, findings) if c.holds and c.subject is not None}


# --- enumerating bindings ------------------------------------------------------------------------------


def _top_joins(rule: Rule) -> list[Comparison]:
    return [c for c in rule.conditions if isinstance(c, Comparison) and c.is_join and c.op == "=="]


def _bindings(
    rule: Rule,
    by_type: dict[str, list[dict[str, Any]]],
    held: dict[tuple[str, str], str],
    structural: bool,
    limit: int,
    only: dict[str, list[dict[str, Any]]] | None = None,
    deadline: Deadline | None = None,
) -> Iterable[dict[str, dict[str, Any]]]:
    count = 0
    for bound in joined_bindings(rule, by_type, _top_joins(rule) if structural else [], only=only, deadline=deadline):
        for full in _bind_findings(rule, bound, by_type, held):
            count += 1
            if count > limit:
                return
            yield full


def joined_bindings(
    rule: Rule,
    by_type: dict[str, list[dict[str, Any]]],
    joins: list[Comparison],
    *,
    only: dict[str, list[dict[str, Any]]] | None = None,
    deadline: Deadline | None = None,
) -> Iterable[dict[str, dict[str, Any]]]:
    """Every binding of the rule's aliases of scenario facts (not findings) to facts of their type that these equality joins allow.

    `only` restricts an alias to the facts given; once `deadline` has passed, the walk stops.
    """
    base = [a for a in rule.aliases if a not in rule.finding_aliases]
    tried = [0]
    only = only or {}

    def extend(index: int, bound: dict[str, dict[str, Any]]) -> Iterable[dict[str, dict[str, Any]]]:
        if index == len(base):
            yield bound
            return
        alias = base[index]
        tests = []
        for join in joins:
            right = join.right
            assert isinstance(right, FieldRef)
            if join.left.alias == alias and right.alias in bound:
                tests.append((join.left.field, right.alias, right.field))
            elif right.alias == alias and join.left.alias in bound:
                tests.append((right.field, join.left.alias, join.left.field))
        for fact in only[alias] if alias in only else by_type.get(rule.aliases[alias], []):
            tried[0] += 1
            # Most combinations fail a join without yielding: the clock is asked here too, every 1,024 of them.
            if deadline is not None and not tried[0] & 1023 and deadline.expired():
                return
            ok = True
            for field, other, other_field in tests:
                if field not in fact or other_field not in bound[other] or fact[field] != bound[other][other_field]:
                    ok = False
                    break
            if ok:
                yield from extend(index + 1, {**bound, alias: fact})

    return extend(0, {})


def _bind_findings(
    rule: Rule, bound: dict[str, dict[str, Any]], by_type: dict[str, list[dict[str, Any]]], held: dict[tuple[str, str], str]
) -> Iterable[dict[str, dict[str, Any]]]:
    """Bind each finding alias to the finding about what it is joined with: present if it holds, a placeholder if not."""
    pending = list(rule.finding_aliases)
    options: dict[str, list[dict[str, Any]]] = {}
    for _ in range(len(pending) + 1):
        for alias in list(pending):
            target = _join_target(rule, alias, bound, options)
            if target is None:
                continue
            pending.remove(alias)
            finding = rule.finding_aliases[alias]
            subject, subject_type = target
            if subject is None:
                options[alias] = [{"t": FINDING, "finding": finding, "subject_type": subject_type, "__absent__": True}]
            elif (finding, subject) in held:
                options[alias] = [finding_fact(finding, subject, held[(finding, subject)] or subject_type)]
            else:
                options[alias] = [{**finding_fact(finding, subject, subject_type), "__absent__": True}]
    for alias in pending:
        # Joined only through an any: group or another unresolved finding: every finding of that id is a candidate.
        options[alias] = [f for f in by_type.get(FINDING, []) if f["finding"] == rule.finding_aliases[alias]]
    names = list(options)
    for combination in itertools.product(*(options[n] for n in names)):
        yield {**bound, **dict(zip(names, combination))}


def _join_target(
    rule: Rule, alias: str, bound: dict[str, dict[str, Any]], options: dict[str, list[dict[str, Any]]]
) -> tuple[str | None, str] | None:
    for join in _top_joins(rule):
        right = join.right
        assert isinstance(right, FieldRef)
        for mine, other in ((join.left, right), (right, join.left)):
            if mine.alias != alias or mine.field != "subject":
                continue
            source = bound.get(other.alias)
            if source is None and other.alias in options and len(options[other.alias]) == 1:
                source = options[other.alias][0]
            if source is None:
                continue
            subject_type = source.get("subject_type", "") if source["t"] == FINDING else source["t"]
            value = source.get(other.field)
            return (None if value is None else str(value)), str(subject_type)
    return None


# --- evaluating conditions -----------------------------------------------------------------------------


def _evaluate(rule: Rule, binding: dict[str, dict[str, Any]], by_type: dict[str, list[dict[str, Any]]]) -> Candidate:
    results: list[ConditionResult] = []
    defining = {}
    for alias in rule.finding_aliases:
        for join in _top_joins(rule):
            right = join.right
            assert isinstance(right, FieldRef)
            if (join.left.alias == alias and join.left.field == "subject") or (right.alias == alias and right.field == "subject"):
                defining.setdefault(alias, join)
                break
    defining_joins = {id(j): a for a, j in defining.items()}
    finding_done: set[str] = set()
    wording = Wording.of(rule)
    for alias in rule.finding_aliases:
        if alias not in defining:
            results.append(_finding_result(rule, alias, binding, None, wording))
            finding_done.add(alias)
    for condition in rule.conditions:
        alias = defining_joins.get(id(condition))
        if alias is not None and alias not in finding_done:
            results.append(_finding_result(rule, alias, binding, condition, wording))
            finding_done.add(alias)
        else:
            results.append(evaluate_condition(condition, binding, rule.aliases, wording=wording))
    for absence in rule.absences:
        results.append(_absence_result(absence, binding, rule.aliases, by_type, rule))
    subject_fact = binding.get(rule.subject)
    subject: str | None = None
    subject_type: str | None = None
    if subject_fact is not None:
        if subject_fact["t"] == FINDING:
            subject, subject_type = subject_fact.get("subject"), subject_fact.get("subject_type") or None
        else:
            subject, subject_type = str(subject_fact["key"]), subject_fact["t"]
    bound = {alias: _bound(alias, fact) for alias, fact in binding.items()}
    return Candidate(rule=rule.id, subject=subject, subject_type=subject_type, binding=bound, results=results)


def _bound(alias: str, fact: dict[str, Any]) -> BoundFact:
    if fact["t"] == FINDING:
        return BoundFact(alias=alias, fact=FINDING, key=fact.get("subject"), finding=fact["finding"], present=not fact.get("__absent__"))
    return BoundFact(alias=alias, fact=fact["t"], key=str(fact["key"]))


def _finding_result(rule: Rule, alias: str, binding: dict[str, dict[str, Any]], join: Comparison | None, wording: Wording) -> ConditionResult:
    fact = binding[alias]
    finding = rule.finding_aliases[alias]
    subject = fact.get("subject")
    text = join.text if join is not None else f"{alias}: finding {finding}"
    about = f"{fact.get('subject_type') or 'subject'} {subject}" if subject is not None else "(what it is joined with has no value)"
    if subject is None:
        outcome: Outcome = MISSING
    else:
        outcome = FAILED if fact.get("__absent__") else HELD
    key = FindingKey(finding=finding, subject=str(subject), subject_type=str(fact.get("subject_type") or "")) if subject is not None else None
    words = condition_words(join, wording) if join is not None else f"the finding {finding} holds"
    tail = {HELD: "", FAILED: ", but it does not", MISSING: ", but what it would be about is not set"}[outcome]
    return ConditionResult(
        condition=text,
        words=words,
        sentence=words + (f" for {subject}" if subject is not None and outcome == HELD and join is None else "") + tail,
        kind="finding",
        outcome=outcome,
        actual={f"finding {finding}": "holds" if outcome == HELD else "does not hold"},
        expected=f"finding {finding} holds for {about}",
        finding=key,
    )


def _read(alias: str, fact: dict[str, Any] | None, field: str) -> ReadField:
    if fact is None:
        return ReadField(alias=alias, fact="?", key="?", field=field, value=None, present=False)
    type_name = fact["t"]
    key = str(fact.get("subject") if type_name == FINDING else fact.get("key"))
    present = field in fact and not fact.get("__absent__")
    value = decode_value(type_name, field, fact[field]) if present else None
    return ReadField(alias=alias, fact=type_name, key=key, field=field, value=value, present=present)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    return str(value)


def _encode_literal(type_name: str, field: str, value: Any) -> Any:
    spec = FACT_TYPES[type_name].fields.get(field)
    if spec is not None and spec.kind.removeprefix("list[").removesuffix("]") == "level" and value in LEVEL_ORDER:
        return LEVEL_ORDER.index(value)
    return value


def _compare(op: str, actual: Any, wanted: Any) -> bool:
    if op == "==":
        return bool(actual == wanted)
    if op == "!=":
        return bool(actual != wanted)
    try:
        if op == ">":
            return bool(actual > wanted)
        if op == ">=":
            return bool(actual >= wanted)
        if op == "<":
            return bool(actual < wanted)
        if op == "<=":
            return bool(actual <= wanted)
    except TypeError:
        # durable_rules gives no reliable answer across types; the fact model never produces this
        return False
    raise ValueError(f"unknown operator {op!r}")


def evaluate_condition(
    condition: Condition, binding: dict[str, dict[str, Any]], aliases: dict[str, str], *, wording: Wording | None = None
) -> ConditionResult:
    """Evaluate one parsed condition (a comparison or an any: group) on a binding of aliases to engine facts.

    With `wording` (the rule's, `rule_docs.Wording.of(rule)`), the result also says the condition and its outcome in words.
    """
    result = _evaluate_condition(condition, binding, aliases, wording)
    if wording is None:
        return result
    words = condition_words(condition, wording)
    return result.model_copy(update={"words": words, "sentence": outcome_sentence(result, words, wording, condition)})


def _evaluate_condition(condition: Condition, binding: dict[str, dict[str, Any]], aliases: dict[str, str], wording: Wording | None) -> ConditionResult:
    if isinstance(condition, AnyOf):
        branches = [[evaluate_condition(c, binding, aliases, wording=wording) for c in branch] for branch in condition.branches]
        outcomes = [_conjunction(b) for b in branches]
        if HELD in outcomes:
            outcome: Outcome = HELD
        elif MISSING in outcomes:
            outcome = MISSING
        else:
            outcome = FAILED
        actual: dict[str, Any] = {}
        reads: list[ReadField] = []
        for branch in branches:
            for result in branch:
                actual.update(result.actual)
                reads.extend(r for r in result.reads if r not in reads)
        return ConditionResult(
            condition=str(condition), kind="any", outcome=outcome, actual=actual, expected="at least one branch holds", reads=reads, branches=branches
        )
    return _comparison(condition, binding, aliases)


def _conjunction(results: list[ConditionResult]) -> Outcome:
    if any(r.outcome == FAILED for r in results):
        return FAILED
    if any(r.outcome == MISSING for r in results):
        return MISSING
    return HELD


def _comparison(comparison: Comparison, binding: dict[str, dict[str, Any]], aliases: dict[str, str]) -> ConditionResult:
    left = comparison.left
    fact = binding.get(left.alias)
    read = _read(left.alias, fact, left.field)
    op = comparison.op
    raw = fact.get(left.field) if fact is not None and read.present else None
    if isinstance(comparison.right, FieldRef):
        right = comparison.right
        other = binding.get(right.alias)
        read_right = _read(right.alias, other, right.field)
        actual = {read.ref: read.value, read_right.ref: read_right.value}
        expected = f"{op} {right} ({_show(read_right.value) if read_right.present else 'not set'})"
        if not (read.present and read_right.present):
            outcome: Outcome = MISSING
        else:
            outcome = HELD if _compare(op, raw, other[right.field]) else FAILED  # type: ignore[index]
        return ConditionResult(condition=comparison.text, kind="join", outcome=outcome, actual=actual, expected=expected, reads=[read, read_right])
    actual = {read.ref: read.value}
    type_name = aliases.get(left.alias, fact["t"] if fact else "flow")
    if op == "is set":
        return ConditionResult(condition=comparison.text, kind="test", outcome=HELD if read.present else FAILED, actual=actual, expected="is set", reads=[read])
    if op == "is not set":
        return ConditionResult(
            condition=comparison.text, kind="test", outcome=FAILED if read.present else HELD, actual=actual, expected="is not set", reads=[read]
        )
    expected = f"{op} {_show(comparison.right)}"
    if not read.present:
        return ConditionResult(condition=comparison.text, kind="test", outcome=MISSING, actual=actual, expected=expected, reads=[read])
    if op in ("in", "not in"):
        wanted = [_encode_literal(type_name, left.field, v) for v in comparison.right]  # type: ignore[union-attr]
        inside = any(raw == w for w in wanted)
        ok = inside if op == "in" else not inside
    elif op in ("contains", "not contains"):
        wanted_one = _encode_literal(type_name, left.field, comparison.right)
        items = raw if isinstance(raw, list) else []
        inside = any(item == wanted_one for item in items)
        if op == "contains":
            ok = inside
        else:
            count = fact.get(count_field(left.field), len(items)) if fact is not None else len(items)
            ok = count == 0 or not inside
    else:
        ok = _compare(op, raw, _encode_literal(type_name, left.field, comparison.right))
    return ConditionResult(condition=comparison.text, kind="test", outcome=HELD if ok else FAILED, actual=actual, expected=expected, reads=[read])


def _absence_result(
    absence: Absence, binding: dict[str, dict[str, Any]], aliases: dict[str, str], by_type: dict[str, list[dict[str, Any]]], rule: Rule | None = None
) -> ConditionResult:
    scope = {**aliases, absence.alias: absence.fact_type}
    blocking: list[str] = []
    pool = by_type.get(absence.fact_type, [])
    if absence.finding:
        pool = [f for f in pool if f.get("finding") == absence.finding]
    outcome: Outcome = HELD
    reads: list[ReadField] = []
    for fact in pool:
        trial = {**binding, absence.alias: fact}
        results = [evaluate_condition(c, trial, scope) for c in absence.conditions]
        if _conjunction(results) == HELD:
            blocking.append(str(fact.get("subject") if fact["t"] == FINDING else fact.get("key")))
            reads.extend(r for result in results for r in result.reads if r.alias == absence.alias)
    what = f"finding {absence.finding}" if absence.finding else absence.fact_type
    text = f"absent {what}" + (": " + " and ".join(str(c) for c in absence.conditions) if absence.conditions else "")
    if blocking:
        outcome = FAILED
    words = absence_words(absence, rule) if rule is not None else ""
    sentence = (words + (", but it does" if absence.finding else f", but there is: {', '.join(sorted(blocking))}") if blocking else words) if words else ""
    # Other aliases' fields the absence joins on: a missing one makes every absent fact unmatched, so it holds.
    return ConditionResult(
        condition=text,
        words=words,
        sentence=sentence,
        kind="absent",
        outcome=outcome,
        actual={f"existing {what}": sorted(blocking) or None},
        expected=f"no {what} matches",
        reads=reads,
        blocking=sorted(blocking),
    )


def outcome_sentence(result: ConditionResult, words: str, wording: Wording, condition: Condition) -> str:
    """A condition in words with its outcome on one binding: "the flow's legal status is unclear, but it is regular"."""
    if result.kind == "any":
        return "at least one of these holds" + {HELD: ", and one does", FAILED: ", but none does", MISSING: ", but none does (what some read is not set)"}[result.outcome]
    assert isinstance(condition, Comparison)
    reads = result.reads
    if result.kind == "join":
        left, right = reads[0], reads[1]
        if result.outcome == HELD:
            return f"{words} ({_show(left.value)})"
        if result.outcome == MISSING:
            unset = [wording.field(FieldRef(r.alias, r.field)) for r in (left, right) if not r.present]
            return f"{words}, but {' and '.join(unset)} {'is' if len(unset) == 1 else 'are'} {NOT_SET}"
        return f"{words}, but {wording.field(condition.left)} is {_show(left.value)} and {wording.field(condition.right)} is {_show(right.value)}"  # type: ignore[arg-type]
    read = reads[0]
    plural = wording.is_list(condition.left)
    value = _show(read.value) if read.present else NOT_SET
    if result.outcome == MISSING or (not read.present and result.outcome == FAILED):
        return f"{words}, but {'they are' if plural else 'it is'} {NOT_SET}"
    if result.outcome == FAILED:
        return f"{words}, but {'they are' if plural else 'it is'} {value or 'none'}"
    if condition.op in ("==", "contains", "not contains", "is not set") or not read.present:
        return words
    return f"{words} ({'they are' if plural else 'it is'} {value})"


__all__ = [
    "BoundFact",
    "Candidate",
    "ConditionResult",
    "FindingKey",
    "ReadField",
    "candidates",
    "evaluate_condition",
    "finding_fact",
    "holding_subjects",
    "joined_bindings",
    "outcome_sentence",
]
