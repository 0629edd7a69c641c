"""Rules explained for people: readable conditions, what a rule needs and what needs it, and the finding graph."""

from __future__ import annotations

from dataclasses import dataclass

from nea_policy.language.conditions import AnyOf, Comparison, Condition, FieldRef
from nea_policy.language.reads import rule_reads
from nea_policy.language.rules import Absence, Rule, RuleSet
from nea_policy.model.fact_types import FACT_TYPES

_ORDER_WORDS = {">=": "at least", ">": "above", "<=": "at most", "<": "below"}

# Field names that do not read as nouns by themselves ("the flow's has work and shelter").
_FIELD_WORDS = {
    "has_work_and_shelter": "proof of work and shelter",
    "cheap_labor_as_training": "hiring as cheap labor under the guise of training",
    "persecution_risk_on_return": "risk of persecution on return",
    "estimate_exaggeration": "alarmist estimate as a multiple of the careful one",
    "estimate_alarmist_high": "highest alarmist estimate",
    "estimate_careful_high": "highest careful estimate",
    "label_count": "number of different labels",
    "stereotypes": "level of unfavorable stereotypes",
}


@dataclass(frozen=True)
class Wording:
    """What the words of a condition need to know of its rule: each alias's fact type, and the findings' aliases."""

    aliases: dict[str, str]
    finding_aliases: dict[str, str]
    absent_alias: str | None = None

    @classmethod
    def of(cls, rule: Rule, absence: Absence | None = None) -> Wording:
        """The wording of a rule's conditions (with `absence`, of one of its absent: blocks)."""
        if absence is None:
            return cls(dict(rule.aliases), dict(rule.finding_aliases))
        findings = {**rule.finding_aliases, **({absence.alias: absence.finding} if absence.finding else {})}
        return cls({**rule.aliases, absence.alias: absence.fact_type}, findings, absence.alias)

    def role(self, alias: str) -> str:
        """What an alias stands for: "the flow", "the host country", "the finding legal-status-limbo"."""
        if alias in self.finding_aliases:
            return f"the finding {self.finding_aliases[alias]}"
        fact_type = self.aliases.get(alias, alias)
        if alias == self.absent_alias or alias == fact_type or fact_type == "finding":
            return f"the {fact_type}"
        return f"the {alias.replace('_', ' ')} {fact_type}"

    def field(self, ref: FieldRef) -> str:
        """A field as a noun phrase: "the flow's fear of exposure"; a fact's own code or key is the fact itself."""
        fact_type = self.aliases.get(ref.alias, "")
        if ref.field == "pair" or (ref.field == "key" and fact_type == "relation"):
            return f"{self.role(ref.alias)}'s two sides" if fact_type != "flow" else f"{self.role(ref.alias)}'s origin and destination"
        if ref.field in ("key", "code"):
            return self.role(ref.alias)
        return f"{self.role(ref.alias)}'s {_FIELD_WORDS.get(ref.field, ref.field.replace('_', ' '))}"

    def is_list(self, ref: FieldRef) -> bool:
        """Whether the field holds a list (its noun is plural: "the host country's accepted conventions include ...")."""
        spec = FACT_TYPES.get(self.aliases.get(ref.alias, ""), FACT_TYPES["flow"]).fields.get(ref.field)
        return spec is not None and spec.is_list

    def is_pair(self, ref: FieldRef) -> bool:
        """Whether the field is the pair of countries a fact joins (a relation's key, a flow's or agreement's pair)."""
        return ref.field == "pair" or (ref.field == "key" and self.aliases.get(ref.alias) == "relation")


def condition_words(condition: Condition, wording: Wording) -> str:
    """A condition as words, e.g. "the host country is the flow's destination", "the flow's abuse is at least high"."""
    if isinstance(condition, AnyOf):
        return "at least one of: " + "; or ".join(" and ".join(condition_words(c, wording) for c in branch) for branch in condition.branches)
    c = condition
    if isinstance(c.right, FieldRef):
        right = c.right
        if c.op == "==":
            for finding_ref, other in ((c.left, right), (right, c.left)):
                if finding_ref.field == "subject" and finding_ref.alias in wording.finding_aliases:
                    return f"{wording.role(finding_ref.alias)} holds for {wording.field(other)}"
            if wording.is_pair(c.left) or wording.is_pair(right):
                return f"{wording.role(c.left.alias)} is between {wording.field(right)}"
            return f"{wording.field(c.left)} is {wording.field(right)}"
        if c.op == "!=":
            return f"{wording.field(c.left)} is not {wording.field(right)}"
        return f"{wording.field(c.left)} is {_ORDER_WORDS[c.op]} {wording.field(right)}"
    return f"{wording.field(c.left)} {_test_words(c, wording.is_list(c.left))}"


