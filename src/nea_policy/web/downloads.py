"""What a student takes away: the scenario as a fact file (YAML) and its report as Markdown, HTML or JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from nea_policy.api import Engine, load_scenario
from nea_policy.errors import InputError
from nea_policy.model.paths import MODELS
from nea_policy.render.html import render_html
from nea_policy.render.markdown import render_markdown

#: What can be downloaded: the file's kind -> media type.
KINDS = {
    "scenario.yaml": "application/yaml; charset=utf-8",
    "report.md": "text/markdown; charset=utf-8",
    "report.html": "text/html; charset=utf-8",
    "report.json": "application/json",
}


@dataclass(frozen=True)
class Download:
    """A file to download: its name, media type and text."""

    filename: str
    media_type: str
    text: str


def slug(title: Any) -> str:
    """A file name stem from a title: "North Koreans in China" -> "north-koreans-in-china"."""
    words = re.sub(r"[^a-z0-9]+", "-", str(title or "").lower()).strip("-")
    return words[:60].strip("-") or "scenario"


def scenario_yaml(data: dict[str, Any]) -> str:
    """The scenario's data as a fact file, its fields in the fact model's order (it passes `nea-policy check` when valid)."""
    ordered: dict[str, Any] = {key: data[key] for key in ("title", "description") if key in data}
    for collection, model in MODELS.items():
        entries = data.get(collection)
        if entries or collection == "countries":
            order = list(model.model_fields)
            ordered[collection] = [
                {**{k: entry[k] for k in order if k in entry}, **{k: v for k, v in entry.items() if k not in order}} if isinstance(entry, dict) else entry
                for entry in entries or []
            ]
    head = "# Written by the nea-policy page. Check it: nea-policy check FILE; evaluate it: nea-policy evaluate FILE\n"
    return head + yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)


def download(engine: Engine, data: dict[str, Any], kind: str) -> Download:
    """The file of one kind for a scenario's data; a report needs a valid scenario (else its problems, as a ScenarioError)."""
    if kind not in KINDS:
        raise InputError(f"no download {kind!r}; choose one of {', '.join(KINDS)}", code="unknown_download", location=kind)
    stem = slug(data.get("title"))
    if kind == "scenario.yaml":
        return Download(f"{stem}.yaml", KINDS[kind], scenario_yaml(data))
    report = engine.evaluate(load_scenario(data))
    text = {"report.md": lambda: render_markdown([report]), "report.html": lambda: render_html([report]), "report.json": report.to_json}[kind]()
    return Download(f"{stem}-report.{kind.rsplit('.', 1)[1]}", KINDS[kind], text)


__all__ = ["KINDS", "Download", "download", "scenario_yaml", "slug"]
