"""Rules explained for people: readable conditions, what a rule needs and what needs it, and the finding graph."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from .conditions import AnyOf, Comparison, Condition, FieldRef
from .fact_types import FACT_TYPES
from .render_text import visible
from .rules import Rule, RuleSet

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


def graph_mermaid(ruleset: RuleSet) -> str:
    """The finding graph as a Mermaid flowchart (renders on GitHub and in many editors)."""
    nodes, edges = rule_graph(ruleset)
    lines = ["flowchart LR"]
    for node, kind in sorted(nodes.items()):
        label = node.replace('"', "'")
        shape = f'(["{label}"])' if kind == "finding" else f'["{label}"]'
        lines.append(f"  {_node_id(node)}{shape}")
    for edge in edges:
        arrow = "-. not .->" if edge.negated else "-->"
        lines.append(f"  {_node_id(edge.source)} {arrow} {_node_id(edge.target)}")
    lines.append("  classDef finding fill:#eef,stroke:#446")
    lines.append("  classDef recommendation fill:#efe,stroke:#464")
    for kind in ("finding", "recommendation"):
        members = [_node_id(n) for n, k in sorted(nodes.items()) if k == kind]
        if members:
            lines.append(f"  class {','.join(members)} {kind}")
    return "\n".join(lines) + "\n"


def graph_dot(ruleset: RuleSet) -> str:
    """The finding graph in Graphviz DOT."""
    nodes, edges = rule_graph(ruleset)
    lines = ["digraph rules {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for node, kind in sorted(nodes.items()):
        shape = "ellipse" if kind == "finding" else "box"
        lines.append(f'  "{_dot_escape(node)}" [shape={shape}];')
    for edge in edges:
        style = ' [style=dashed, label="not"]' if edge.negated else ""
        lines.append(f'  "{_dot_escape(edge.source)}" -> "{_dot_escape(edge.target)}"{style};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_id(name: str) -> str:
    # Mermaid ids may not contain hyphens followed by '>' etc.; keep letters, digits and underscores.
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')



# --- text ---------------------------------------------------------------------------------------------------


def render_rule_list(summaries: list[RuleSummary]) -> str:
    """`rules list` as aligned columns: id, kind, title."""
    if not summaries:
        return "No rules.\n"
    id_width = max(len(s.id) for s in summaries)
    kind_width = max(len(s.kind) for s in summaries)
    lines = [f"{'ID'.ljust(id_width)}  {'KIND'.ljust(kind_width)}  TITLE"]
    for s in summaries:
        title = s.title if s.concludes == s.id else f"{s.title} (concludes {s.concludes})"
        lines.append(f"{s.id.ljust(id_width)}  {s.kind.ljust(kind_width)}  {title}")
    return "\n".join(visible(line) for line in lines) + "\n"


def render_rule_doc(doc: RuleDoc, *, width: int = 88) -> str:
    """`rules show` as readable text."""
    out = [f"{doc.id} ({doc.kind})", "=" * len(f"{doc.id} ({doc.kind})"), ""]
    out += _wrap(doc.title, width, "", "")
    out += ["", f"Pack: {doc.pack}, defined at {doc.location}"]
    if doc.concludes != doc.id:
        out.append(f"Concludes the finding: {doc.concludes}")
    out += ["", "Matches facts:"] + [f"  {fact}" for fact in doc.facts]
    out += ["", "When:"]
    for condition in doc.conditions or ["(always)"]:
        out += _wrap(f"- {condition}", width, "  ", "    ")
    for absent in doc.absent:
        out += _wrap(f"- {absent}", width, "  ", "    ")
    if doc.actors:
        out.append("")
        out += _wrap("Addressed to: " + ", ".join(doc.actors) + (f"; also {', '.join(doc.addressees)}" if doc.addressees else ""), width, "", "  ")
    out += ["", "Justification (template):"] + _wrap(doc.justification, width, "  ", "  ")
    out += ["", f"Source ({doc.section}):"] + _wrap(f'"{doc.quote}"', width, "  ", "  ")
    out += ["", "Needs findings: " + (", ".join(doc.needs) or "none")]
    if doc.needs_absent:
        out.append("Needs the absence of: " + ", ".join(doc.needs_absent))
    if doc.kind == "finding":
        out.append("Needed by: " + (", ".join(doc.needed_by) or "no rule"))
    return "\n".join(visible(line) for line in out) + "\n"


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False) or [first.rstrip()]
