"""Which outcomes a partial scenario already decides, and which open fact fields each undecided one waits on.

Every condition of every candidate binding of a rule is *held*, *failed* or *open* (three-valued): open when it
reads a field still to be asked, whatever its operator (an `is not set` holds today and fails once answered);
settled otherwise, with the matcher's outcome (a field answered "don't know" stays unset: a test on it fails, as in
the engine). `any:` groups and conjunctions combine as in Kleene's logic. Bindings follow the joins of the structure
only (`host.code == flow.destination`); a join on a fact field (`relation.rising_power == flow.origin`) is a
condition like any other.

Findings are decided stratum by stratum (the compiled strata of negation): a lower bound (what holds whatever the
open fields turn out to be) and an upper bound (what could still hold), each a fixpoint within its stratum; a
finding is held when in the lower bound, failed when outside the upper one, open in between. A needed finding that
is open makes its candidate wait on the fields its own open candidates wait on (the chain is followed); an
`absent:` block is open while something that would block it could still appear (a finding that could still hold,
a fact whose fields are open, an agreement not asked about yet).

Sound by construction: a held or failed outcome reads only settled fields, so no answer to the open fields changes
it; an open one may turn out either way or may be settled already by correlations the analysis does not see (two
open conditions on the same field that cannot both hold), which costs a question, never a wrong stop.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from nea_policy.analysis.answerable import ENGINE_STRUCTURE, FieldIndex
from nea_policy.analysis.matcher import HELD, ConditionResult, evaluate_condition, finding_fact, joined_bindings
from nea_policy.language.conditions import Comparison, Condition, FieldRef
from nea_policy.language.rules import Absence, Rule
from nea_policy.model.fact_types import FINDING, encode_scenario

if TYPE_CHECKING:
    from nea_policy.engine.engine import Engine
    from nea_policy.model.facts import Scenario

Status = Literal["held", "open", "failed"]
H: Status = "held"
O: Status = "open"
F: Status = "failed"
FindingKey = tuple[str, str]


def all3(statuses: Iterable[Status]) -> Status:
    """Kleene conjunction: failed if any failed, else open if any open, else held."""
    seen = set(statuses)
    return F if F in seen else O if O in seen else H


def any3(statuses: Iterable[Status]) -> Status:
    """Kleene disjunction: held if any held, else open if any open, else failed."""
    seen = set(statuses)
    return H if H in seen else O if O in seen else F


def not3(status: Status) -> Status:
    """Kleene negation."""
    return F if status == H else H if status == F else O


@dataclass(frozen=True)
class Step:
    """One link of the chain from a rule down to the field it waits on: a finding it needs (or needs absent)."""

    finding: str
    subject: str
    negated: bool = False


@dataclass(frozen=True)
class Leaf:
    """A condition's three-valued outcome on one binding, the open fields it reads, and the condition itself."""

    condition: Condition
    status: Status
    fields: frozenset[str]


@dataclass(frozen=True)
class Blocker:
    """Something that would block an `absent:` block: whether it exists (or which finding it is), and whether it matches."""

    exists: Status
    finding: FindingKey | None
    field: str | None
    match: Status
    match_fields: frozenset[str]


@dataclass
class Candidate:
    """One binding of a rule to facts of the structure, with the parts of its outcome that do not depend on findings."""

    rule: Rule
    subject: str | None
    subject_type: str | None
    binding: dict[str, dict[str, Any]]
    leaves: list[Leaf]
    needs: list[FindingKey | None]
    absences: list[list[Blocker]]
    actor_fields: frozenset[str]
    static: Status = H
    status: Status = F


