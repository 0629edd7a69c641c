"""How values read for people: fact values in prose, and text made safe to show on a screen or in a message."""

from __future__ import annotations

import math
import re
from typing import Any

# C0/C1 controls (ESC starts terminal escape sequences) and the bidirectional formatting characters that can make
# text read differently from what it is ("Trojan Source"). Shown as \uXXXX so nothing in the facts can act on a
# terminal or reorder the output. Newlines and tabs are left to the callers' layout.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")

#: How much of a value an error message quotes, and of a message line a terminal is shown.
QUOTED_CHARS = 60
LINE_CHARS = 2000


def visible(text: str) -> str:
    """Text with control and bidi-formatting characters written out as \\uXXXX, so they cannot act on the reader's screen."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


#: How every output shows a fact the file does not give (evidence, explanations, comparisons).
NOT_SET = "not set"


def flat(text: Any) -> str:
    """Text on one line (each run of whitespace, newlines included, as one space), controls and bidi marks written out."""
    return visible(" ".join(str(text).split()))


def written_out(text: str) -> str:
    """Text kept on its line: controls and bidi marks as \\uXXXX, and newlines and tabs as \\n and \\t (a command line, a path)."""
    return visible(text.replace("\n", "\\n").replace("\t", "\\t"))


def shown(value: Any, limit: int = QUOTED_CHARS) -> str:
    """A value as a message quotes it: its repr, cut to about `limit` characters with its full size noted."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3 * limit:
        # str() of an integer over 4,300 digits raises; its size is what the reader needs anyway
        return f"a number of about {int(value.bit_length() * math.log10(2)) + 1:,} digits"
    if isinstance(value, str) and len(value) > limit:
        quoted = visible(repr(value[:limit]))
        return f"{quoted[:-1]}...{quoted[-1]} ({len(value):,} characters)"
    if isinstance(value, (list, tuple, dict, set)) and len(value) > 12:
        return f"a {type(value).__name__} of {len(value):,} items"
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print, inside a container
        return f"a {type(value).__name__} holding a number too long to print"
    text = visible(text)
    return text if len(text) <= 2 * limit else text[: 2 * limit] + f"... ({len(text):,} characters)"


def safe_message(text: str) -> str:
    """A message (maybe of several lines) made safe to print as one record on a terminal or in a log.

    Controls and bidi marks are written out, a line too long is cut with its size noted, and every continuation
    line is indented, so that no value inside a message can start a line of its own (a forged `error: ...`).
    """
    lines = visible(text).split("\n")
    out = []
    for index, line in enumerate(lines):
        if len(line) > LINE_CHARS:
            line = line[:LINE_CHARS] + f"... ({len(line):,} characters)"
        if index and not line.startswith((" ", "\t")):
            line = "    " + line
        out.append(line)
    return "\n".join(out)


_WINDOW = 80


def pointer(line: str, column: int) -> str:
    """The offending line under an error message, with a caret at the column (0-based).

    A long line (minified JSON, a runaway bracket) is cut to a window around the column, so an error never echoes
    megabytes; controls and bidi marks are shown as \\uXXXX so the line cannot act on the reader's terminal.
    """
    start = max(0, min(column - _WINDOW // 2, len(line) - _WINDOW)) if len(line) > _WINDOW else 0
    before = ("..." if start else "") + line[start:column]
    after = line[column : start + _WINDOW] + ("..." if start + _WINDOW < len(line) else "")
    shown_before = visible(before.replace("\t", " "))
    shown_after = visible(after.replace("\t", " "))
    return f"\n    {shown_before}{shown_after}\n    {' ' * len(shown_before)}^"


def display_value(value: Any) -> str:
    """How a fact value reads in prose."""
    if value is None:
        return NOT_SET
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(display_value(v) for v in value) if value else "none"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"
    return str(value)
