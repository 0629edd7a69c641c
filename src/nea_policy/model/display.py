"""How values read for people: fact values in prose, and text made safe to show on a screen."""

from __future__ import annotations

import re
from typing import Any

# C0/C1 controls (ESC starts terminal escape sequences) and the bidirectional formatting characters that can make
# text read differently from what it is ("Trojan Source"). Shown as \uXXXX so nothing in the facts can act on a
# terminal or reorder the output. Newlines and tabs are left to the callers' layout.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def visible(text: str) -> str:
    """Text with control and bidi-formatting characters written out as \\uXXXX, so they cannot act on the reader's screen."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


#: How every output shows a fact the file does not give (evidence, explanations, comparisons).
NOT_SET = "not set"


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
