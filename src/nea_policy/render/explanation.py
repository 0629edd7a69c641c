"""Explanations for people: the proof tree or the why-not of `explain`, and its verified change sets, as text or Markdown."""

from __future__ import annotations

import textwrap
from typing import Any

from nea_policy.analysis.counterfactuals import DISTANCE_NOTE, Counterfactuals, format_value
from nea_policy.analysis.explain import CandidateReport, Explanation, WhyNot
from nea_policy.analysis.matcher import FAILED, HELD, MISSING, ConditionResult
from nea_policy.model.display import NOT_SET, flat, visible, written_out
from nea_policy.model.report import FindingNode, Recommendation
from nea_policy.render.markdown import md
from nea_policy.render.text import evidence_text

_MARK = {HELD: "ok", FAILED: "NO", MISSING: "??"}


def _actual(result: ConditionResult) -> str:
    if result.kind == "finding":
        return next(iter(result.actual.values()), "")
    if result.kind == "absent":
        return "exists: " + ", ".join(result.blocking) if result.blocking else "none exists"
    parts = []
    for read in result.reads:
        parts.append(f"{read.alias}.{read.field}={format_value(read.value) if read.present else NOT_SET}")
    return ", ".join(dict.fromkeys(parts))


def _binding(candidate: CandidateReport) -> str:
    return ", ".join(f"{alias}={b.fact} {b.key}" for alias, b in candidate.binding.items() if b.fact != "finding")


def _why_not_lines(reason: WhyNot, indent: str, width: int) -> list[str]:
    lines: list[str] = []
    about = f" for {reason.subject}" if reason.subject else ""
    if reason.note:
        lines += _wrap(f"({reason.note})", width, indent)
    for index, candidate in enumerate(reason.candidates, 1):
        status = "holds" if candidate.holds else f"{candidate.failed} failed, {candidate.missing} missing"
        lines += _wrap(f"{index}. rule {candidate.rule}{about if not candidate.subject else ' for ' + candidate.subject}: {_binding(candidate)} ({status})", width, indent)
        for result in candidate.results:
            lines += _result_lines(result, width, indent + "   ")
        for nested in candidate.needed:
            lines += _wrap(f"why not {nested.target} for {nested.subject}:", width, indent + "   ")
            lines += _why_not_lines(nested, indent + "     ", width)
    if reason.total_candidates > len(reason.candidates):
        lines += _wrap(f"({reason.total_candidates - len(reason.candidates)} more candidates, further away)", width, indent)
    return lines


def _result_lines(result: ConditionResult, width: int, indent: str) -> list[str]:
    """A condition's outcome in words first, the condition as written after it; an any: group with its branches below."""
    if result.kind != "any":
        return _wrap(f"[{_MARK[result.outcome]}] {_sentence(result)} [{result.condition}]", width, indent)
    lines = _wrap(f"[{_MARK[result.outcome]}] {_sentence(result)}:", width, indent)
    for index, branch in enumerate(result.branches):
        for position, item in enumerate(branch):
            joint = "and " if position else ("or  " if index else "    ")
            lines += _wrap(f"{joint}[{_MARK[item.outcome]}] {_sentence(item)} [{item.condition}]", width, indent + "  ")
    return lines


def _sentence(result: ConditionResult) -> str:
    # Results built without words (a matcher called directly) fall back to the condition and its values.
    return result.sentence or f"{result.condition}: asks {result.expected}; actual {_actual(result)}"


def _wrap(text: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + "    ", break_on_hyphens=False, break_long_words=False) or [indent]


def _changes_lines(found: Counterfactuals | None, width: int) -> list[str]:
    if found is None:
        return []
    verb = "fire" if found.goal == "fire" else "stop holding"
    lines = ["", f"What would make it {verb} (each verified by evaluating the changed scenario):"]
    if found.change_sets:
        lines += _wrap(f"distance = {DISTANCE_NOTE}", width, "  ")
    for index, change_set in enumerate(found.change_sets, 1):
        what = ", ".join(f"{c.path}: {format_value(c.old) if c.old is not None else NOT_SET} -> {format_value(c.new)}" for c in change_set.changes)
        facts = f"{change_set.facts_changed} fact{'s' if change_set.facts_changed != 1 else ''} changed"
        lines += _wrap(f"{index}. for {change_set.subject}: {what} ({facts}, distance {change_set.distance})", width, "  ")
        lines += ["     " + written_out(change_set.command)]
    if not found.change_sets:
        lines += _wrap(f"none found: {found.note}", width, "  ")
    lines += _wrap(f"(search: {found.proposed} proposed, {found.verified} evaluated, ended by: {found.stopped_by})", width, "  ")
    return lines


