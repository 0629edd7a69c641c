"""How fact values read in prose (justifications, evidence, tables)."""

from __future__ import annotations

from typing import Any


def display_value(value: Any) -> str:
    """How a fact value reads in prose."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(display_value(v) for v in value) if value else "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
