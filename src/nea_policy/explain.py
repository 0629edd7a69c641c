"""Why and why not: the proof tree of a conclusion that holds, or, for one that does not, what stands in its way.

`explain` answers both halves: a recommendation or finding that holds comes with its proof tree (the Report's
own Recommendation / FindingNode, down to the facts, with the quotes) and the smallest verified changes that
would stop it; one that does not hold comes with `why_not` (per candidate binding, closest first, each
condition held / failed / missing with the actual value, recursing into needed findings that do not hold) and
the smallest verified changes that would make it fire (`counterfactuals.search`).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .counterfactuals import Counterfactuals, Limits, Situation, format_value, normalize_subject, resolve_target, search
from .matcher import FAILED, HELD, MISSING, BoundFact, Candidate, ConditionResult
from .report import FindingNode, Recommendation

if TYPE_CHECKING:
    from .engine import Engine
    from .facts import Scenario

#: Candidates shown per conclusion (closest first), and per needed finding when recursing.
SHOWN = 5
SHOWN_NESTED = 2


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CandidateReport(_Model):
    """One candidate binding of a rule: the facts it binds and each condition's outcome; needed findings explained."""

    rule: str
    subject: str | None
    binding: dict[str, BoundFact]
    results: list[ConditionResult]
    holds: bool
    failed: int
    missing: int
    needed: list[WhyNot] = Field(default_factory=list, description="why each needed finding that does not hold does not")


class WhyNot(_Model):
    """Why a conclusion does not hold (for a subject, or at all): its candidate bindings, closest first."""

    target: str
    kind: Literal["finding", "recommendation"]
    subject: str | None
    holds: bool = Field(description="whether it holds after all (then the candidates show what holds)")
    candidates: list[CandidateReport]
    total_candidates: int = Field(description="candidate bindings considered (those shown are the closest)")
    structural: bool = Field(description="whether the candidates follow the rule's joins (False: no binding joins, loose ones shown)")
    note: str | None = None


class Explanation(_Model):
    """The answer of `explain`: a proof when the conclusion holds, a why-not otherwise, and verified change sets."""

    scenario: str
    target: str
    kind: Literal["finding", "recommendation"]
    subject: str | None
    holds: bool
    proofs: list[Recommendation | FindingNode] = Field(default_factory=list)
    why_not: WhyNot | None = None
    changes: Counterfactuals | None = None

    def to_json(self) -> str:
        """Indented JSON."""
        return self.model_dump_json(indent=2) + "\n"


CandidateReport.model_rebuild()
WhyNot.model_rebuild()


def why_not(situation: Situation, conclusion: str, kind: str, subject: str | None = None, *, depth: int = 3, shown: int = SHOWN) -> WhyNot:
    """Per candidate binding of the rules concluding it, which conditions held, failed or are missing; closest first."""
    return _why_not(situation, conclusion, kind, normalize_subject(subject), depth, shown, frozenset())


def _why_not(situation: Situation, conclusion: str, kind: str, subject: str | None, depth: int, shown: int, seen: frozenset[tuple[str, str]]) -> WhyNot:
    holding = situation.holding(conclusion)
    holds = (subject in holding) if subject is not None else bool(holding)
    pool = situation.candidates(conclusion, subject)
    structural = True
    note = None
    if not pool:
        pool = situation.candidates(conclusion, subject, structural=False)
        structural = False
        note = "no combination of facts joins as the rule asks; the closest combinations are shown with the joins that fail"
        if not pool:
            types = sorted({t for r in situation.producers(conclusion) for a, t in r.aliases.items() if a not in r.finding_aliases})
            note = f"the scenario has no {' / '.join(types)} facts this rule could concern" + (f" with the subject {subject!r}" if subject else "")
    seen = seen | {(conclusion, subject or "*")}
    reports = []
    for candidate in pool[:shown]:
        reports.append(_candidate_report(situation, candidate, depth, seen))
    return WhyNot(target=conclusion, kind=kind, subject=subject, holds=holds, candidates=reports, total_candidates=len(pool), structural=structural, note=note)  # type: ignore[arg-type]


