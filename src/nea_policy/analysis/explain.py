"""Why and why not: the proof tree of a conclusion that holds, or, for one that does not, what stands in its way.

`explain` answers both halves: a recommendation or finding that holds comes with its proof tree (the Report's
own Recommendation / FindingNode, down to the facts, with the quotes) and the smallest verified changes that
would stop it; one that does not hold comes with `why_not` (per candidate binding, closest first, each
condition held / failed / missing with the actual value, recursing into needed findings that do not hold) and
the smallest verified changes that would make it fire (`counterfactuals.search`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from nea_policy.analysis.counterfactuals import (
    Counterfactuals,
    Limits,
    Situation,
    normalize_subject,
    resolve_target,
    search,
)
from nea_policy.analysis.deadline import Deadline
from nea_policy.analysis.matcher import FAILED, BoundFact, Candidate, ConditionResult
from nea_policy.model.report import FindingNode, Recommendation

if TYPE_CHECKING:
    from nea_policy.engine.engine import Engine
    from nea_policy.model.facts import Scenario

#: Candidates shown per conclusion (closest first), and per needed finding when recursing.
SHOWN = 5
SHOWN_NESTED = 2


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CandidateReport(_Model):
    """One candidate binding of a rule: the facts it binds and each condition's outcome; needed findings explained."""

    rule: str
    subject: str | None
    binding: dict[str, BoundFact]
    results: list[ConditionResult]
    holds: bool
    failed: int
    missing: int
    needed: list[WhyNot] = Field(default_factory=list, description="why each needed finding that does not hold does not")


class WhyNot(_Model):
    """Why a conclusion does not hold (for a subject, or at all): its candidate bindings, closest first."""

    target: str
    kind: Literal["finding", "recommendation"]
    subject: str | None
    holds: bool = Field(description="whether it holds after all (then the candidates show what holds)")
    candidates: list[CandidateReport]
    total_candidates: int = Field(description="candidate bindings considered (those shown are the closest)")
    structural: bool = Field(description="whether the candidates follow the rule's joins (False: no binding joins, loose ones shown)")
    complete: bool = Field(True, description="False when the search's time bound ended the enumeration of candidates (those found are shown)")
    note: str | None = None


class Explanation(_Model):
    """The answer of `explain`: a proof when the conclusion holds, a why-not otherwise, and verified change sets."""

    scenario: str
    target: str
    kind: Literal["finding", "recommendation"]
    subject: str | None
    holds: bool
    proofs: list[Recommendation | FindingNode] = Field(default_factory=list)
    why_not: WhyNot | None = None
    changes: Counterfactuals | None = None

    def to_json(self) -> str:
        """Indented JSON."""
        return self.model_dump_json(indent=2) + "\n"


CandidateReport.model_rebuild()
WhyNot.model_rebuild()


def why_not(situation: Situation, conclusion: str, kind: str, subject: str | None = None, *, depth: int = 3, shown: int = SHOWN) -> WhyNot:
    """Per candidate binding of the rules concluding it, which conditions held, failed or are missing; closest first."""
    return _why_not(situation, conclusion, kind, normalize_subject(subject), depth, shown, frozenset())


def _why_not(situation: Situation, conclusion: str, kind: str, subject: str | None, depth: int, shown: int, seen: frozenset[tuple[str, str]]) -> WhyNot:
    holding = situation.holding(conclusion)
    holds = (subject in holding) if subject is not None else bool(holding)
    pool = situation.candidates(conclusion, subject)
    structural = True
    note = None
    if not pool:
        pool = situation.candidates(conclusion, subject, structural=False)
        structural = False
        note = "no combination of facts joins as the rule asks; the closest combinations are shown with the joins that fail"
        if not pool:
            types = sorted({t for r in situation.producers(conclusion) for a, t in r.aliases.items() if a not in r.finding_aliases})
            note = f"the scenario has no {' / '.join(types)} facts this rule could concern" + (f" with the subject {subject!r}" if subject else "")
    seen = seen | {(conclusion, subject or "*")}
    reports = []
    for candidate in pool[:shown]:
        reports.append(_candidate_report(situation, candidate, depth, seen))
    complete = situation.deadline is None or not situation.deadline.hit
    if not complete:
        bound = f"the time bound of the search ({situation.deadline.seconds:g} s) ended the enumeration of candidates; those found are shown"  # type: ignore[union-attr]
        note = f"{note}; {bound}" if note else bound
    return WhyNot(
        target=conclusion, kind=kind, subject=subject, holds=holds, candidates=reports, total_candidates=len(pool), structural=structural, complete=complete, note=note  # type: ignore[arg-type]
    )


def _candidate_report(situation: Situation, candidate: Candidate, depth: int, seen: frozenset[tuple[str, str]]) -> CandidateReport:
    needed: list[WhyNot] = []
    if depth > 0:
        for result in candidate.results:
            if result.kind == "finding" and result.outcome == FAILED and result.finding is not None:
                key = (result.finding.finding, result.finding.subject)
                if key not in seen:
                    needed.append(_why_not(situation, key[0], "finding", key[1], depth - 1, SHOWN_NESTED, seen))
    return CandidateReport(
        rule=candidate.rule,
        subject=candidate.subject,
        binding=candidate.binding,
        results=candidate.results,
        holds=candidate.holds,
        failed=candidate.failed,
        missing=candidate.missing,
        needed=needed,
    )


def explain(
    engine: Engine, scenario: Scenario, rule_id: str, subject: str | None = None, *, file: str = "FILE", limits: Limits | None = None, changes: bool = True
) -> Explanation:
    """Proof tree when the conclusion holds (and what would stop it), why-not and what would make it fire otherwise."""
    conclusion, kind = resolve_target(engine, rule_id)
    subject = normalize_subject(subject)
    # One clock for all of it (the evaluation, the why-not, the search): the bound is the explanation's.
    situation = Situation.of(engine, scenario, file, deadline=Deadline((limits or Limits()).seconds))
    holding = situation.holding(conclusion)
    holds = (subject in holding) if subject is not None else bool(holding)
    proofs: list[Recommendation | FindingNode] = []
    if holds:
        proofs += [r for r in situation.report.recommendations if r.rule == conclusion and (subject is None or r.subject.key == subject)]
        proofs += [f for f in situation.report.findings if f.finding == conclusion and (subject is None or f.subject.key == subject)]
        found = search(situation, conclusion, subject, "stop", limits) if changes else None
        return Explanation(scenario=scenario.title, target=conclusion, kind=kind, subject=subject, holds=True, proofs=proofs, changes=found)  # type: ignore[arg-type]
    reason = why_not(situation, conclusion, kind, subject)
    found = search(situation, conclusion, subject, "fire", limits) if changes else None
    return Explanation(scenario=scenario.title, target=conclusion, kind=kind, subject=subject, holds=False, why_not=reason, changes=found)  # type: ignore[arg-type]


__all__ = ["CandidateReport", "Explanation", "WhyNot", "explain", "why_not"]
