"""Plain-text rendering of a Report for people: recommendations grouped by actor, reasons as a tree."""

from __future__ import annotations

import textwrap

from .justify import display_value
from .report import Evidence, FindingNode, Recommendation, Report


def render_text(report: Report, *, width: int = 88, show_findings: bool = True, actor: str | None = None) -> str:
    """The report as readable text."""
    out: list[str] = []
    title = report.scenario.title
    out += [title, "=" * len(title), ""]
    if report.scenario.description:
        out += [*textwrap.wrap(report.scenario.description, width), ""]
    recommendations = report.recommendations if actor is None else report.for_actor(actor)
    actors = sorted({a for r in recommendations for a in r.actors if actor is None or a == actor})
    if not recommendations:
        out += ["No recommendation applies to this scenario.", ""]
    for code in actors:
        name = report.scenario.countries.get(code, code)
        heading = f"Recommendations to {name} ({code})"
        out += [heading, "-" * len(heading), ""]
        for rec in (r for r in recommendations if code in r.actors):
            out += _recommendation(rec, width)
    if show_findings and report.findings:
        out += ["Findings", "--------", ""]
        for finding in report.findings:
            out += _wrap(f"* {finding.title} [{finding.finding}] — {finding.subject.name}", width, "", "  ")
            out += _wrap(finding.justification, width, "  ", "  ")
        out.append("")
    out.append(f"Rules: {report.ruleset.version} ({report.ruleset.digest})")
    return "\n".join(out) + "\n"


def _recommendation(rec: Recommendation, width: int) -> list[str]:
    lines = _wrap(f"* {rec.title} [{rec.rule}]", width, "", "  ")
    lines += _wrap(f"Concerns: {rec.subject.name} ({rec.subject.type} {rec.subject.key})", width, "  ", "    ")
    if rec.addressees:
        lines += _wrap(f"Also addressed to: {', '.join(rec.addressees)}", width, "  ", "    ")
    lines += _wrap(f"Why: {rec.justification}", width, "  ", "    ")
    if rec.evidence:
        lines.append("  Facts:")
        lines += _evidence(rec.evidence, width, "    ")
    if rec.because:
        lines.append("  Rests on:")
        for node in rec.because:
            lines += _finding_tree(node, width, "    ")
    lines += _wrap(f'Source ({rec.source.section}): "{rec.source.quote}"', width, "  ", "    ")
    lines.append("")
    return lines


def _finding_tree(node: FindingNode, width: int, indent: str) -> list[str]:
    lines = _wrap(f"- {node.title} [{node.finding}]: {node.justification}", width, indent, indent + "  ")
    lines += _evidence(node.evidence, width, indent + "  ")
    for child in node.because:
        lines += _finding_tree(child, width, indent + "  ")
    return lines


def _evidence(items: list[Evidence], width: int, indent: str) -> list[str]:
    lines: list[str] = []
    for item in items:
        values = ", ".join(f"{k}={display_value(v)}" for k, v in item.values.items())
        lines += _wrap(f"{item.fact} {item.key} ({item.name}): {values}" if values else f"{item.fact} {item.key} ({item.name})", width, indent, indent + "  ")
    return lines


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False) or [first.rstrip()]