def _candidate_report(situation: Situation, candidate: Candidate, depth: int, seen: frozenset[tuple[str, str]]) -> CandidateReport:
    needed: list[WhyNot] = []
    if depth > 0:
        for result in candidate.results:
            if result.kind == "finding" and result.outcome == FAILED and result.finding is not None:
                key = (result.finding.finding, result.finding.subject)
                if key not in seen:
                    needed.append(_why_not(situation, key[0], "finding", key[1], depth - 1, SHOWN_NESTED, seen))
    return CandidateReport(
        rule=candidate.rule,
        subject=candidate.subject,
        binding=candidate.binding,
        results=candidate.results,
        holds=candidate.holds,
        failed=candidate.failed,
        missing=candidate.missing,
        needed=needed,
    )


def explain(
    engine: Engine, scenario: Scenario, rule_id: str, subject: str | None = None, *, file: str = "FILE", limits: Limits | None = None, changes: bool = True
) -> Explanation:
    """Proof tree when the conclusion holds (and what would stop it), why-not and what would make it fire otherwise."""
    conclusion, kind = resolve_target(engine, rule_id)
    subject = normalize_subject(subject)
    situation = Situation.of(engine, scenario, file)
    holding = situation.holding(conclusion)
    holds = (subject in holding) if subject is not None else bool(holding)
    proofs: list[Recommendation | FindingNode] = []
    if holds:
        proofs += [r for r in situation.report.recommendations if r.rule == conclusion and (subject is None or r.subject.key == subject)]
        proofs += [f for f in situation.report.findings if f.finding == conclusion and (subject is None or f.subject.key == subject)]
        found = search(situation, conclusion, subject, "stop", limits) if changes else None
        return Explanation(scenario=scenario.title, target=conclusion, kind=kind, subject=subject, holds=True, proofs=proofs, changes=found)  # type: ignore[arg-type]
    reason = why_not(situation, conclusion, kind, subject)
    found = search(situation, conclusion, subject, "fire", limits) if changes else None
    return Explanation(scenario=scenario.title, target=conclusion, kind=kind, subject=subject, holds=False, why_not=reason, changes=found)  # type: ignore[arg-type]


def explain_file(
    source: str,
    rule_id: str,
    subject: str | None = None,
    *,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
    max_bytes: int | None = None,
    stdin: IO[bytes] | None = None,
    limits: Limits | None = None,
) -> Explanation:
    """Read a fact file (or `-`), load the rules, and explain (what `nea-policy explain` calls)."""
    from .api import make_engine, read_scenario
    from .documents import DEFAULT_MAX_BYTES

    scenario = read_scenario(source, max_bytes=max_bytes or DEFAULT_MAX_BYTES, stdin=stdin)
    engine = make_engine(rules, extra_rules)
    return explain(engine, scenario, rule_id, subject, file=source if source != "-" else "FILE", limits=limits)


# --- rendering ---------------------------------------------------------------------------------------------

_MARK = {HELD: "ok", FAILED: "NO", MISSING: "??"}


def _actual(result: ConditionResult) -> str:
    if result.kind == "finding":
        return next(iter(result.actual.values()), "")
    if result.kind == "absent":
        return "exists: " + ", ".join(result.blocking) if result.blocking else "none exists"
    parts = []
    for read in result.reads:
        parts.append(f"{read.alias}.{read.field}={format_value(read.value) if read.present else 'not set'}")
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
            lines += _wrap(f"[{_MARK[result.outcome]}] {result.condition} — asks {result.expected}; actual {_actual(result)}", width, indent + "   ")
        for nested in candidate.needed:
            lines += _wrap(f"why not {nested.target} for {nested.subject}:", width, indent + "   ")
            lines += _why_not_lines(nested, indent + "     ", width)
    if reason.total_candidates > len(reason.candidates):
        lines += _wrap(f"({reason.total_candidates - len(reason.candidates)} more candidates, further away)", width, indent)
    return lines