@dataclass
class Relevance:
    """The outcome of every candidate and finding of a partial scenario, and what the undecided ones wait on."""

    candidates: list[Candidate]
    findings: dict[FindingKey, Status]
    index: FieldIndex
    _waits: dict[int, dict[str, tuple[Step, ...]]] = field(default_factory=dict)
    _finding_waits: dict[FindingKey, dict[str, tuple[Step, ...]]] = field(default_factory=dict)
    _producers: dict[FindingKey, list[Candidate]] = field(default_factory=dict)
    # (kind, conclusion, subject) -> whether some candidate holds it whatever the open fields are
    _settled: dict[tuple[str, str, str | None], bool] | None = None

    def producers(self, finding: str, subject: str) -> list[Candidate]:
        """The candidates of the rules concluding a finding, for one subject."""
        if not self._producers:
            for candidate in self.candidates:
                if candidate.rule.kind == "finding" and candidate.subject is not None:
                    self._producers.setdefault((candidate.rule.concludes, candidate.subject), []).append(candidate)
        return self._producers.get((finding, subject), [])

    def open_candidates(self) -> list[Candidate]:
        """Candidates not decided yet (outcome, or for a recommendation the governments addressed) whose conclusion no other candidate settles."""
        if self._settled is None:
            self._settled = {}
            for candidate in self.candidates:
                key = (candidate.rule.kind, candidate.rule.concludes, candidate.subject)
                self._settled[key] = self._settled.get(key, False) or (candidate.status == H and self.decided(candidate))
        return [c for c in self.candidates if not self.decided(c) and not self._settled[(c.rule.kind, c.rule.concludes, c.subject)]]

    def decided(self, candidate: Candidate) -> bool:
        """Whether no open field can change the candidate: it holds (with its actors settled) or it failed."""
        if candidate.status == F:
            return True
        return candidate.status == H and not candidate.actor_fields

    def waits(self, candidate: Candidate) -> dict[str, tuple[Step, ...]]:
        """Open field -> the shortest chain of findings through which the candidate waits on it (empty when decided)."""
        found = self._waits.get(id(candidate))
        if found is None:
            found = self._waits[id(candidate)] = self._compute_waits(candidate, frozenset())
        return found

    def finding_waits(self, key: FindingKey, seen: frozenset[FindingKey] = frozenset()) -> dict[str, tuple[Step, ...]]:
        """Open field -> chain, for a finding about a subject that is open: the union over its open candidates."""
        if key in self._finding_waits:
            return self._finding_waits[key]
        found: dict[str, tuple[Step, ...]] = {}
        if self.findings.get(key, F) == O and key not in seen:
            for candidate in self.producers(*key):
                if candidate.status == O:
                    _merge(found, self._compute_waits(candidate, seen | {key}), ())
            if not seen:
                self._finding_waits[key] = found
        return found

    def _compute_waits(self, candidate: Candidate, seen: frozenset[FindingKey]) -> dict[str, tuple[Step, ...]]:
        found: dict[str, tuple[Step, ...]] = {}
        if candidate.status == F:
            return found
        if candidate.status == O:
            for leaf in candidate.leaves:
                if leaf.status == O:
                    _merge(found, {f: () for f in leaf.fields}, ())
            for need in candidate.needs:
                if need is not None and self.findings.get(need, F) == O:
                    _merge(found, self.finding_waits(need, seen), (Step(need[0], need[1]),))
            for blockers in candidate.absences:
                for blocker in blockers:
                    exists = self._exists(blocker)
                    if all3([exists, blocker.match]) != O:
                        continue
                    if blocker.match == O:
                        _merge(found, {f: () for f in blocker.match_fields}, ())
                    if exists == O and blocker.field is not None:
                        _merge(found, {blocker.field: ()}, ())
                    if exists == O and blocker.finding is not None:
                        _merge(found, self.finding_waits(blocker.finding, seen), (Step(blocker.finding[0], blocker.finding[1], negated=True),))
        _merge(found, {f: () for f in candidate.actor_fields}, ())
        return found

    def _exists(self, blocker: Blocker) -> Status:
        return self.findings.get(blocker.finding, F) if blocker.finding is not None else blocker.exists


def _merge(into: dict[str, tuple[Step, ...]], waits: dict[str, tuple[Step, ...]], prefix: tuple[Step, ...]) -> None:
    for path, chain in waits.items():
        full = prefix + chain
        if path not in into or len(full) < len(into[path]):
            into[path] = full


# --- building candidates --------------------------------------------------------------------------------


def _is_structure(aliases: dict[str, str], ref: FieldRef) -> bool:
    return ref.field in ENGINE_STRUCTURE.get(aliases.get(ref.alias, ""), frozenset())


def _structure_joins(rule: Rule) -> list[Comparison]:
    return [
        c
        for c in rule.conditions
        if isinstance(c, Comparison) and isinstance(c.right, FieldRef) and c.op == "==" and _is_structure(rule.aliases, c.left) and _is_structure(rule.aliases, c.right)
    ]


