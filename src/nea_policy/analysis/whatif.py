"""What-if: change facts of a scenario by path (`flows.kp-to-cn.legal_status=regular`) and compare with the original."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from nea_policy.analysis.compare import Comparison, compare_reports
from nea_policy.engine.admission import engine_limits
from nea_policy.errors import InputError, Problem, ScenarioError
from nea_policy.model.documents import Document
from nea_policy.model.facts import Scenario, scenario_from_document
from nea_policy.model.paths import (
    Assignment,
    apply_assignments,
    blame,
    field_path,
    parse_assignment,
)
from nea_policy.model.report import Report

if TYPE_CHECKING:
    from nea_policy.engine.engine import Engine


class WhatIf(BaseModel):
    """The answer of what-if: the report of the changed scenario and what changed against the original."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    report: Report
    comparison: Comparison


def what_if(document: Document, assignments: list[str | Assignment], engine: Engine) -> tuple[Scenario, Scenario, Comparison]:
    """The scenario of a parsed fact file, the same with the assignments applied, and their comparison."""
    base, variant, result = what_if_report(document, assignments, engine)
    return base, variant, result.comparison


def what_if_report(document: Document, assignments: list[str | Assignment], engine: Engine) -> tuple[Scenario, Scenario, WhatIf]:
    """Like `what_if`, with the report of the changed scenario; assignments as `PATH=VALUE` text or Assignments."""
    limits = engine_limits(engine)
    base = scenario_from_document(document, limits=limits)
    parsed: list[Assignment] = []
    problems: list[Problem] = []
    for item in assignments:
        try:
            parsed.append(item if isinstance(item, Assignment) else parse_assignment(item))
        except InputError as exc:
            problems.extend(exc.problems)
    try:
        data = apply_assignments(document.data, parsed)
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    try:
        variant = scenario_from_document(Document(name=f"{document.name} (after --set)", data=data), limits=limits)
    except ScenarioError as exc:
        # Point at the --set that made the value, not at a line of the file that never held it.
        landing = {field_path(a, document.data): a for a in parsed}
        raise ScenarioError([blame(p, landing) for p in exc.problems]) from None
    variant_report = engine.evaluate(variant)
    comparison = compare_reports(engine.evaluate(base), variant_report, base, variant, engine.ruleset)
    if variant.title == base.title:
        comparison = comparison.model_copy(update={"variant": f"what if {', '.join(a.text for a in parsed)}"})
    return base, variant, WhatIf(report=variant_report, comparison=comparison)
