"""One state of the page, worked out: the form of the scenario, its problems by field, the results, the guided turn.

`page_view` is what every request ends in: from a scenario's data (valid or not), the fields answered "don't know",
the mode and the scenario of the last valid edit, it builds what the templates draw. A scenario that does not
validate shows every problem beside its field and keeps the results of the last valid edit, marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nea_policy.api import Engine, Scenario, scenario_from_document
from nea_policy.errors import NeaPolicyError, Problem
from nea_policy.model.documents import Document
from nea_policy.web.edits import valid_scenario
from nea_policy.web.fields import FormFields
from nea_policy.web.form import FormView, Handles, build_form, control_path, handles_of, path_text
from nea_policy.web.guide import Guide, guide_of
from nea_policy.web.results import Results, results_of
from nea_policy.web.state import MAX_LINK_TOKEN, Mode, PageState, encode_state

FORM_NAME = "form"


@dataclass(frozen=True)
class FieldProblem:
    """A problem shown beside a field: the control (or entry, or row) it concerns by field path, and what to do."""

    path: str | None
    where: str
    code: str
    message: str
    hint: str = ""

    def as_json(self) -> dict[str, str | None]:
        """What the page's script places beside the field."""
        return {"path": self.path, "where": self.where, "code": self.code, "message": self.message, "hint": self.hint}


@dataclass
class PageView:
    """Everything one state of the page shows."""

    state: PageState
    token: str
    previous_token: str
    form: FormView
    problems: list[FieldProblem]
    results: Results | None
    stale: bool
    guide: Guide | None = None
    guide_problem: str = ""
    #: problems of a text or link that could not be opened, shown in the open panel
    open_problems: list[FieldProblem] = field(default_factory=list)
    #: what went wrong with the last action (an answer the scenario refuses, an edit that cannot be made)
    notice: str = ""

    @property
    def title(self) -> str:
        """The scenario's title (or a stand-in when it has none)."""
        title = self.state.scenario.get("title")
        return title if isinstance(title, str) and title.strip() else "Untitled scenario"

    @property
    def link(self) -> str | None:
        """The page's own URL for this state (None when the state is too large for a link)."""
        return f"/?s={self.token}" if len(self.token) <= MAX_LINK_TOKEN else None

    def annotations(self) -> dict[str, Any]:
        """What the page's script marks on the form: problems by field; in guided mode, greyed fields, "don't know" answers, the field asked."""
        guide = self.guide
        return {
            "errors": [p.as_json() for p in self.problems],
            "irrelevant": guide.irrelevant if guide else [],
            "unknown": guide.unknown if guide else [],
            "asking": guide.question.field if guide and guide.question else None,
        }


def _message(problem: Problem) -> str:
    """The message without the field path it starts with (the page shows it beside that field)."""
    if problem.path:
        head = path_text(problem.path)
        for prefix in (f"{head}: ", f"{head}[0]: ", f"{head}[1]: "):
            if problem.message.startswith(prefix):
                return problem.message[len(prefix) :]
    return problem.message


def field_problems(problems: list[Problem], handles: Handles) -> list[FieldProblem]:
    """Problems of the form's data, each placed at the control its path concerns."""
    out = []
    for problem in problems:
        path = control_path(problem.path, handles)
        out.append(FieldProblem(path, path or problem.location, problem.code, _message(problem), problem.hint))
    return out


def located_problems(problems: list[Problem]) -> list[FieldProblem]:
    """Problems of an opened text or link, where they are in it (line and column)."""
    return [FieldProblem(None, p.location, p.code, p.message, p.hint) for p in problems]


def validate(data: dict[str, Any]) -> tuple[Scenario | None, list[Problem]]:
    """The form's data as a Scenario, or every problem with its path into the data."""
    try:
        return scenario_from_document(Document(name=FORM_NAME, data=data)), []
    except NeaPolicyError as error:
        return None, list(error.problems)


def page_view(
    engine: Engine,
    fields: FormFields,
    data: dict[str, Any],
    *,
    unknown: list[str] | None = None,
    mode: Mode = "form",
    previous: dict[str, Any] | None = None,
    open_problems: list[FieldProblem] | None = None,
    notice: str = "",
) -> PageView:
    """The page for a scenario's data; `previous` is the data of the last valid edit (what `compare` compares with)."""
    scenario, problems = validate(data)
    handles = handles_of(data)
    form = build_form(data, fields)
    before = valid_scenario(previous) if previous is not None else None
    stale = False
    if scenario is not None:
        results: Results | None = results_of(engine, scenario, before)
    elif before is not None:
        results, stale = results_of(engine, before), True
    else:
        results = None
    guide = None
    guide_problem = ""
    unknown = list(unknown or [])
    if mode == "guided":
        if scenario is None:
            guide_problem = "Fix the problems marked in the form first: the questions come from a scenario that holds together."
        else:
            try:
                guide = guide_of(engine, data, unknown, fields, form)
                unknown = guide.unknown
            except NeaPolicyError as error:
                guide_problem = "; ".join(p.message for p in error.problems)
    state = PageState(scenario=data, unknown=unknown, mode=mode)
    last_valid = data if scenario is not None else (previous if before is not None else None)
    previous_token = encode_state(PageState(scenario=last_valid)) if last_valid is not None else ""
    return PageView(state, encode_state(state), previous_token, form, field_problems(problems, handles), results, stale, guide, guide_problem, list(open_problems or []), notice)


__all__ = ["FieldProblem", "PageView", "field_problems", "located_problems", "page_view", "validate"]
