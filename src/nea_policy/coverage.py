"""Rule coverage over a test suite: how often each rule fired, and which of its conditions no case challenged.

A top-level condition (or `absent:` block) is *challenged* when some case had a candidate binding of the rule's
aliases to facts in which every other top-level condition held and this one alone was false: the case shows that
the condition matters. A condition never so challenged could be dropped without any test noticing.

The bindings are enumerated here with a small Python evaluator of parsed conditions over the encoded facts (the
same values the Rete network sees); the firing counts come from the engine itself.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable

from pydantic import BaseModel, Field

from .conditions import AnyOf, Comparison, Condition, FieldRef
from .fact_types import FACT_TYPES, FINDING, count_field, encode_scenario
from .facts import LEVEL_ORDER, Scenario
from .report import FindingNode, Report
from .rules import Absence, Rule

# A rule over many aliases in a large scenario could have a huge cross product; past this, stop enumerating.
MAX_BINDINGS_PER_RULE = 200_000

Fact = dict[str, Any]


# --- evaluating conditions over encoded facts --------------------------------------------------------


def _literal(rule_aliases: dict[str, str], ref: FieldRef, value: Any) -> Any:
    spec = FACT_TYPES[rule_aliases[ref.alias]].fields.get(ref.field)
    if spec is not None and spec.kind.removeprefix("list[").removesuffix("]") == "level" and isinstance(value, str) and value in LEVEL_ORDER:
        return LEVEL_ORDER.index(value)
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    if isinstance(left, str) != isinstance(right, str):
        return False
    try:
        if op == "==":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == ">":
            return bool(left > right)
        if op == ">=":
            return bool(left >= right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
    except TypeError:
        return False
    raise ValueError(f"unknown operator {op!r}")


def holds(condition: Condition, binding: dict[str, Fact], aliases: dict[str, str]) -> bool:
    """Whether a parsed condition holds for facts bound to aliases (a missing field never matches, as in the engine)."""
    if isinstance(condition, AnyOf):
        return any(all(holds(c, binding, aliases) for c in branch) for branch in condition.branches)
    fact = binding[condition.left.alias]
    name, op, right = condition.left.field, condition.op, condition.right
    if op == "is set":
        return name in fact
    if op == "is not set":
        return name not in fact
    value = fact.get(name)
    if isinstance(right, FieldRef):
        return _compare(op, value, binding[right.alias].get(right.field))
    if op == "contains":
        return isinstance(value, list) and _literal(aliases, condition.left, right) in value
    if op == "not contains":
        if fact.get(count_field(name)) == 0:
            return True
        return isinstance(value, list) and _literal(aliases, condition.left, right) not in value
    if op == "in":
        return any(_compare("==", value, _literal(aliases, condition.left, v)) for v in right)  # type: ignore[union-attr]
    if op == "not in":
        return all(_compare("!=", value, _literal(aliases, condition.left, v)) for v in right)  # type: ignore[union-attr]
    return _compare(op, value, _literal(aliases, condition.left, right))


def absence_holds(absence: Absence, binding: dict[str, Fact], aliases: dict[str, str], facts: dict[str, list[Fact]]) -> bool:
    """Whether no fact of the absent type satisfies the block's conditions, given the rest of the binding."""
    scope = {**aliases, absence.alias: absence.fact_type}
    for fact in facts.get(absence.fact_type, []):
        if absence.finding is not None and fact.get("finding") != absence.finding:
            continue
        inner = {**binding, absence.alias: fact}
        if all(holds(c, inner, scope) for c in absence.conditions):
            return False
    return True


def candidates(rule: Rule, facts: dict[str, list[Fact]]) -> list[list[Fact]]:
    """The facts each alias of a rule may be bound to (finding aliases only to facts of their finding)."""
    pools = []
    for alias, fact_type in rule.aliases.items():
        pool = facts.get(fact_type, [])
        finding = rule.finding_aliases.get(alias)
        if finding is not None:
            pool = [f for f in pool if f.get("finding") == finding]
        pools.append(pool)
    return pools


def evaluate_items(rule: Rule, binding: dict[str, Fact], facts: dict[str, list[Fact]]) -> list[bool]:
    """The truth of each top-level condition, then of each absent block, for one binding."""
    values = [holds(c, binding, rule.aliases) for c in rule.conditions]
    values.extend(absence_holds(a, binding, rule.aliases, facts) for a in rule.absences)
    return values


def item_labels(rule: Rule) -> list[str]:
    """A readable label per top-level condition and absent block, in evaluation order."""
    labels = [str(c) for c in rule.conditions]
    for absence in rule.absences:
        inside = " and ".join(str(c) for c in absence.conditions)
        labels.append(f"absent {absence.finding or absence.fact_type}" + (f" where {inside}" if inside else ""))
    return labels


def facts_of(scenario: Scenario, findings: Iterable[FindingNode]) -> dict[str, list[Fact]]:
    """The engine facts of a scenario plus the finding facts a report derived, by type."""
    by_type: dict[str, list[Fact]] = {}
    for fact in encode_scenario(scenario):
        by_type.setdefault(fact["t"], []).append(fact)
    seen: set[tuple[str, str]] = set()
    for node in _walk(findings):
        key = (node.finding, node.subject.key)
        if key in seen:
            continue
        seen.add(key)
        by_type.setdefault(FINDING, []).append({"t": FINDING, "finding": node.finding, "subject": node.subject.key, "subject_type": node.subject.type})
    return by_type


def _walk(nodes: Iterable[FindingNode]) -> Iterable[FindingNode]:
    for node in nodes:
        yield node
        yield from _walk(node.because)


def bindings(rule: Rule, facts: dict[str, list[Fact]]) -> Iterable[dict[str, Fact]]:
    """Every assignment of the rule's aliases to candidate facts (capped at MAX_BINDINGS_PER_RULE)."""
    aliases = list(rule.aliases)
    for combo in itertools.islice(itertools.product(*candidates(rule, facts)), MAX_BINDINGS_PER_RULE):
        yield dict(zip(aliases, combo))


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
        facts = facts_of(scenario, report.findings)
        fired: dict[str, int] = {}
        if firings is not None:
            for firing in firings:
                fired[firing.compiled.rule.id] = fired.get(firing.compiled.rule.id, 0) + 1
        for rule in engine.rules:
            stats = self.stats[(rule.pack, rule.id)]
            satisfied = 0
            for binding in bindings(rule, facts):
                values = evaluate_items(rule, binding, facts)
                false = [i for i, v in enumerate(values) if not v]
                if not false:
                    satisfied += 1
                elif len(false) == 1:
                    stats.challenged.add(false[0])
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