class _Builder:
    """Enumerates each rule's candidates over the encoded partial scenario and evaluates what does not depend on findings."""

    def __init__(self, scenario: Scenario, index: FieldIndex) -> None:
        self.index = index
        self.facts = encode_scenario(scenario)
        self.by_type: dict[str, list[dict[str, Any]]] = {}
        for fact in self.facts:
            self.by_type.setdefault(fact["t"], []).append(fact)
        self.types_of_key: dict[str, str] = {str(f["key"]): f["t"] for f in self.facts}
        # Agreements that could still be stated: one fact per open question, blocking only "possibly".
        self.potential_agreements: list[tuple[str, dict[str, Any]]] = []
        for question in index.agreement_fields():
            if question.state == "open":
                fact = {"id": f"potential:{question.path}", "t": "agreement", "key": f"?{question.path}", "pair": question.key, "kind": question.field}
                self.potential_agreements.append((question.path, fact))

    def candidates(self, rule: Rule) -> list[Candidate]:
        found = []
        for binding, needs in self._bindings(rule):
            found.append(self._candidate(rule, binding, needs))
        return found

    # bindings: base aliases joined through the structure, finding aliases bound to the finding about their subject
    def _bindings(self, rule: Rule) -> Iterable[tuple[dict[str, dict[str, Any]], dict[str, FindingKey | None]]]:
        for bound in joined_bindings(rule, self.by_type, _structure_joins(rule)):
            yield from self._bind_findings(rule, bound)

    def _bind_findings(self, rule: Rule, bound: dict[str, dict[str, Any]]) -> Iterable[tuple[dict[str, dict[str, Any]], dict[str, FindingKey | None]]]:
        options: dict[str, list[tuple[dict[str, Any], FindingKey | None]]] = {}
        for alias, finding in rule.finding_aliases.items():
            target = _defining_join(rule, alias)
            other = None if target is None else (target.right if target.left.alias == alias else target.left)
            assert other is None or isinstance(other, FieldRef)
            if other is not None and other.alias in bound:
                source = bound[other.alias]
                value = source.get(other.field)
                subject_type = source.get("subject_type", "") if source["t"] == FINDING else source["t"]
                if value is None:
                    options[alias] = [({**finding_fact(finding, "", str(subject_type)), "subject": None}, None)]
                else:
                    options[alias] = [(finding_fact(finding, str(value), str(subject_type)), (finding, str(value)))]
            else:
                # Joined only through an any: group or another finding: every subject is a candidate.
                options[alias] = [(finding_fact(finding, key, type_), (finding, key)) for key, type_ in self.types_of_key.items()]
        names = list(options)
        for combination in itertools.product(*(options[n] for n in names)):
            binding = {**bound, **{n: fact for n, (fact, _) in zip(names, combination)}}
            yield binding, {n: key for n, (_, key) in zip(names, combination)}

    def _candidate(self, rule: Rule, binding: dict[str, dict[str, Any]], needs: dict[str, FindingKey | None]) -> Candidate:
        defining = {id(_defining_join(rule, alias)): alias for alias in rule.finding_aliases if _defining_join(rule, alias) is not None}
        leaves: list[Leaf] = []
        for condition in rule.conditions:
            if id(condition) in defining:
                continue
            leaves.append(self.leaf(condition, binding, rule.aliases))
        absences = [self._blockers(rule, absence, binding) for absence in rule.absences]
        subject_fact = binding.get(rule.subject)
        subject = subject_type = None
        if subject_fact is not None:
            if subject_fact["t"] == FINDING:
                subject, subject_type = subject_fact.get("subject"), subject_fact.get("subject_type") or None
            else:
                subject, subject_type = str(subject_fact["key"]), subject_fact["t"]
        actor_fields = frozenset(
            path for actor in rule.actors if (path := self._path(binding.get(actor.alias), actor.field)) is not None and self.index.is_open(path)
        )
        candidate = Candidate(rule, subject, subject_type, binding, leaves, list(needs.values()), absences, actor_fields)
        candidate.static = all3(leaf.status for leaf in leaves)
        return candidate

    def _path(self, fact: dict[str, Any] | None, name: str) -> str | None:
        if fact is None or fact["t"] == FINDING:
            return None
        return self.index.path_of(fact["t"], str(fact["key"]), name)

    def leaf(self, condition: Condition, binding: dict[str, dict[str, Any]], aliases: dict[str, str]) -> Leaf:
        """A condition's three-valued outcome on a binding."""
        result = evaluate_condition(condition, binding, aliases)
        status, fields = self._status(result)
        return Leaf(condition, status, fields)

    def _status(self, result: ConditionResult) -> tuple[Status, frozenset[str]]:
        if result.kind == "any":
            branches = []
            for branch in result.branches:
                parts = [self._status(r) for r in branch]
                status = all3(s for s, _ in parts)
                branches.append((status, frozenset().union(*(f for s, f in parts if s == O)) if status == O else frozenset()))
            status = any3(s for s, _ in branches)
            return status, frozenset().union(*(f for s, f in branches if s == O)) if status == O else frozenset()
        open_fields = frozenset(p for read in result.reads if (p := self.index.path_of(read.fact, read.key, read.field)) is not None and self.index.is_open(p))
        if open_fields:
            return O, open_fields
        return (H if result.outcome == HELD else F), frozenset()

    def _blockers(self, rule: Rule, absence: Absence, binding: dict[str, dict[str, Any]]) -> list[Blocker]:
        scope = {**rule.aliases, absence.alias: absence.fact_type}
        pool: list[tuple[Status, FindingKey | None, str | None, dict[str, Any]]] = []
        if absence.finding is not None:
            for key, type_ in self.types_of_key.items():
                pool.append((O, (absence.finding, key), None, finding_fact(absence.finding, key, type_)))
        else:
            pool.extend((H, None, None, fact) for fact in self.by_type.get(absence.fact_type, []))
            if absence.fact_type == "agreement":
                pool.extend((O, None, path, fact) for path, fact in self.potential_agreements)
        wanted = _pinned(absence, scope, binding)
        blockers = []
        for exists, finding, path, fact in pool:
            if any(fact.get(name) != value for name, value in wanted):
                continue
            trial = {**binding, absence.alias: fact}
            parts = []
            for condition in absence.conditions:
                parts.append(self._status(evaluate_condition(condition, trial, scope)))
                if parts[-1][0] == F:
                    # Most of the pool is another pair or kind: the first failed condition settles it.
                    break
            match = all3(s for s, _ in parts)
            if match == F:
                continue
            fields = frozenset().union(*(f for s, f in parts if s == O)) if match == O else frozenset()
            blockers.append(Blocker(exists, finding, path, match, fields))
        return blockers


