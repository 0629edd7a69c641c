"""Rule coverage over a test suite: how often each rule fired, and which of its conditions no case challenged.

A top-level condition (or `absent:` block) is *challenged* when some case had a candidate binding of the rule's
aliases to facts in which every other top-level condition held and this one alone was false: the case shows that
the condition matters. A condition never so challenged could be dropped without any test noticing.

The bindings and the outcome of each condition come from `matcher.candidates` (every combination of base facts,
each finding alias bound to the finding about what it is joined with); the firing counts come from the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from pydantic import BaseModel, Field, computed_field

from nea_policy.analysis.matcher import candidates
from nea_policy.language.rules import Rule
from nea_policy.model.fact_types import encode_scenario
from nea_policy.model.facts import Scenario
from nea_policy.model.report import FindingNode, Report

# A rule over many aliases in a large scenario could have a huge cross product; past this, stop enumerating.
MAX_BINDINGS_PER_RULE = 200_000


def item_labels(rule: Rule) -> list[str]:
    """A readable label per top-level condition and absent block, in the order the matcher reports them."""
    labels = [str(c) for c in rule.conditions]
    for absence in rule.absences:
        inside = " and ".join(str(c) for c in absence.conditions)
        labels.append(f"absent {absence.finding or absence.fact_type}" + (f" where {inside}" if inside else ""))
    return labels


def held_findings(findings: Iterable[FindingNode]) -> dict[tuple[str, str], str]:
    """(finding id, subject key) -> subject type, for every finding of a report and the findings beneath them."""
    held: dict[tuple[str, str], str] = {}
    stack = list(findings)
    while stack:
        node = stack.pop()
        held.setdefault((node.finding, node.subject.key), node.subject.type)
        stack.extend(node.because)
    return held


def decisive_items(rule: Rule, facts: list[dict[str, Any]], findings: dict[tuple[str, str], str]) -> tuple[set[int], int]:
    """Indexes of the rule's items that were the only one not holding in some binding, and how many bindings held."""
    challenged: set[int] = set()
    satisfied = 0
    labels = item_labels(rule)
    for candidate in candidates(rule, facts, findings, structural=False, limit=MAX_BINDINGS_PER_RULE):
        results = candidate.results
        # A finding alias joined only indirectly gets a result of its own before the conditions; skip those.
        offset = len(results) - len(labels)
        not_held = [i - offset for i, r in enumerate(results) if r.outcome != "held"]
        if not not_held:
            satisfied += 1
        elif len(not_held) == 1 and not_held[0] >= 0:
            challenged.add(not_held[0])
    return challenged, satisfied


# --- the tracker -----------------------------------------------------------------------------------


class RuleCoverage(BaseModel):
    """Coverage of one rule over a suite."""

    rule: str
    location: str
    pack: str
    firings: int = Field(description="how many bindings fired it, over all cases")
    cases_fired: int = Field(description="in how many cases it fired")
    conditions: list[str] = Field(description="its top-level conditions and absent blocks")
    never_false: list[str] = Field(description="conditions no case made the only false one")


class CoverageResult(BaseModel):
    """Coverage of a rule set over a suite."""

    rules: list[RuleCoverage]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fired_share(self) -> float:
        """Share of rules that fired at least once, in percent."""
        if not self.rules:
            return 100.0
        return 100.0 * sum(1 for r in self.rules if r.firings) / len(self.rules)

    @property
    def never_fired(self) -> list[str]:
        """Ids of rules no case fired."""
        return [r.rule for r in self.rules if not r.firings]


@dataclass
class _RuleStats:
    rule: Rule
    firings: int = 0
    cases_fired: int = 0
    challenged: set[int] = field(default_factory=set)


@dataclass
class CoverageTracker:
    """Accumulates, case by case, the firings and challenged conditions of every rule the suite's engines run."""

    stats: dict[tuple[str, str], _RuleStats] = field(default_factory=dict)

    def add(self, engine: Any, scenario: Scenario, report: Report | None, firings: list[Any] | None) -> None:
        """Account for one evaluated case (a case whose evaluation failed adds the rules, with nothing fired)."""
        for rule in engine.rules:
            self.stats.setdefault((rule.pack, rule.id), _RuleStats(rule))
        if report is None:
            return
        facts = encode_scenario(scenario)
        findings = held_findings(report.findings)
        fired: dict[str, int] = {}
        if firings is not None:
            for firing in firings:
                fired[firing.compiled.rule.id] = fired.get(firing.compiled.rule.id, 0) + 1
        for rule in engine.rules:
            stats = self.stats[(rule.pack, rule.id)]
            challenged, satisfied = decisive_items(rule, facts, findings)
            stats.challenged |= challenged
            count = fired.get(rule.id, 0) if firings is not None else satisfied
            stats.firings += count
            stats.cases_fired += 1 if count else 0

    def result(self) -> CoverageResult:
        """The coverage so far, rules in the order they were first seen."""
        rules = []
        for stats in self.stats.values():
            labels = item_labels(stats.rule)
            rules.append(
                RuleCoverage(
                    rule=stats.rule.id,
                    location=stats.rule.location,
                    pack=stats.rule.pack,
                    firings=stats.firings,
                    cases_fired=stats.cases_fired,
                    conditions=labels,
                    never_false=[label for i, label in enumerate(labels) if i not in stats.challenged],
                )
            )
        return CoverageResult(rules=rules)


def render_coverage(coverage: CoverageResult) -> str:
    """The coverage table: per rule, firings, cases, and the conditions no case challenged."""
    lines = ["coverage (fired: bindings that fired / cases it fired in; never false: conditions no case made decisive)"]
    width = max((len(r.rule) for r in coverage.rules), default=10)
    for rule in coverage.rules:
        mark = "  " if rule.firings else "!!"
        lines.append(f"{mark} {rule.rule:<{width}}  fired {rule.firings:>3} in {rule.cases_fired:>3} cases  {rule.location}")
        for label in rule.never_false:
            lines.append(f"{'':>{width + 5}}never false: {label}")
    fired = sum(1 for r in coverage.rules if r.firings)
    lines.append(f"{fired} of {len(coverage.rules)} rules fired ({coverage.fired_share:.0f}%)")
    return "\n".join(lines)