def _test_words(c: Comparison, plural: bool = False) -> str:
    op = c.op
    if op in ("is set", "is not set") and not plural:
        return op
    if isinstance(c.right, tuple):
        values = [literal_words(v) for v in c.right]
        listed = values[0] if len(values) == 1 else ", ".join(values[:-1]) + (" or " if op == "in" else " nor ") + values[-1]
        return f"is {listed}" if op == "in" else f"is neither {listed}" if len(values) == 2 else f"is none of {', '.join(values)}"
    value = literal_words(c.right)
    if plural and op in ("contains", "not contains", "is set", "is not set"):
        return {"contains": f"include {value}", "not contains": f"do not include {value}", "is set": "are set", "is not set": "are not set"}[op]
    return {"==": f"is {value}", "!=": f"is not {value}", "contains": f"includes {value}", "not contains": f"does not include {value}"}.get(op) or f"is {_ORDER_WORDS[op]} {value}"


def absence_words(absence: Absence, rule: Rule) -> str:
    """An absent: block in words: "there is no agreement where ...", "the finding X does not hold for the flow"."""
    wording = Wording.of(rule, absence)
    tests = [condition_words(c, wording) for c in absence.conditions]
    if absence.finding:
        head = f"the finding {absence.finding} holds for "
        joined = [w for w in tests if w.startswith(head)]
        if joined:
            rest = [w for w in tests if w is not joined[0]]
            return f"the finding {absence.finding} does not hold for {joined[0][len(head):]}" + "".join(f" where {w}" for w in rest[:1]) + "".join(f" and {w}" for w in rest[1:])
    what = f"finding {absence.finding}" if absence.finding else absence.fact_type
    return f"there is no {what}" + (f" where {' and '.join(tests)}" if tests else "")


def literal_words(value: object) -> str:
    """A value as the fact file writes it (true, false, high, 2)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class RuleSummary:
    """One line of `rules list`."""

    id: str
    kind: str
    title: str
    concludes: str


@dataclass(frozen=True)
class ConditionDoc:
    """One condition of `rules show`: in words, as written, and, for an any: group, its branches."""

    words: str
    written: str
    branches: tuple[tuple[ConditionDoc, ...], ...] = ()

    def __str__(self) -> str:
        return self.words


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
    conditions: list[ConditionDoc]
    absent: list[ConditionDoc]
    actors: list[str]
    addressees: list[str]
    justification: str
    section: str
    quote: str
    needs: list[str]
    needs_absent: list[str]
    needed_by: list[str]
    reads: list[str]


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
    absent = [ConditionDoc(absence_words(absence, rule), absence_text(absence)) for absence in rule.absences]
    return RuleDoc(
        id=rule.id,
        kind=rule.kind,
        title=rule.title,
        concludes=rule.concludes,
        pack=rule.pack,
        location=rule.location,
        facts=facts,
        conditions=[_condition_doc(c, Wording.of(rule)) for c in rule.conditions],
        absent=absent,
        actors=[_actor_words(rule, a) for a in rule.actors],
        addressees=list(rule.addressees),
        justification=" ".join(rule.justification.split()),
        section=rule.section,
        quote=rule.quote,
        needs=sorted(rule.needed_findings()),
        needs_absent=sorted(rule.negated_findings()),
        needed_by=needed_by,
        reads=[_reads_line(rule, alias, fact_type, fields) for alias, (fact_type, fields) in rule_reads(rule).items()],
    )


def _reads_line(rule: Rule, alias: str, fact_type: str, fields: list[str]) -> str:
    what = f"absent {fact_type}" if alias not in rule.aliases else fact_type
    return f"{alias} ({what}): {', '.join(fields)}"


def readable_condition(condition: Condition, rule: Rule, absence: Absence | None = None) -> str:
    """A condition of a rule (or of one of its absent: blocks) in words, e.g. "the flow's legal status is irregular or unclear"."""
    return condition_words(condition, Wording.of(rule, absence))


def absence_text(absence: Absence) -> str:
    """An absent: block as written, on one line: "absent agreement: agreement.pair == flow.pair and ..."."""
    what = f"finding {absence.finding}" if absence.finding else absence.fact_type
    return f"absent {what}" + (": " + " and ".join(str(c) for c in absence.conditions) if absence.conditions else "")


def _condition_doc(condition: Condition, wording: Wording) -> ConditionDoc:
    if isinstance(condition, AnyOf):
        branches = tuple(tuple(_condition_doc(c, wording) for c in branch) for branch in condition.branches)
        return ConditionDoc("at least one of", str(condition), branches)
    return ConditionDoc(condition_words(condition, wording), condition.text)


def _actor_words(rule: Rule, ref: FieldRef) -> str:
    spec = FACT_TYPES[rule.aliases[ref.alias]].fields.get(ref.field)
    return f"{ref} ({spec.description})" if spec is not None and spec.description and spec.derived else str(ref)


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
