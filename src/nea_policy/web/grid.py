"""The sweep as a grid: which facts of the form can be varied, and a sweep's result laid out as rows by columns.

The first varied fact runs down the rows, the second (if any) across the columns; each cell lists the
recommendations that hold at that point, and its shade is how many of them hold (a heat map drawn in HTML).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nea_policy.analysis.sweep import SweepResult
from nea_policy.model.display import display_value
from nea_policy.model.facts import LEVEL_ORDER
from nea_policy.web.form import FormView

#: Control kinds whose values a sweep can walk through (each a short, closed list).
SWEEPABLE = ("level", "bool", "enum")
#: Most points the page draws (a larger grid is refused with a message; the command line and API go further).
MAX_PAGE_POINTS = 400


@dataclass(frozen=True)
class SweepChoice:
    """A fact the sweep can vary: its field path, how the form names it, and its values as a fact file writes them."""

    path: str
    text: str
    values: tuple[str, ...]


def sweep_choices(form: FormView) -> list[SweepChoice]:
    """The form's facts that take one of a few values (levels, yes/no, choices), in form order."""
    found = []
    for section in form.sections:
        for entry in section.entries:
            for control in entry.controls:
                spec = control.spec
                if spec.kind not in SWEEPABLE or spec.structure:
                    continue
                values = LEVEL_ORDER if spec.kind == "level" else ("true", "false") if spec.kind == "bool" else spec.choices
                found.append(SweepChoice(control.name, f"{entry.one.capitalize()} {entry.heading}: {spec.label}", tuple(values)))
    return found


@dataclass(frozen=True)
class Cell:
    """One grid point: what holds there (recommendation id -> subjects), and its shade from 0 to 1."""

    values: dict[str, Any]
    holds: dict[str, list[str]]
    shade: float

    @property
    def count(self) -> int:
        """How many recommendations hold here."""
        return len(self.holds)


@dataclass(frozen=True)
class Grid:
    """A sweep laid out: row values, column values (one blank column for a one-fact sweep), cells by row."""

    result: SweepResult
    row_path: str
    column_path: str | None
    row_values: list[Any]
    column_values: list[Any]
    cells: list[list[Cell | None]]
    titles: dict[str, str]

    @staticmethod
    def shown(value: Any) -> str:
        """A value as the grid's headings show it."""
        return display_value(value)


def grid_of(result: SweepResult, titles: dict[str, str]) -> Grid:
    """The grid of a sweep over one or two facts (a point the sweep did not reach, when a time limit cut it short, is None)."""
    paths = list(result.vary)
    row_path = paths[0]
    column_path = paths[1] if len(paths) > 1 else None
    rows = list(result.vary[row_path])
    columns = list(result.vary[column_path]) if column_path else [None]
    most = max((len(p.holds) for p in result.points), default=0) or 1
    by_values = {tuple(repr(p.values[path]) for path in paths): p for p in result.points}
    cells: list[list[Cell | None]] = []
    for row in rows:
        line: list[Cell | None] = []
        for column in columns:
            key = (repr(row),) if column_path is None else (repr(row), repr(column))
            point = by_values.get(key)
            line.append(Cell(point.values, point.holds, len(point.holds) / most) if point is not None else None)
        cells.append(line)
    return Grid(result, row_path, column_path, rows, columns, cells, titles)


__all__ = ["MAX_PAGE_POINTS", "SWEEPABLE", "Cell", "Grid", "SweepChoice", "grid_of", "sweep_choices"]