def _wrap(text: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + "    ", break_on_hyphens=False, break_long_words=False) or [indent]


def _changes_lines(found: Counterfactuals | None, width: int) -> list[str]:
    if found is None:
        return []
    verb = "fire" if found.goal == "fire" else "stop holding"
    lines = ["", f"What would make it {verb} (each verified by evaluating the changed scenario):"]
    for index, change_set in enumerate(found.change_sets, 1):
        what = ", ".join(f"{c.path}: {format_value(c.old) if c.old is not None else 'not set'} -> {format_value(c.new)}" for c in change_set.changes)
        lines += _wrap(f"{index}. for {change_set.subject}: {what} ({change_set.facts_changed} fact(s), distance {change_set.distance})", width, "  ")
        lines += ["     " + change_set.command]
    if not found.change_sets:
        lines += _wrap(f"none found: {found.note}", width, "  ")
    lines += _wrap(f"(search: {found.proposed} proposed, {found.verified} evaluated, ended by: {found.stopped_by})", width, "  ")
    return lines


def render_explanation_text(explanation: Explanation, *, width: int = 100) -> str:
    """Plain text: the proof tree, or the why-not, then the verified change sets."""
    from .render_text import evidence_text, visible

    about = f" for {explanation.subject}" if explanation.subject else ""
    head = f"{explanation.kind} {explanation.target}{about}: {'holds' if explanation.holds else 'does not hold'} in {explanation.scenario}"
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
        lines += ["Why not — candidates, closest first ([ok] held, [NO] failed, [??] missing):", ""]
        lines += _why_not_lines(explanation.why_not, "", width)
    lines += _changes_lines(explanation.changes, width)
    return "\n".join(visible(line) for line in lines) + "\n"


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_explanation_markdown(explanation: Explanation) -> str:
    """Markdown: the proof tree as nested lists, or a table of conditions per candidate; change sets as code."""
    from .render_text import evidence_text, visible

    about = f" for `{explanation.subject}`" if explanation.subject else ""
    out = [f"## `{explanation.target}`{about}: {'holds' if explanation.holds else 'does not hold'}", "", f"Scenario: {_md(explanation.scenario)}", ""]

    def tree(node: FindingNode, depth: int) -> None:
        pad = "  " * depth
        out.append(f"{pad}- **{_md(node.title)}** (`{node.finding}`): {_md(node.justification)}")
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
            out += [f"### Candidate {index}: rule `{candidate.rule}`, {_md(_binding(candidate))}", ""]
            out += ["| condition | outcome | asks | actual |", "|---|---|---|---|"]
            for result in candidate.results:
                out.append(f"| `{_md(result.condition)}` | {result.outcome} | {_md(result.expected)} | {_md(_actual(result))} |")
            for nested in candidate.needed:
                out += ["", f"Why not `{nested.target}` for `{nested.subject}`:", ""]
                for inner in nested.candidates:
                    failing = "; ".join(f"`{r.condition}` {r.outcome} ({_md(_actual(r))})" for r in inner.results if r.outcome != HELD)
                    out.append(f"- rule `{inner.rule}` ({_md(_binding(inner))}): {failing or 'holds'}")
            out.append("")
    found = explanation.changes
    if found is not None:
        out += [f"### What would make it {'fire' if found.goal == 'fire' else 'stop holding'}", ""]
        for change_set in found.change_sets:
            out += [f"- for `{change_set.subject}` ({change_set.facts_changed} fact(s), distance {change_set.distance}):", "", "  ```sh", f"  {change_set.command}", "  ```"]
        if not found.change_sets:
            out.append(f"None found: {_md(found.note)}")
        out += ["", f"_Search: {found.proposed} proposed, {found.verified} evaluated, ended by: {found.stopped_by}._", ""]
    return "\n".join(visible(line) for line in out)


__all__ = ["CandidateReport", "Explanation", "WhyNot", "explain", "explain_file", "render_explanation_markdown", "render_explanation_text", "why_not"]
