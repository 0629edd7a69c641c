"""Filling justification templates safely: `{alias.field}` is replaced by the matched value, nothing else is interpreted."""

from __future__ import annotations

from typing import Any, Callable

from .rules import TEMPLATE_FIELD


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


def fill(template: str, lookup: Callable[[str, str], Any]) -> str:
    """Replace each `{alias.field}` with lookup(alias, field); braces in the values are kept as they are."""
    # re.sub with a function inserts the returned text literally: values are never parsed as templates.
    return TEMPLATE_FIELD.sub(lambda m: display_value(lookup(m.group(1), m.group(2))), " ".join(template.split()))
