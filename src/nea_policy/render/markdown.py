"""Markdown rendering of reports: a document a student can paste into a paper, with a references section."""

from __future__ import annotations

import re

from nea_policy.model.report import FindingNode, Recommendation, Report
from nea_policy.render.text import actors_of, evidence_text, visible

ARTICLE_TITLE = "Cross-Border Human Flows in Northeast Asia"
ARTICLE_PUBLISHER = "Migration Policy Institute, Migration Information Source"
ARTICLE_URL = "https://www.migrationpolicy.org/article/cross-border-human-flows-northeast-asia"

# Characters that Markdown (CommonMark and GitHub) reads as formatting, links, HTML or table cells anywhere in a line.
# Brackets are escaped, so parentheses can never form a link; `_` only counts at a word's edge.
_SPECIAL = re.compile(r"([\\`*\[\]<>|~])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# What only counts at the start of a line (a heading, list item or numbered item).
_LEADING = re.compile(r"^([#+\-=]|\d+[.)])")


def md(text: str) -> str:
    """A value as literal Markdown text: formatting characters escaped, controls made visible, one line."""
    flat = " ".join(visible(str(text)).split()).replace("&", "&amp;")
    escaped = _SPECIAL.sub(lambda m: "\\" + m.group(0), flat)
    return _LEADING.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], escaped)


def render_markdown(reports: list[Report], *, show_findings: bool = True, actor: str | None = None) -> str:
    """One Markdown document for one or more reports."""
    parts = [_report(report, show_findings, actor) for report in reports]
    sections = cited_sections(reports, show_findings=show_findings, actor=actor)
    parts.append("## References\n\n" + _references(sections, reports))
    return "\n".join(parts)


def cited_sections(reports: list[Report], *, show_findings: bool, actor: str | None) -> list[str]:
    """The article's sections that the shown recommendations (and findings) quote, sorted."""
    found = {r.source.section for report in reports for r in actors_of(report, actor)[0]}
    if show_findings:
        found |= {f.source.section for report in reports for f in report.findings}
    return sorted(found)


def _report(report: Report, show_findings: bool, actor: str | None) -> str:
    out: list[str] = [f"# {md(report.scenario.title)}", ""]
    if report.scenario.description:
        out += [md(report.scenario.description), ""]
    countries = ", ".join(f"{md(name)} ({md(code)})" for code, name in report.scenario.countries.items())
    out += ["## Scenario", "", f"- **Countries:** {countries}"]
    if report.scenario.parties:
        out.append("- **Parties:** " + ", ".join(f"{md(name)} ({md(code)})" for code, name in report.scenario.parties.items()))
    out += [f"- **Flows:** {', '.join(md(f) for f in report.scenario.flows) or 'none'}"]
    out += [f"- **Rules:** {md(report.ruleset.version)} ({md(report.ruleset.digest)})", ""]
    recommendations, actors = actors_of(report, actor)
    out += ["## Recommendations by actor", ""]
    if not recommendations:
        out += [f"No recommendation is addressed to {md(actor)}." if actor else "No recommendation applies to this scenario.", ""]
    else:
        out += ["| Actor | Recommendation | Concerns | Source section |", "| --- | --- | --- | --- |"]
        for code in actors:
            name = report.scenario.actor_name(code)
            for rec in (r for r in recommendations if code in r.actors):
                out.append(f"| {md(name)} ({md(code)}) | {md(rec.title)} | {md(rec.subject.name)} | {md(rec.source.section)} |")
        out.append("")
    for code in actors:
        name = report.scenario.actor_name(code)
        out += [f"### To {md(name)} ({md(code)})", ""]
        for rec in (r for r in recommendations if code in r.actors):
            out += _recommendation(rec, show_findings)
    if show_findings and report.findings:
        out += ["## Findings", ""]
        for finding in report.findings:
            out += [f"- **{md(finding.title)}** (`{_code(finding.finding)}`, {md(finding.subject.name)}): {md(finding.justification)}"]
        out.append("")
    return "\n".join(out)


def _recommendation(rec: Recommendation, show_findings: bool) -> list[str]:
    out = [f"#### {md(rec.title)}", "", f"*Rule* `{_code(rec.rule)}` · *concerns* {md(rec.subject.name)} ({md(rec.subject.type)} {md(rec.subject.key)})"]
    if rec.addressees:
        out[-1] += f" · *also addressed to* {md(', '.join(rec.addressees))}"
    out += ["", f"**Why.** {md(rec.justification)}", ""]
    if rec.evidence:
        out += ["**Facts.**", ""] + [f"- {md(evidence_text(item))}" for item in rec.evidence] + [""]
    if show_findings and rec.because:
        out += ["**Rests on.**", ""]
        for node in rec.because:
            out += _finding(node, 0)
        out.append("")
    out += [f"> {md(rec.source.quote)}", ">", f"> — *{md(rec.source.section)}*", ""]
    return out


def _finding(node: FindingNode, depth: int) -> list[str]:
    pad = "  " * depth
    out = [f"{pad}- **{md(node.title)}** (`{_code(node.finding)}`): {md(node.justification)}"]
    for item in node.evidence:
        out.append(f"{pad}  - {md(evidence_text(item))}")
    for child in node.because:
        out += _finding(child, depth + 1)
    return out


def _code(text: str) -> str:
    # Inside a code span nothing is formatting, but a backtick would end it, a newline the line, a pipe the cell.
    return " ".join(visible(text).split()).replace("`", "'").replace("|", "\\|")


def _references(sections: list[str], reports: list[Report]) -> str:
    versions = sorted({r.ruleset.version for r in reports})
    listed = "; ".join(f"“{md(s)}”" for s in sections) or "none"
    return (
        f"1. “{md(ARTICLE_TITLE)}”. {md(ARTICLE_PUBLISHER)}. <{ARTICLE_URL}>. Sections cited: {listed}.\n"
        f"2. Recommendations derived with nea-policy, rules {md(', '.join(versions))}.\n"
    )
