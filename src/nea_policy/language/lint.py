"""The rule linter: every problem of a set of rule folders at once, each with file, rule id, a stable code and what to do.

It runs the loader's own checks (unknown fields, values of the wrong type or outside their levels, unknown
findings, bad templates, missing quotes, id clashes: see rules.py) and adds what a loader need not refuse:
findings no rule uses, conditions that cannot all hold at once, and quotes that are not verbatim in the source text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Literal

from pydantic import BaseModel, Field

from nea_policy.errors import InputError, Problem, RuleError
from nea_policy.language.compiler import compile_ruleset, engine_limit_problems
from nea_policy.language.conditions import Comparison, Condition, FieldRef
from nea_policy.language.rules import (
    Pack,
    Rule,
    RuleSet,
    read_ruleset,
)
from nea_policy.model.display import safe_message, shown
from nea_policy.model.documents import load_document, read_text
from nea_policy.model.fact_types import FACT_TYPES, FieldSpec
from nea_policy.model.facts import LEVEL_ORDER

# Codes that are worth a look but do not make the rules wrong.
WARNING_CODES = frozenset({"unused_finding", "vacuous_absence"})

_RULE_PREFIX = re.compile(r"^rule ([a-z0-9][a-z0-9-]*): ")


class LintProblem(BaseModel):
    """One thing the linter found: where, in which rule, a stable code, what is wrong and what to do."""

    severity: Literal["error", "warning"]
    code: str
    location: str = Field(description="file:line (or file:line:col)")
    rule: str | None = Field(None, description="the rule's id, when the problem is in one rule")
    message: str
    hint: str = ""

    def __str__(self) -> str:
        rule = f"rule {self.rule}: " if self.rule else ""
        tail = f" ({self.hint})" if self.hint else ""
        return f"{self.location}: {self.severity}: {self.code}: {rule}{self.message}{tail}"


class LintResult(BaseModel):
    """Every problem of the rules checked, errors first."""

    rules_checked: int
    problems: list[LintProblem]

    @property
    def errors(self) -> list[LintProblem]:
        """The problems that make the rules wrong."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[LintProblem]:
        """The problems worth a look."""
        return [p for p in self.problems if p.severity == "warning"]

    def render(self) -> str:
        """One line per problem (a value from a rule file can neither act on the terminal nor start a line), then a summary."""
        lines = [safe_message(str(p)) for p in self.problems]
        lines.append(f"{self.rules_checked} rules checked: {len(self.errors)} errors, {len(self.warnings)} warnings")
        return "\n".join(lines) + "\n"


def lint_rules(
    dirs: list[str | Path] | None = None,
    extra: list[str | Path] | None = None,
    *,
    source: str | Path | None = None,
) -> LintResult:
    """Lint rule folders (default: the bundled rules) plus extra packs; `source` is the text quotes must come from.

    A pack whose pack.yaml names its own `source_text:` (a file beside pack.yaml) has its quotes checked against
    that text; the other packs' quotes are checked against `source` when it is given.
    """
    ruleset, load_problems = read_ruleset(dirs, extra)
    problems = [_from_problem(p) for p in load_problems]
    problems.extend(compile_problems(ruleset))
    problems.extend(unused_findings(ruleset))
    for rule in ruleset.rules:
        problems.extend(contradictions(rule))
    problems.extend(quote_problems(ruleset, source))
    problems.sort(key=lambda p: (p.severity != "error", _location_key(p.location), p.code))
    return LintResult(rules_checked=len(ruleset.rules), problems=problems)


def compile_problems(ruleset: RuleSet) -> list[LintProblem]:
    """What compiling the rules finds: a negation cycle, and every limit of durable_rules' network they go over."""
    try:
        compiled = compile_ruleset(ruleset, check_limits=False)
    except RuleError as exc:
        return [_from_problem(p) for p in exc.problems]
    return [_from_problem(p) for p in engine_limit_problems(compiled)]


def _from_problem(problem: Problem) -> LintProblem:
    match = _RULE_PREFIX.match(problem.message)
    rule = match.group(1) if match else None
    message = problem.message[match.end() :] if match else problem.message
    severity: Literal["error", "warning"] = "warning" if problem.code in WARNING_CODES else "error"
    return LintProblem(severity=severity, code=problem.code, location=problem.location, rule=rule, message=message, hint=problem.hint)


