"""Request bodies: read within the size limit, parsed by the library's document reader, validated where they stand.

A body is JSON, or YAML with `Content-Type: application/yaml`; either way it becomes a `Document` named `body`
(YAML keeps the line and column of every value). Scenarios inside a request (`{"scenario": ...}`) are read as
sub-documents of the body, so their problems keep the body's lines and get pointers from the body's root.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ValidationError, create_model

from nea_policy.errors import InputError, NeaPolicyError, Problem, ScenarioError
from nea_policy.model.documents import Document, PathKey, decode_bytes, parse_document
from nea_policy.model.facts import Scenario, scenario_from_document, validation_problems
from nea_policy.service.models import ScenarioRequest
from nea_policy.service.problems import InternalError, RequestError, path_of

BODY_NAME = "body"
JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


@dataclass(frozen=True)
class Body:
    """The raw bytes of a request body and the format its media type names (None: not named, guessed as stdin is)."""

    raw: bytes
    fmt: str | None


def _format_of(content_type: str | None) -> str | None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if not media:
        return None
    if media in JSON_TYPES or media.endswith("+json"):
        return "json"
    if media in YAML_TYPES or media.endswith("+yaml"):
        return "yaml"
    hint = "curl -d sends a form: add -H 'Content-Type: application/json', or use --json" if media == "application/x-www-form-urlencoded" else ""
    raise RequestError(
        [Problem("unsupported_media_type", f"the body is {media}; send the scenario as application/json, or as YAML with application/yaml", "Content-Type", hint)]
    )


def _too_large(limit: int) -> RequestError:
    return RequestError(
        [Problem("body_too_large", f"the request body is over the limit of {limit:,} bytes", BODY_NAME, "send a smaller scenario; the server's --max-bytes sets the limit")]
    )


async def read_body(request: Request) -> Body:
    """The request body, refused (413) as soon as it is over the limit, whether or not it declares its length."""
    limit: int = request.app.state.service.settings.max_bytes
    fmt = _format_of(request.headers.get("content-type"))
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return Body(b"".join(chunks), fmt)


def parse_body(body: Body) -> Document:
    """The body as a Document (JSON or YAML by its media type; without one, JSON when it starts with `{` or `[`)."""
    text = decode_bytes(body.raw, BODY_NAME)
    fmt = body.fmt or ("json" if text.lstrip().startswith(("{", "[")) else "yaml")
    return parse_document(text, BODY_NAME, fmt=fmt)


# --- where problems are ---------------------------------------------------------------------------------


def part(document: Document, path: PathKey) -> Document:
    """The value at `path` of a document as a document of its own, keeping the body's name and positions."""
    data: Any = document.data
    for key in path:
        data = data[key]
    size = len(path)
    positions = {p[size:]: at for p, at in document.positions.items() if p[:size] == path}
    return Document(name=document.name, data=data, positions=positions, lines=document.lines)


def place(error: NeaPolicyError, document: Document, prefix: PathKey = (), labels: Mapping[str, str] | None = None) -> NeaPolicyError:
    """The error with each problem placed in the body: its path under `prefix`; a location that is a pointer (`#/set/...`)
    or a command-line label (`--vary`, `--actor`; `labels` maps it to a pointer or another label) read as such."""
    if isinstance(error, InternalError):
        return error  # nothing of the input to point at
    placed = []
    for problem in error.problems:
        if problem.path is not None:
            placed.append(dataclasses.replace(problem, path=(*prefix, *problem.path)))
            continue
        where = problem.location
        label = next((labels[k] for k in (labels or {}) if where == k or where.startswith(f"{k} ")), None)
        where = label if label is not None else where
        if where.startswith("#/"):
            path = path_of(where)
            placed.append(dataclasses.replace(problem, location=document.locate(path), path=path))
        else:
            placed.append(dataclasses.replace(problem, location=where))
    return type(error)(placed)


@contextmanager
def located(document: Document, prefix: PathKey = (), labels: Mapping[str, str] | None = None) -> Iterator[None]:
    """Place the problems of any NeaPolicyError raised inside (see `place`)."""
    try:
        yield
    except NeaPolicyError as exc:
        raise place(exc, document, prefix, labels) from None


# --- requests that hold scenarios -----------------------------------------------------------------------


@cache
def _envelope(model: type[ScenarioRequest]) -> type[BaseModel]:
    """The request model with its scenario fields taken as they come (the fact model's reader checks them after)."""
    fields: dict[str, Any] = {name: (Any, ...) for name in model.SCENARIOS}
    if model.SCENARIO_LIST:
        fields[model.SCENARIO_LIST] = (list[Any], model.model_fields[model.SCENARIO_LIST])
    return create_model(f"{model.__name__}Envelope", __base__=model, **fields)


def read_request(model: type[ScenarioRequest], document: Document) -> tuple[Any, dict[str, Scenario]]:
    """The request (its scenario fields as raw data) and each of its scenarios; every problem of all of them at once."""
    if not isinstance(document.data, dict):
        raise InputError([Problem("not_a_mapping", f"the request must be a mapping with {', '.join(_field_names(model))}", document.locate(()), path=())])
    problems: list[Problem] = []
    request = None
    try:
        request = _envelope(model).model_validate(document.data)
    except ValidationError as exc:
        problems += validation_problems(exc, document, model)
    scenarios: dict[str, Scenario] = {}
    in_scenarios = False
    for name in model.SCENARIOS:
        if name not in document.data:
            continue  # the envelope already said it is missing
        try:
            scenarios[name] = scenario_from_document(part(document, (name,)))
        except NeaPolicyError as exc:
            problems += place(exc, document, (name,)).problems
            in_scenarios = True
    if problems:
        raise (ScenarioError if in_scenarios else InputError)(sorted(problems, key=_body_order))
    return request, scenarios


def _field_names(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _body_order(problem: Problem) -> tuple[int, int]:
    """Problems in the order of the body's lines (those without a line first, as the envelope's are)."""
    tail = problem.location.rsplit(":", 2)
    if len(tail) == 3 and tail[1].isdigit() and tail[2].isdigit():
        return int(tail[1]), int(tail[2])
    return 0, 0