def render_explanation_text(explanation: Explanation, *, width: int = 100) -> str:
    """Plain text: the proof tree, or the why-not, then the verified change sets."""
    about = f" for {explanation.subject}" if explanation.subject else ""
    head = flat(f"{explanation.kind} {explanation.target}{about}: {'holds' if explanation.holds else 'does not hold'} in {explanation.scenario}")
    lines = [head, "=" * min(len(head), width), ""]
    def tree(node: FindingNode, indent: str) -> None:
        lines.extend(_wrap(f"- {node.title} [{node.finding}, rule {node.rule}] — {node.subject.name}: {node.justification}", width, indent))
        for item in node.evidence:
            lines.extend(_wrap(evidence_text(item), width, indent + "    "))
        for child in node.because:
            tree(child, indent + "  ")

    if explanation.holds:
        for proof in explanation.proofs:
            if isinstance(proof, Recommendation):
                lines += _wrap(f"* {proof.title} [{proof.rule}] — {proof.subject.name} ({proof.subject.type} {proof.subject.key})", width, "")
                lines += _wrap(f"Addressed to: {', '.join(proof.actors)}", width, "  ")
                lines += _wrap(f"Why: {proof.justification}", width, "  ")
                lines.append("  Facts:")
                for item in proof.evidence:
                    lines += _wrap(evidence_text(item), width, "    ")
                if proof.because:
                    lines.append("  Rests on:")
                    for node in proof.because:
                        tree(node, "    ")
            else:
                tree(proof, "")
            lines += _wrap(f'Source ({proof.source.section}): "{proof.source.quote}"', width, "  ")
            lines.append("")
    elif explanation.why_not is not None:
        lines += ["Why not — candidates, closest first ([ok] held, [NO] failed, [??] missing from the file):", ""]
        lines += _why_not_lines(explanation.why_not, "", width)
    lines += _changes_lines(explanation.changes, width)
    return "\n".join(visible(line) for line in lines) + "\n"


def _md(text: Any) -> str:
    # Every value from the facts or the rules, as literal Markdown: no HTML, no link, one line, table-safe.
    return md(str(text))


def _code(text: Any) -> str:
    """Text for inside a code span (nothing is formatting there): one line, no backtick to end it, table-safe."""
    return flat(text).replace("`", "'").replace("|", "\\|")


def render_explanation_markdown(explanation: Explanation) -> str:
    """Markdown: the proof tree as nested lists, or a table of conditions per candidate; change sets as code."""
    about = f" for `{_code(explanation.subject)}`" if explanation.subject else ""
    out = [f"## `{_code(explanation.target)}`{about}: {'holds' if explanation.holds else 'does not hold'}", "", f"Scenario: {_md(explanation.scenario)}", ""]

    def tree(node: FindingNode, depth: int) -> None:
        pad = "  " * depth
        out.append(f"{pad}- **{_md(node.title)}** (`{_code(node.finding)}`): {_md(node.justification)}")
        for item in node.evidence:
            out.append(f"{pad}  - {_md(evidence_text(item))}")
        for child in node.because:
            tree(child, depth + 1)

    for proof in explanation.proofs:
        if isinstance(proof, Recommendation):
            out += [f"### {_md(proof.title)} — {_md(proof.subject.name)}", "", _md(proof.justification), ""]
            out += [f"- {_md(evidence_text(item))}" for item in proof.evidence]
            for node in proof.because:
                tree(node, 0)
            out += ["", f"> {_md(proof.source.quote)} ({_md(proof.source.section)})", ""]
        else:
            tree(proof, 0)
            out.append("")
    if explanation.why_not is not None:
        reason = explanation.why_not
        if reason.note:
            out += [f"_{_md(reason.note)}_", ""]
        for index, candidate in enumerate(reason.candidates, 1):
            out += [f"### Candidate {index}: rule `{_code(candidate.rule)}`, {_md(_binding(candidate))}", ""]
            out += ["| condition, in words | outcome | as written |", "|---|---|---|"]
            for result in candidate.results:
                out.append(f"| {_md(_sentence(result))} | {result.outcome} | `{_code(result.condition)}` |")
                for branch in result.branches:
                    out += [f"| — {'or ' if i == 0 and branch is not result.branches[0] else ''}{_md(_sentence(item))} | {item.outcome} | `{_code(item.condition)}` |" for i, item in enumerate(branch)]
            for nested in candidate.needed:
                out += ["", f"Why not `{_code(nested.target)}` for `{_code(nested.subject)}`:", ""]
                for inner in nested.candidates:
                    failing = "; ".join(f"{_md(_sentence(r))} (`{_code(r.condition)}`)" for r in inner.results if r.outcome != HELD)
                    out.append(f"- rule `{_code(inner.rule)}` ({_md(_binding(inner))}): {failing or 'holds'}")
            out.append("")
    found = explanation.changes
    if found is not None:
        out += [f"### What would make it {'fire' if found.goal == 'fire' else 'stop holding'}", ""]
        for change_set in found.change_sets:
            out += [f"- for `{_code(change_set.subject)}` ({change_set.facts_changed} fact(s) changed, distance {change_set.distance}):", "", "  ```sh", f"  {written_out(change_set.command)}", "  ```"]
        if found.change_sets:
            out += ["", f"_Distance: {_md(DISTANCE_NOTE)}._"]
        if not found.change_sets:
            out.append(f"None found: {_md(found.note)}")
        out += ["", f"_Search: {found.proposed} proposed, {found.verified} evaluated, ended by: {found.stopped_by}._", ""]
    return "\n".join(visible(line) for line in out)


__all__ = ["render_explanation_markdown", "render_explanation_text"]
