"""The page's Jinja2 templates: autoescaped, and every string from the input shown with control and bidi characters
written out (`visible`), so that nothing in a scenario can act on the page or reorder what it reads.

A form value is the one exception: it is escaped but kept as it is (`|raw`), so that posting the form back gives
the same data.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from nea_policy.model.display import display_value, visible
from nea_policy.render.text import evidence_text

_EMPHASIS = re.compile(r"\*([^*]+)\*")


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return visible(value)
    return value


def _raw(value: Any) -> Markup:
    """A form value escaped for HTML but otherwise as it is (it round-trips through the form)."""
    return Markup(escape("" if value is None else str(value)))


def _emphasis(text: str) -> Markup:
    """The interview's reasons mark rule titles as *Title*: shown as emphasis, everything else escaped."""
    escaped = str(escape(visible(text)))
    return Markup(_EMPHASIS.sub(r"<em>\1</em>", escaped))


def _change_list(changes: Any) -> list[dict[str, Any]]:
    """A verified change set as the page applies it: each change's path and new value."""
    return [{"path": change.path, "new": change.new} for change in changes]


def _shown(value: Any) -> str:
    """A fact value as prose shows it ("not set", "yes", "high")."""
    return display_value(value)


@cache
def environment() -> Environment:
    """The templates' environment (one per process)."""
    env = Environment(
        loader=PackageLoader("nea_policy.web", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(change_list=_change_list, raw=_raw, emphasis=_emphasis, shown=_shown, evidence=evidence_text, visible=visible)
    return env


def render(name: str, **context: Any) -> str:
    """A template rendered with the context."""
    return environment().get_template(name).render(**context)


__all__ = ["environment", "render"]