def _pinned(absence: Absence, scope: dict[str, str], binding: dict[str, dict[str, Any]]) -> list[tuple[str, Any]]:
    """Structure fields of the absent fact that a top-level equality fixes (`agreement.pair == relation.key`, `agreement.kind == X`).

    A fact of the pool with another value fails that condition whatever the open fields are, so it is skipped unevaluated.
    """
    pinned = []
    for condition in absence.conditions:
        if not (isinstance(condition, Comparison) and condition.op == "==" and _is_structure(scope, condition.left)):
            continue
        mine, other = condition.left, condition.right
        if isinstance(other, FieldRef) and other.alias == absence.alias:
            mine, other = other, mine
        if mine.alias != absence.alias:
            continue
        if isinstance(other, FieldRef):
            if _is_structure(scope, other) and other.alias in binding and other.field in binding[other.alias]:
                pinned.append((mine.field, binding[other.alias][other.field]))
        elif isinstance(other, (str, int)) and not isinstance(other, bool) and mine.field in ("pair", "kind", "key", "finding", "subject"):
            pinned.append((mine.field, other))
    return pinned


def _defining_join(rule: Rule, alias: str) -> Comparison | None:
    """The first top-level equality join on a finding alias's subject: it says which finding the rule needs."""
    for condition in rule.conditions:
        if isinstance(condition, Comparison) and isinstance(condition.right, FieldRef) and condition.op == "==":
            for mine, other in ((condition.left, condition.right), (condition.right, condition.left)):
                if mine.alias == alias and mine.field == "subject" and other.alias not in rule.finding_aliases:
                    return condition
    return None


# --- deciding findings stratum by stratum --------------------------------------------------------------


def _status(candidate: Candidate, findings: dict[FindingKey, Status]) -> Status:
    if candidate.static == F:
        return F
    parts = [candidate.static]
    for need in candidate.needs:
        parts.append(F if need is None else findings.get(need, F))
    for blockers in candidate.absences:
        blocking = any3(all3([findings.get(b.finding, F) if b.finding is not None else b.exists, b.match]) for b in blockers)
        parts.append(not3(blocking))
    return all3(parts)


def relevance(engine: Engine, scenario: Scenario, index: FieldIndex) -> Relevance:
    """Decide every candidate of every rule of the engine on the partial scenario, as far as its settled fields allow."""
    builder = _Builder(scenario, index)
    strata: dict[str, int] = {}
    for compiled in engine.compiled.rules:
        strata[compiled.rule.id] = compiled.stratum
    by_rule = {rule.id: builder.candidates(rule) for rule in engine.rules}
    lower: set[FindingKey] = set()
    upper: set[FindingKey] = set()
    for stratum in sorted(set(strata.values())):
        producing = [c for rule in engine.rules if rule.kind == "finding" and strata[rule.id] == stratum for c in by_rule[rule.id]]
        # Lower bound: only what holds for sure counts; upper bound: what is not failed for sure.
        for target, accepts in ((lower, {H}), (upper, {H, O})):
            changed = True
            while changed:
                changed = False
                view = _view(lower, upper)
                for candidate in producing:
                    key = (candidate.rule.concludes, candidate.subject)
                    if candidate.subject is None or key in target:
                        continue
                    if _status(candidate, view) in accepts:
                        target.add(key)  # type: ignore[arg-type]
                        changed = True
    findings = _view(lower, upper)
    candidates = [c for rule in engine.rules for c in by_rule[rule.id]]
    for candidate in candidates:
        candidate.status = _status(candidate, findings)
    return Relevance(candidates, findings, index)


def _view(lower: set[FindingKey], upper: set[FindingKey]) -> dict[FindingKey, Status]:
    view: dict[FindingKey, Status] = {key: O for key in upper}
    view.update({key: H for key in lower})
    return view


__all__ = ["Blocker", "Candidate", "Leaf", "Relevance", "Status", "Step", "all3", "any3", "not3", "relevance"]
