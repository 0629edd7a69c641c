"""Where a scenario on the page comes from: a bundled example, the template of `nea-policy new`, or a file's text.

The examples ship inside the package (`web/examples/`, the same files as the repository's `examples/`, which a test
keeps equal), so an installed page has them without the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from nea_policy.api import Document
from nea_policy.authoring.template import scenario_template
from nea_policy.errors import InputError
from nea_policy.model.documents import parse_document

#: The name a pasted or uploaded text goes by in problems ("pasted:4:5: ...").
PASTED = "pasted"


@dataclass(frozen=True)
class Example:
    """A bundled example: its name (the file's stem, as `/?example=NAME` takes it) and title."""

    name: str
    title: str


def _folder() -> Any:
    return resources.files("nea_policy.web") / "examples"


@cache
def examples() -> tuple[Example, ...]:
    """The bundled examples, by title."""
    found = []
    for item in _folder().iterdir():
        if item.name.endswith(".yaml"):
            data = yaml.safe_load(item.read_text(encoding="utf-8"))
            found.append(Example(item.name[: -len(".yaml")], str(data.get("title", item.name))))
    return tuple(sorted(found, key=lambda e: e.title))


def example_document(name: str) -> Document:
    """The parsed example `name`; an InputError naming the examples there are when there is no such one."""
    names = [e.name for e in examples()]
    if name not in names:
        raise InputError(f"there is no example {name!r}", code="unknown_example", location="?example", hint=f"examples: {', '.join(names)}")
    return parse_document((_folder() / f"{name}.yaml").read_text(encoding="utf-8"), f"{name}.yaml", fmt="yaml")


def template_document() -> Document:
    """The scenario template `nea-policy new` writes, parsed."""
    return parse_document(scenario_template(), "template.yaml", fmt="yaml")


def text_document(text: str, filename: str | None = None) -> Document:
    """A pasted or uploaded fact file: JSON when it starts with `{` (or the file is named .json), else YAML."""
    name = filename or PASTED
    fmt = "json" if text.lstrip().startswith(("{", "[")) or name.lower().endswith(".json") else "yaml"
    return parse_document(text, name, fmt=fmt)


__all__ = ["PASTED", "Example", "example_document", "examples", "template_document", "text_document"]
