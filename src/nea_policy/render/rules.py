"""Rules for people: `rules list`, `rules show` as text, and the finding graph as Mermaid or Graphviz DOT."""

from __future__ import annotations

import re
import textwrap

from nea_policy.language.rule_docs import RuleDoc, RuleSummary, rule_graph
from nea_policy.language.rules import RuleSet
from nea_policy.model.display import flat, visible


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


def render_rule_list(summaries: list[RuleSummary]) -> str:
    """`rules list` as aligned columns: id, kind, title."""
    if not summaries:
        return "No rules.\n"
    id_width = max(len(s.id) for s in summaries)
    kind_width = max(len(s.kind) for s in summaries)
    lines = [f"{'ID'.ljust(id_width)}  {'KIND'.ljust(kind_width)}  TITLE"]
    for s in summaries:
        title = flat(s.title if s.concludes == s.id else f"{s.title} (concludes {s.concludes})")
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
    out += ["", "When (in words, then as written):"]
    if not doc.conditions and not doc.absent:
        out.append("  - (always)")
    for condition in [*doc.conditions, *doc.absent]:
        if condition.branches:
            out += _wrap(f"- {condition.words}:", width, "  ", "    ")
            for branch in condition.branches:
                out += _wrap(f"- {' and '.join(c.words for c in branch)} [{' and '.join(c.written for c in branch)}]", width, "      ", "        ")
        else:
            out += _wrap(f"- {condition.words} [{condition.written}]", width, "  ", "    ")
    if doc.reads:
        out += ["", "Reads (fact file fields):"] + [f"  {line}" for line in doc.reads]
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