def _location_key(location: str) -> tuple[str, int]:
    parts = location.split(":")
    line = int(parts[1]) if len(parts) > 1 and parts[1].isascii() and parts[1].isdigit() else 0
    return parts[0], line


# --- findings nobody uses ----------------------------------------------------------------------------


def unused_findings(ruleset: RuleSet) -> list[LintProblem]:
    """A warning for each finding rule whose conclusion no rule needs or tests absent."""
    used = {f for rule in ruleset.rules for f in rule.needed_findings() | rule.negated_findings()}
    return [
        LintProblem(
            severity="warning",
            code="unused_finding",
            location=rule.location,
            rule=rule.id,
            message=f"no rule needs or tests the finding {rule.concludes!r}",
            hint="a recommendation can rest on it (facts: {x: finding:" + rule.concludes + "}); or keep it if it is meant only for the report",
        )
        for rule in ruleset.rules
        if rule.kind == "finding" and rule.concludes not in used
    ]


# --- conditions that cannot all hold --------------------------------------------------------------------

_FRESH = "\u0000fresh"


def contradictions(rule: Rule) -> list[LintProblem]:
    """An error when the rule's top-level conditions on one field cannot all hold; a warning for a vacuous absent block."""
    problems = []
    for ref, texts in _conflicts(rule.conditions, rule.aliases):
        problems.append(
            LintProblem(
                severity="error",
                code="unsatisfiable_conditions",
                location=rule.location,
                rule=rule.id,
                message=f"these conditions on {ref} cannot all hold at once, so the rule never fires: {'; '.join(texts)}",
                hint="remove or correct one of them",
            )
        )
    for absence in rule.absences:
        scope = {**rule.aliases, absence.alias: absence.fact_type}
        for ref, texts in _conflicts(absence.conditions, scope):
            problems.append(
                LintProblem(
                    severity="warning",
                    code="vacuous_absence",
                    location=rule.location,
                    rule=rule.id,
                    message=f"the conditions of absent {absence.finding or absence.fact_type} on {ref} cannot all hold, so nothing is ever absent-tested: {'; '.join(texts)}",
                    hint="correct the absent block's conditions",
                )
            )
    return problems


def _conflicts(conditions: Iterable[Condition], aliases: dict[str, str]) -> list[tuple[str, list[str]]]:
    """For each field tested against literals by several top-level comparisons, those that no value satisfies together."""
    by_field: dict[FieldRef, list[Comparison]] = {}
    for condition in conditions:
        if isinstance(condition, Comparison) and not condition.is_join and condition.left.alias in aliases:
            by_field.setdefault(condition.left, []).append(condition)
    found = []
    for ref, comparisons in by_field.items():
        if len(comparisons) < 2:
            continue
        spec = FACT_TYPES[aliases[ref.alias]].fields.get(ref.field)
        if spec is None:
            continue
        if not any(all(_satisfies(c, value, spec) for c in comparisons) for value in _probe_values(comparisons, spec)):
            found.append((str(ref), [c.text for c in comparisons]))
    return found


def _literals(comparison: Comparison) -> list[Any]:
    right = comparison.right
    if right is None or isinstance(right, FieldRef):
        return []
    return list(right) if isinstance(right, tuple) else [right]


def _probe_values(comparisons: list[Comparison], spec: FieldSpec) -> list[Any]:
    """Values that represent every region the comparisons can carve a field's domain into (plus 'missing')."""
    kind = spec.kind.removeprefix("list[").removesuffix("]")
    missing: list[Any] = [None]
    if spec.is_list:
        mentioned = [v for c in comparisons for v in _literals(c)]
        # A list value: each subset of the mentioned items (plus an unmentioned one) could be its content.
        subsets: list[Any] = []
        for size in range(len(mentioned) + 1):
            subsets.extend(_combinations(mentioned, size))
        return missing + [tuple(s) for s in subsets] + [tuple(s) + (_FRESH,) for s in subsets]
    if kind == "level":
        return missing + list(LEVEL_ORDER)
    if kind == "bool":
        return missing + [True, False]
    if kind == "enum":
        return missing + list(spec.values)
    constants = sorted({v for c in comparisons for v in _literals(c)}, key=repr)
    if kind == "number":
        numbers = sorted(v for v in constants if isinstance(v, (int, float)) and not isinstance(v, bool))
        probes: list[Any] = list(numbers)
        if numbers:
            probes += [numbers[0] - 1, numbers[-1] + 1] + [(a + b) / 2 for a, b in zip(numbers, numbers[1:])]
        else:
            probes.append(0)
        return missing + probes
    return missing + constants + [_FRESH]


