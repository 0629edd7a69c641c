"""Sweeps for people and programs: the grid of which recommendations hold where, as text, Markdown or CSV."""

from __future__ import annotations

import csv
import io
import re

from nea_policy.analysis.sweep import SweepResult
from nea_policy.model.display import display_value, flat, visible
from nea_policy.render.markdown import md


def _table(result: SweepResult) -> tuple[list[str], list[list[str]]]:
    header = [*result.vary, *result.recommendations]
    rows = []
    for point in result.points:
        row = [display_value(v) for v in point.values.values()]
        row += [" ".join(point.holds.get(r, [])) or "-" for r in result.recommendations]
        rows.append(row)
    return header, rows


def render_sweep_text(result: SweepResult) -> str:
    """A plain-text table: one row per grid point, one column per recommendation (the subjects it holds for, or -)."""
    header, rows = _table(result)
    if not result.recommendations:
        header.append("recommendations")
        rows = [r + ["none"] for r in rows]
    # Each cell on one line: a value holding a newline must not start a row of its own.
    header, rows = [flat(h) for h in header], [[flat(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = [f"{flat(result.scenario)}: {len(result.points)} grid points", ""]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(visible(line) for line in lines) + "\n"


def render_sweep_markdown(result: SweepResult) -> str:
    """A Markdown table, for a paper."""
    header, rows = _table(result)

    def code(text: str) -> str:
        # Inside a code span nothing is formatting, but a backtick would end it and a pipe the cell.
        return flat(text).replace("`", "'").replace("|", "\\|")

    lines = [f"**{md(result.scenario)}**: {len(result.points)} grid points", ""]
    lines.append("| " + " | ".join(f"`{code(h)}`" for h in header) + " |")
    lines.append("|" + "---|" * len(header))
    for row in rows:
        lines.append("| " + " | ".join(md(c) for c in row) + " |")
    return "\n".join(visible(line) for line in lines) + "\n"


_NUMBER = re.compile(r"[-+]?[0-9][0-9_,.]*")


def _csv_cell(text: str) -> str:
    """A cell as a spreadsheet will read it: controls written out, and no formula (=, +, -, @ at the start) run."""
    text = visible(text)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def render_sweep_csv(result: SweepResult) -> str:
    """CSV for analysis: one row per grid point; a recommendation's cell lists its subjects (';'), empty when it does not hold."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_csv_cell(str(c)) for c in [*result.vary, *result.recommendations]])
    for point in result.points:
        values = [display_value(v) if not isinstance(v, bool) else str(v).lower() for v in point.values.values()]
        writer.writerow([_csv_cell(v) for v in values] + [";".join(point.holds.get(r, [])) for r in result.recommendations])
    return buffer.getvalue()


__all__ = ["render_sweep_csv", "render_sweep_markdown", "render_sweep_text"]
