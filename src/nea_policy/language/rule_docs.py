"""Rules explained for people: readable conditions, what a rule needs and what needs it, and the finding graph."""

from __future__ import annotations

from dataclasses import dataclass

from nea_policy.language.conditions import AnyOf, Comparison, Condition, FieldRef
from nea_policy.language.rules import Rule, RuleSet
from nea_policy.model.fact_types import FACT_TYPES

_OPERATOR_WORDS = {
    "==": "is",
    "!=": "is not",
    ">=": "is at least",
    ">": "is above",
    "<=": "is at most",
    "<": "is below",
    "in": "is one of",
    "not in": "is none of",
    "contains": "includes",
    "not contains": "does not include",
    "is set": "is known",
    "is not set": "is unknown",
}


@dataclass(frozen=True)
class RuleSummary:
    """One line of `rules list`."""

    id: str
    kind: str
    title: str
    concludes: str


@dataclass(frozen=True)
class RuleDoc:
    """Everything `rules show` tells about one rule."""

    id: str
    kind: str
    title: str
    concludes: str
    pack: str
    location: str
    facts: list[str]
    conditions: list[str]
    absent: list[str]
    actors: list[str]
    addressees: list[str]
    justification: str
    section: str
    quote: str
    needs: list[str]
    needs_absent: list[str]
    needed_by: list[str]


def list_rules(ruleset: RuleSet) -> list[RuleSummary]:
    """Every rule, findings first then recommendations, each group in file order."""
    order = {"finding": 0, "recommendation": 1}
    rules = sorted(ruleset.rules, key=lambda r: order.get(r.kind, 2))
    return [RuleSummary(r.id, r.kind, r.title, r.concludes) for r in rules]


def describe_rule(ruleset: RuleSet, rule_id: str) -> RuleDoc:
    """A rule in readable form; a RuleError naming the closest ids if there is no such rule."""
    rule = ruleset.by_id(rule_id)
    needed_by = sorted(
        {r.id for r in ruleset.rules if rule.kind == "finding" and (rule.concludes in r.needed_findings() or rule.concludes in r.negated_findings())}
    )
    facts = [f"{alias}: {_type_text(rule, alias)}" for alias in rule.aliases]
    absent = []
    for absence in rule.absences:
        what = f"finding {absence.finding}" if absence.finding else absence.fact_type
        tests = " and ".join(readable_condition(c, rule, absence.alias) for c in absence.conditions)
        absent.append(f"no {what}" + (f" where {tests}" if tests else ""))
    return RuleDoc(
        id=rule.id,
        kind=rule.kind,
        title=rule.title,
        concludes=rule.concludes,
        pack=rule.pack,
        location=rule.location,
        facts=facts,
        conditions=[readable_condition(c, rule) for c in rule.conditions],
        absent=absent,
        actors=[_actor_words(rule, a) for a in rule.actors],
        addressees=list(rule.addressees),
        justification=" ".join(rule.justification.split()),
        section=rule.section,
        quote=rule.quote,
        needs=sorted(rule.needed_findings()),
        needs_absent=sorted(rule.negated_findings()),
        needed_by=needed_by,
    )


def readable_condition(condition: Condition, rule: Rule, absent_alias: str | None = None) -> str:
    """A condition as a sentence fragment, e.g. "flow's legal status is one of irregular, unclear"."""
    if isinstance(condition, AnyOf):
        branches = [" and ".join(readable_condition(c, rule, absent_alias) for c in branch) for branch in condition.branches]
        return "any of: " + "; or ".join(branches)
    return _comparison(condition, rule, absent_alias)


def _comparison(c: Comparison, rule: Rule, absent_alias: str | None) -> str:
    # A finding joined to its subject reads better as "finding X holds for the flow".
    if isinstance(c.right, FieldRef) and c.op == "==":
        for finding_ref, other in ((c.left, c.right), (c.right, c.left)):
            if finding_ref.field == "subject" and finding_ref.alias in rule.finding_aliases:
                return f"finding {rule.finding_aliases[finding_ref.alias]} holds for {_alias_words(rule, other.alias)}"
    left = f"{_alias_words(rule, c.left.alias, absent_alias)}'s {_field_words(c.left.field)}"
    words = _OPERATOR_WORDS.get(c.op, c.op)
    if c.right is None:
        return f"{left} {words}"
    if isinstance(c.right, FieldRef):
        right = f"{_alias_words(rule, c.right.alias, absent_alias)}'s {_field_words(c.right.field)}"
    elif isinstance(c.right, tuple):
        right = ", ".join(_literal(v) for v in c.right)
    else:
        right = _literal(c.right)
    return f"{left} {words} {right}"


def _actor_words(rule: Rule, ref: FieldRef) -> str:
    spec = FACT_TYPES[rule.aliases[ref.alias]].fields.get(ref.field)
    return f"{ref} ({spec.description})" if spec is not None and spec.description and spec.derived else str(ref)


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _alias_words(rule: Rule, alias: str, absent_alias: str | None = None) -> str:
    if alias == absent_alias:
        return f"the {alias}"
    if alias in rule.finding_aliases:
        return f"finding {rule.finding_aliases[alias]}"
    # The alias alone: `rules show` lists each alias with its fact type just above the conditions.
    return alias


def _field_words(field: str) -> str:
    return field.replace("_", " ")


def _type_text(rule: Rule, alias: str) -> str:
    if alias in rule.finding_aliases:
        return f"finding {rule.finding_aliases[alias]}"
    return rule.aliases[alias]


# --- the graph of findings feeding recommendations -------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """A conclusion feeding another: finding -> finding or finding -> recommendation; `negated` when tested absent."""

    source: str
    target: str
    negated: bool = False


def rule_graph(ruleset: RuleSet) -> tuple[dict[str, str], list[Edge]]:
    """Nodes (conclusion id -> kind) and edges: which findings feed which conclusions."""
    nodes: dict[str, str] = {}
    for rule in ruleset.rules:
        nodes.setdefault(rule.concludes, rule.kind)
    edges: set[Edge] = set()
    for rule in ruleset.rules:
        for finding in rule.needed_findings():
            edges.add(Edge(finding, rule.concludes))
        for finding in rule.negated_findings():
            edges.add(Edge(finding, rule.concludes, negated=True))
    return nodes, sorted(edges, key=lambda e: (e.source, e.target, e.negated))
