"""HTML rendering of reports: one self-contained page (inline CSS, no scripts), every value escaped."""

from __future__ import annotations

import html

from nea_policy.model.report import FindingNode, Recommendation, Report
from nea_policy.render.markdown import (
    ARTICLE_PUBLISHER,
    ARTICLE_TITLE,
    ARTICLE_URL,
    cited_sections,
)
from nea_policy.render.text import actors_of, evidence_text, visible

_CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 56rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.5; }
h1, h2, h3, h4 { font-family: 'Helvetica Neue', Arial, sans-serif; line-height: 1.25; }
h1 { border-bottom: 2px solid #444; padding-bottom: .3rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: .95rem; }
th, td { border: 1px solid #bbb; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #eee; }
blockquote { margin: 1rem 0; padding: .5rem 1rem; border-left: 4px solid #8a8; background: #f6faf6; }
blockquote footer { font-style: italic; color: #555; margin-top: .3rem; }
code { font-family: Menlo, Consolas, monospace; font-size: .9em; background: #f2f2f2; padding: 0 .2em; }
.rec { margin-bottom: 2rem; }
.meta { color: #555; font-size: .95rem; }
.evidence { color: #335; font-size: .95rem; }
.tree, .tree ul { list-style: none; padding-left: 1.2rem; border-left: 1px dotted #999; }
.muted { color: #777; }
""".strip()


def h(text: object) -> str:
    """A value escaped for HTML text and attributes; controls and bidi marks written out as \\uXXXX so they cannot act."""
    return html.escape(visible(str(text)), quote=True)


def render_html(reports: list[Report], *, show_findings: bool = True, actor: str | None = None) -> str:
    """One HTML document for one or more reports."""
    title = reports[0].scenario.title if len(reports) == 1 else f"{len(reports)} scenarios"
    body = "\n".join(_report(report, show_findings, actor) for report in reports)
    sections = cited_sections(reports, show_findings=show_findings, actor=actor)
    versions = ", ".join(sorted({r.ruleset.version for r in reports}))
    cited = "; ".join(f"“{h(s)}”" for s in sections) or "none"
    references = (
        "<section><h2>References</h2><ol>"
        f"<li>“{h(ARTICLE_TITLE)}”. {h(ARTICLE_PUBLISHER)}. <a href=\"{h(ARTICLE_URL)}\">{h(ARTICLE_URL)}</a>. Sections cited: {cited}.</li>"
        f"<li>Recommendations derived with nea-policy, rules {h(versions)}.</li>"
        "</ol></section>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{h(title)} — policy recommendations</title>\n"
        f"<style>\n{_CSS}\n</style>\n</head>\n<body>\n{body}\n{references}\n</body>\n</html>\n"
    )


def _report(report: Report, show_findings: bool, actor: str | None) -> str:
    out: list[str] = ["<article>", f"<h1>{h(report.scenario.title)}</h1>"]
    if report.scenario.description:
        out.append(f"<p>{h(report.scenario.description)}</p>")
    countries = ", ".join(f"{h(name)} ({h(code)})" for code, name in report.scenario.countries.items())
    flows = ", ".join(f"<code>{h(f)}</code>" for f in report.scenario.flows) or "none"
    out += [
        "<section><h2>Scenario</h2><ul>",
        f"<li><strong>Countries:</strong> {countries}</li>",
        *([f"<li><strong>Parties:</strong> {', '.join(f'{h(name)} ({h(code)})' for code, name in report.scenario.parties.items())}</li>"] if report.scenario.parties else []),
        f"<li><strong>Flows:</strong> {flows}</li>",
        f"<li><strong>Rules:</strong> {h(report.ruleset.version)} (<code>{h(report.ruleset.digest)}</code>)</li>",
        "</ul></section>",
    ]
    recommendations, actors = actors_of(report, actor)
    out.append("<section><h2>Recommendations by actor</h2>")
    if not recommendations:
        out.append(f"<p>No recommendation is addressed to {h(actor)}.</p>" if actor else "<p>No recommendation applies to this scenario.</p>")
    else:
        out.append("<table><thead><tr><th>Actor</th><th>Recommendation</th><th>Concerns</th><th>Source section</th></tr></thead><tbody>")
        for code in actors:
            name = report.scenario.actor_name(code)
            for rec in (r for r in recommendations if code in r.actors):
                out.append(f"<tr><td>{h(name)} ({h(code)})</td><td>{h(rec.title)}</td><td>{h(rec.subject.name)}</td><td>{h(rec.source.section)}</td></tr>")
        out.append("</tbody></table>")
    out.append("</section>")
    for code in actors:
        name = report.scenario.actor_name(code)
        out.append(f"<section><h2>To {h(name)} ({h(code)})</h2>")
        for rec in (r for r in recommendations if code in r.actors):
            out.append(_recommendation(rec, show_findings))
        out.append("</section>")
    if show_findings and report.findings:
        out.append("<section><h2>Findings</h2><ul>")
        for finding in report.findings:
            out.append(f"<li><strong>{h(finding.title)}</strong> (<code>{h(finding.finding)}</code>, {h(finding.subject.name)}): {h(finding.justification)}</li>")
        out.append("</ul></section>")
    out.append("</article>")
    return "\n".join(out)


def _recommendation(rec: Recommendation, show_findings: bool) -> str:
    out = ['<div class="rec">', f"<h3>{h(rec.title)}</h3>"]
    meta = f"Rule <code>{h(rec.rule)}</code> · concerns {h(rec.subject.name)} ({h(rec.subject.type)} {h(rec.subject.key)})"
    if rec.addressees:
        meta += f" · also addressed to {h(', '.join(rec.addressees))}"
    out += [f'<p class="meta">{meta}</p>', f"<p><strong>Why.</strong> {h(rec.justification)}</p>"]
    if rec.evidence:
        out.append('<p><strong>Facts.</strong></p><ul class="evidence">')
        out += [f"<li>{h(evidence_text(item))}</li>" for item in rec.evidence]
        out.append("</ul>")
    if show_findings and rec.because:
        out.append('<p><strong>Rests on.</strong></p><ul class="tree">')
        out += [_finding(node) for node in rec.because]
        out.append("</ul>")
    out.append(f"<blockquote><p>{h(rec.source.quote)}</p><footer>— {h(rec.source.section)}</footer></blockquote>")
    out.append("</div>")
    return "\n".join(out)


def _finding(node: FindingNode) -> str:
    inner = "".join(f'<li class="evidence">{h(evidence_text(item))}</li>' for item in node.evidence)
    inner += "".join(_finding(child) for child in node.because)
    children = f"<ul>{inner}</ul>" if inner else ""
    return f"<li><strong>{h(node.title)}</strong> (<code>{h(node.finding)}</code>): {h(node.justification)}{children}</li>"
