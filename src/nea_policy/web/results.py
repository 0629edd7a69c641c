"""What the results beside the form show: recommendations by government, findings, what changed since the last
edit (as `compare` reports it), and the recommendations that do not hold, each of which can be asked why not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nea_policy.analysis.compare import ConclusionChange, FactChange, compare_scenarios
from nea_policy.api import Engine, Scenario
from nea_policy.model.report import FindingNode, Recommendation, Report


@dataclass(frozen=True)
class ActorGroup:
    """The recommendations addressed to one government (a recommendation to two shows under both)."""

    code: str
    name: str
    recommendations: list[Recommendation]


@dataclass(frozen=True)
class RuleRef:
    """A recommendation by id and title."""

    id: str
    title: str


@dataclass
class Results:
    """The report of the scenario on the form, laid out for the page, with the changes since the last edit."""

    report: Report
    groups: list[ActorGroup]
    findings: list[FindingNode]
    not_holding: list[RuleRef]
    compared: bool = False
    #: (rule, subject key) of the recommendations and findings that appeared with the last edit
    appeared: set[tuple[str, str]] = field(default_factory=set)
    disappeared: list[ConclusionChange] = field(default_factory=list)
    changed: list[ConclusionChange] = field(default_factory=list)
    findings_appeared: set[tuple[str, str]] = field(default_factory=set)
    findings_disappeared: list[ConclusionChange] = field(default_factory=list)
    fact_changes: list[FactChange] = field(default_factory=list)

    @property
    def recommendation_count(self) -> int:
        """How many recommendations (rule and subject) hold."""
        return len(self.report.recommendations)


def recommendation_rules(engine: Engine) -> list[RuleRef]:
    """Every recommendation the rules can make, in rule order (one entry per recommendation id)."""
    seen: dict[str, RuleRef] = {}
    for rule in engine.rules:
        if rule.kind == "recommendation" and rule.concludes not in seen:
            seen[rule.concludes] = RuleRef(rule.concludes, rule.title)
    return list(seen.values())


def _groups(report: Report) -> list[ActorGroup]:
    order: list[str] = []
    for rec in report.recommendations:
        for code in rec.actors:
            if code not in order:
                order.append(code)
    groups = [ActorGroup(code, report.scenario.actor_name(code), [r for r in report.recommendations if code in r.actors]) for code in order]
    unaddressed = [r for r in report.recommendations if not r.actors]
    if unaddressed:
        groups.append(ActorGroup("", "no government in particular", unaddressed))
    return groups


def results_of(engine: Engine, scenario: Scenario, previous: Scenario | None = None) -> Results:
    """The results of a valid scenario; with the scenario of the last edit, what changed since (appeared, disappeared)."""
    report = engine.evaluate(scenario)
    holding = set(report.recommendation_ids())
    results = Results(report, _groups(report), list(report.findings), [r for r in recommendation_rules(engine) if r.id not in holding])
    if previous is None:
        return results
    comparison = compare_scenarios(previous, scenario, engine)
    results.compared = True
    results.fact_changes = list(comparison.fact_changes)
    for change in comparison.recommendations:
        if change.change == "appeared":
            results.appeared.add((change.id, change.subject.key))
        elif change.change == "disappeared":
            results.disappeared.append(change)
        else:
            results.changed.append(change)
    for change in comparison.findings:
        if change.change == "appeared":
            results.findings_appeared.add((change.id, change.subject.key))
        else:
            results.findings_disappeared.append(change)
    return results


__all__ = ["ActorGroup", "Results", "RuleRef", "recommendation_rules", "results_of"]