def _combinations(items: list[Any], size: int) -> list[tuple[Any, ...]]:
    import itertools

    return list(itertools.combinations(list(dict.fromkeys(items)), size))


def _satisfies(comparison: Comparison, value: Any, spec: FieldSpec) -> bool:
    op = comparison.op
    if op == "is set":
        return value is not None
    if op == "is not set":
        return value is None
    if value is None:
        # The engine never matches a test on a missing field, whatever the operator.
        return False
    literals = _literals(comparison)
    if spec.is_list:
        return (literals[0] in value) == (op == "contains")
    rank = _ranker(spec)
    left = rank(value)
    if op == "in":
        return any(left == rank(v) for v in literals)
    if op == "not in":
        return all(left != rank(v) for v in literals)
    right = rank(literals[0])
    try:
        return {
            "==": left == right,
            "!=": left != right,
            ">": left > right,
            ">=": left >= right,
            "<": left < right,
            "<=": left <= right,
        }[op]
    except TypeError:
        return False


def _ranker(spec: FieldSpec) -> Any:
    if spec.kind == "level":
        return lambda v: LEVEL_ORDER.index(v) if v in LEVEL_ORDER else v
    return lambda v: v


# --- quotes ---------------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Whitespace collapsed to single spaces: quotes are compared with the source this way."""
    return " ".join(text.split())


def quote_problems(ruleset: RuleSet, source: str | Path | None) -> list[LintProblem]:
    """An error for each quote that is not verbatim in its pack's source text (or in `source`)."""
    texts: dict[str, str | None] = {}
    problems: list[LintProblem] = []
    default = normalise(read_text(source)) if source is not None else None
    for pack in ruleset.packs:
        own, problem = _pack_source(pack)
        if problem is not None:
            problems.append(problem)
        texts[pack.name] = own if own is not None else default
    for rule in ruleset.rules:
        text = texts.get(rule.pack)
        if text is None or not rule.quote:
            continue
        if normalise(rule.quote) not in text:
            problems.append(
                LintProblem(
                    severity="error",
                    code="quote_not_in_source",
                    location=rule.location,
                    rule=rule.id,
                    message=f"the quote is not verbatim in the source text: {_short(rule.quote)!r}",
                    hint="copy the passage exactly (only whitespace may differ); " + _closest_hint(rule.quote, text),
                )
            )
    return problems


def _pack_source(pack: Pack) -> tuple[str | None, LintProblem | None]:
    meta = Path(pack.path) / "pack.yaml"
    if not meta.exists():
        return None, None
    try:
        data = load_document(meta).data
    except InputError:
        return None, None  # the loader already reported it
    name = data.get("source_text") if isinstance(data, dict) else None
    if name is None:
        return None, None
    folder = Path(pack.path).resolve()
    path = (folder / str(name)).resolve()
    if not path.is_relative_to(folder):
        # A pack names the text its quotes come from; reading any file (/etc/passwd, /dev/zero) would show its words.
        return None, LintProblem(
            severity="error",
            code="source_outside_pack",
            location=str(meta),
            message=f"source_text {shown(name)}: resolves outside the pack's folder",
            hint="keep the text in the pack and name it relative to pack.yaml",
        )
    try:
        return normalise(read_text(path)), None
    except InputError as exc:
        return None, LintProblem(severity="error", code="source_not_found", location=str(meta), message=f"source_text {shown(name)}: {exc.problems[0].message}", hint="name a text file beside pack.yaml")


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _closest_hint(quote: str, text: str) -> str:
    words = normalise(quote).split(" ")
    # The longest run of the quote's opening words that is in the text shows where the copy went wrong.
    for cut in range(len(words) - 1, 0, -1):
        if " ".join(words[:cut]) in text:
            return f"the text matches up to {' '.join(words[max(0, cut - 4):cut])!r}, then differs"
    return "no part of its opening is in the text"
