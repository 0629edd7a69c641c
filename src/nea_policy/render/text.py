"""Text rendering for people: plain text (pipes, files, tests) and a rich layout for terminals; comparisons too."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from nea_policy.model.display import display_value, flat, visible
from nea_policy.model.report import Evidence, FindingNode, Recommendation, Report

if TYPE_CHECKING:
    from rich.console import Console

    from nea_policy.analysis.compare import Comparison, ConclusionChange

def actors_of(report: Report, actor: str | None) -> tuple[list[Recommendation], list[str]]:
    """The recommendations to show (all, or those addressed to one government) and the actors to group them by."""
    recommendations = report.recommendations if actor is None else report.for_actor(actor)
    actors = sorted({a for r in recommendations for a in r.actors if actor is None or a == actor})
    return recommendations, actors


def evidence_text(item: Evidence) -> str:
    """One piece of evidence as `type key (name): field=value, ...`."""
    values = ", ".join(f"{k}={display_value(v)}" for k, v in item.values.items())
    head = f"{item.fact} {item.key} ({item.name})"
    return f"{head}: {values}" if values else head


# --- plain text ---------------------------------------------------------------------------------------


def render_text(report: Report, *, width: int = 88, show_findings: bool = True, actor: str | None = None) -> str:
    """The report as plain readable text, wrapped to width."""
    out: list[str] = []
    title = flat(report.scenario.title)
    out += [title, "=" * len(title), ""]
    if report.scenario.description:
        out += [*textwrap.wrap(report.scenario.description, width), ""]
    recommendations, actors = actors_of(report, actor)
    if not recommendations:
        out += [f"No recommendation is addressed to {actor}." if actor else "No recommendation applies to this scenario.", ""]
    for code in actors:
        name = report.scenario.actor_name(code)
        heading = flat(f"Recommendations to {name} ({code})")
        out += [heading, "-" * len(heading), ""]
        for rec in (r for r in recommendations if code in r.actors):
            out += _recommendation(rec, width, show_findings)
    if show_findings and report.findings:
        out += ["Findings", "--------", ""]
        for finding in report.findings:
            out += _wrap(f"* {finding.title} [{finding.finding}] — {finding.subject.name}", width, "", "  ")
            out += _wrap(finding.justification, width, "  ", "  ")
        out.append("")
    out += _wrap(f"Rules: {report.ruleset.version} ({report.ruleset.digest})", width, "", "  ")
    # One pass at the end catches every value from the facts, wherever the layout put it.
    return "\n".join(visible(line) for line in out) + "\n"


def _recommendation(rec: Recommendation, width: int, show_findings: bool) -> list[str]:
    lines = _wrap(f"* {rec.title} [{rec.rule}]", width, "", "  ")
    lines += _wrap(f"Concerns: {rec.subject.name} ({rec.subject.type} {rec.subject.key})", width, "  ", "    ")
    if rec.addressees:
        lines += _wrap(f"Also addressed to: {', '.join(rec.addressees)}", width, "  ", "    ")
    lines += _wrap(f"Why: {rec.justification}", width, "  ", "    ")
    if rec.evidence:
        lines.append("  Facts:")
        for item in rec.evidence:
            lines += _wrap(evidence_text(item), width, "    ", "      ")
    if show_findings and rec.because:
        lines.append("  Rests on:")
        for node in rec.because:
            lines += _finding_tree(node, width, "    ")
    lines += _wrap(f'Source ({rec.source.section}): "{rec.source.quote}"', width, "  ", "    ")
    lines.append("")
    return lines


def _finding_tree(node: FindingNode, width: int, indent: str) -> list[str]:
    lines = _wrap(f"- {node.title} [{node.finding}]: {node.justification}", width, indent, indent + "  ")
    for item in node.evidence:
        lines += _wrap(evidence_text(item), width, indent + "  ", indent + "    ")
    for child in node.because:
        lines += _finding_tree(child, width, indent + "  ")
    return lines


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False) or [first.rstrip()]


# --- rich, for terminals --------------------------------------------------------------------------------


def print_rich(report: Report, console: Console, *, show_findings: bool = True, actor: str | None = None) -> None:
    """Print the report with colour and layout; every value goes in as plain Text, never as rich markup."""
    from rich.padding import Padding
    from rich.text import Text
    from rich.tree import Tree

    def t(text: str, style: str = "") -> Text:
        # One line per value: a newline in a name would otherwise start a line of its own in the layout. (Every other
        # character that breaks a line, \r or \u2028, is written out by visible.)
        return Text(visible(text.replace("\n", " ")), style=style)

    console.print(t(report.scenario.title, "bold underline"))
    if report.scenario.description:
        console.print(t(report.scenario.description, "dim"))
    console.print()
    recommendations, actors = actors_of(report, actor)
    if not recommendations:
        console.print(t(f"No recommendation is addressed to {actor}." if actor else "No recommendation applies to this scenario.", "yellow"))
        console.print()
    for code in actors:
        name = report.scenario.actor_name(code)
        console.rule(t(f"Recommendations to {name} ({code})", "bold cyan"), align="left")
        for rec in (r for r in recommendations if code in r.actors):
            tree = Tree(Text.assemble(t(rec.title, "bold green"), " ", t(f"[{rec.rule}]", "dim")))
            tree.add(Text.assemble(t("Concerns: ", "bold"), t(f"{rec.subject.name} ({rec.subject.type} {rec.subject.key})")))
            if rec.addressees:
                tree.add(Text.assemble(t("Also addressed to: ", "bold"), t(", ".join(rec.addressees))))
            tree.add(Text.assemble(t("Why: ", "bold"), t(rec.justification)))
            if rec.evidence:
                facts = tree.add(t("Facts", "bold"))
                for item in rec.evidence:
                    facts.add(t(evidence_text(item), "cyan"))
            if show_findings and rec.because:
                rests = tree.add(t("Rests on", "bold"))
                for node in rec.because:
                    _rich_finding(rests, node, t)
            tree.add(Text.assemble(t(f"Source ({rec.source.section}): ", "bold"), t(f"“{rec.source.quote}”", "italic")))
            console.print(tree)
            console.print()
    if show_findings and report.findings:
        console.rule(t("Findings", "bold magenta"), align="left")
        for finding in report.findings:
            console.print(Text.assemble(t("• "), t(finding.title, "bold"), " ", t(f"[{finding.finding}]", "dim"), t(f" — {finding.subject.name}")))
            console.print(Padding(t(finding.justification), (0, 0, 0, 2), expand=False))
        console.print()
    console.print(t(f"Rules: {report.ruleset.version} ({report.ruleset.digest})", "dim"))


def _rich_finding(parent: Any, node: FindingNode, t: Any) -> None:
    from rich.text import Text

    branch = parent.add(Text.assemble(t(node.title, "magenta"), " ", t(f"[{node.finding}]", "dim"), t(": "), t(node.justification)))
    for item in node.evidence:
        branch.add(t(evidence_text(item), "cyan"))
    for child in node.because:
        _rich_finding(branch, child, t)


# --- comparisons ----------------------------------------------------------------------------------------


def render_comparison_text(comparison: Comparison, *, width: int = 88) -> str:
    """A comparison as plain text: fact differences, then each changed recommendation and finding with what is behind it."""
    out: list[str] = []
    heading = _wrap(f"{comparison.base} -> {comparison.variant}", width, "", "  ")
    out += [*heading, "=" * max(len(line) for line in heading), ""]
    out += ["Fact differences", "----------------", ""]
    if not comparison.fact_changes:
        out += ["(none)", ""]
    for change in comparison.fact_changes:
        if change.field is None:
            out += _wrap(f"{change.change}: {change.path}", width, "  ", "    ")
        else:
            out += _wrap(f"{change.path}: {_show(change.before)} -> {_show(change.after)}", width, "  ", "    ")
    out.append("")
    for title, items in (("Recommendations", comparison.recommendations), ("Findings", comparison.findings)):
        out += [title, "-" * len(title), ""]
        if not items:
            out += ["(no change)", ""]
        for item in items:
            out += _conclusion_change(item, width)
    if comparison.unchanged_recommendations:
        out += _wrap(f"Unchanged recommendations: {', '.join(comparison.unchanged_recommendations)}", width, "", "  ")
    return "\n".join(visible(line) for line in out) + "\n"


def _show(value: Any) -> str:
    """A fact value in a comparison: records (estimates, labels) as `{low: 1, kind: careful}`, unset parts left out."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items() if v is not None) + "}"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return ", ".join(_show(v) for v in value)
    return display_value(value)


_MARKS = {"appeared": "+", "disappeared": "-", "actors changed": "~", "reasons changed": "~"}


def _conclusion_change(item: ConclusionChange, width: int) -> list[str]:
    lines = _wrap(f"{_MARKS[item.change]} {item.change}: {item.title} [{item.id}] — {item.subject.name}", width, "", "    ")
    if item.kind == "recommendation":
        before = ", ".join(item.actors_before) or "nobody"
        after = ", ".join(item.actors_after) or "nobody"
        lines += _wrap(f"addressed to: {before} -> {after}" if before != after else f"addressed to: {after}", width, "    ", "      ")
    if item.because:
        lines += _wrap(f"because of: {', '.join(item.because)}", width, "    ", "      ")
    else:
        lines += _wrap("because of: no single fact difference it reads; it follows from the changes above", width, "    ", "      ")
    lines.append("")
    return lines
