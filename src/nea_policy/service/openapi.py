"""The OpenAPI document: the library's pydantic models as schemas, every request body, answer and problem declared.

The endpoints read their bodies themselves (JSON or YAML, through the fact model's reader), so FastAPI does not see
the models; their JSON Schemas are made here in one pass of pydantic's generator (names never clash, e.g. the two
`FactChange` models) and each operation names its body, answer and problem statuses (422 included, so that schema
testing does not take a validation error for a surprise).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

from nea_policy.analysis.compare import Comparison
from nea_policy.analysis.counterfactuals import Counterfactuals
from nea_policy.analysis.explain import Explanation, WhyNot
from nea_policy.analysis.interview import InterviewStep
from nea_policy.analysis.sweep import SweepResult
from nea_policy.analysis.whatif import WhatIf
from nea_policy.language.rule_docs import RuleDoc, RuleSummary
from nea_policy.language.rules import bundled_rules_dir
from nea_policy.model.documents import load_document
from nea_policy.model.facts import Scenario
from nea_policy.model.report import Report
from nea_policy.service import models
from nea_policy.service.body import JSON_TYPES, YAML_TYPES
from nea_policy.service.decisions import DECISION_HEADER, DIGEST_HEADER, VERSION_HEADER
from nea_policy.service.problems import PROBLEM_MEDIA_TYPE, TITLES, ProblemDetail

#: Every schema of the document: name -> (type, the mode it is read or written in).
SCHEMAS: dict[str, tuple[Any, JsonSchemaMode]] = {
    "Scenario": (Scenario, "validation"),
    "ExplainRequest": (models.ExplainRequest, "validation"),
    "InterviewNextRequest": (models.InterviewNextRequest, "validation"),
    "InterviewStep": (InterviewStep, "serialization"),
    "WhyNotRequest": (models.WhyNotRequest, "validation"),
    "CounterfactualsRequest": (models.CounterfactualsRequest, "validation"),
    "WhatIfRequest": (models.WhatIfRequest, "validation"),
    "CompareRequest": (models.CompareRequest, "validation"),
    "SweepRequest": (models.SweepRequest, "validation"),
    "BatchRequest": (models.BatchRequest, "validation"),
    "Report": (Report, "serialization"),
    "CheckReport": (models.CheckReport, "serialization"),
    "Explanation": (Explanation, "serialization"),
    "WhyNot": (WhyNot, "serialization"),
    "Counterfactuals": (Counterfactuals, "serialization"),
    "WhatIf": (WhatIf, "serialization"),
    "Comparison": (Comparison, "serialization"),
    "SweepResult": (SweepResult, "serialization"),
    "BatchResponse": (models.BatchResponse, "serialization"),
    "RuleList": (list[RuleSummary], "serialization"),
    "RuleDoc": (RuleDoc, "serialization"),
    "JsonSchema": (dict[str, Any], "serialization"),
    "Health": (models.Health, "serialization"),
    "VersionInfo": (models.VersionInfo, "serialization"),
    "ProblemDetail": (ProblemDetail, "serialization"),
}
_REF = "#/components/schemas/{model}"


@cache
def _bundled(name: str) -> dict[str, Any]:
    """A scenario shipped with the package (the bundled rule tests' scenarios are the examples' twins)."""
    return load_document(bundled_rules_dir() / "tests" / "scenarios" / f"{name}.yaml").data  # type: ignore[no-any-return]


def example(kind: str) -> dict[str, Any]:
    """A request body that works, for the docs page's "Try it out" and for schema testing's example phase."""
    nk = _bundled("north-koreans-in-china")
    regular = {**nk, "flows": [{**nk["flows"][0], "legal_status": "regular"}]}
    # the structure of the North Korean case (who and where), with no fact known yet: the interview's first turn
    structure = {
        "title": nk["title"],
        "countries": [{"code": c["code"], "name": c["name"]} for c in nk["countries"]],
        "relations": [{"between": r["between"]} for r in nk.get("relations", [])],
        "flows": [{k: f[k] for k in ("id", "name", "origin", "destination") if k in f} for f in nk["flows"]],
    }
    bodies: dict[str, dict[str, Any]] = {
        "Scenario": nk,
        "ExplainRequest": {"scenario": nk, "rule": "semi-resident-status"},
        "InterviewNextRequest": {"scenario": structure, "unknown": []},
        "WhyNotRequest": {"scenario": regular, "rule": "identify-refugees"},
        "CounterfactualsRequest": {"scenario": nk, "rule": "identify-refugees", "goal": "stop"},
        "WhatIfRequest": {"scenario": nk, "set": {"flows.kp-to-cn.legal_status": "regular"}},
        "CompareRequest": {"before": nk, "after": regular},
        "SweepRequest": {"scenario": nk, "vary": {"flows.kp-to-cn.legal_status": ["regular", "irregular", "unclear"], "flows.kp-to-cn.fear_of_exposure": ["moderate", "high"]}},
        "BatchRequest": {"scenarios": [nk, _bundled("russians-in-japan")]},
    }
    return bodies[kind]


@cache
def _generated() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """(schema of each name, the components they refer to), from one run of pydantic's generator."""
    generator = GenerateJsonSchema(ref_template=_REF)
    inputs = [(name, mode, TypeAdapter(kind).core_schema) for name, (kind, mode) in SCHEMAS.items()]
    mapping, definitions = generator.generate_definitions(inputs)
    return {name: mapping[(name, mode)] for name, (_, mode) in SCHEMAS.items()}, dict(definitions)


def schema(name: str) -> dict[str, Any]:
    """The schema (usually a $ref) of one of SCHEMAS."""
    return _generated()[0][name]


_DECISION_HEADERS = {
    DECISION_HEADER: {"description": "id of this decision (the decision log's decision_id)", "schema": {"type": "string"}},
    VERSION_HEADER: {"description": "version of the rules that decided", "schema": {"type": "string"}},
    DIGEST_HEADER: {"description": "digest of the rule files that decided", "schema": {"type": "string"}},
}
_PROBLEM_WORDS = {
    400: "the body is not UTF-8 JSON or YAML",
    404: "no such rule (the problem's hint names the closest ids)",
    413: "the body is over the server's --max-bytes",
    415: "the body is neither JSON nor YAML",
    422: "the request or a scenario in it is not valid: every problem, each with its location and JSON pointer",
    500: "an unexpected failure; `error_id` is what the server's logs carry",
}


def _problem(status: int) -> dict[str, Any]:
    return {"description": f"{TITLES[status]}: {_PROBLEM_WORDS.get(status, '')}".rstrip(": "), "content": {PROBLEM_MEDIA_TYPE: {"schema": schema("ProblemDetail")}}}


def operation(answer: str, *, body: str | None = None, statuses: tuple[int, ...] = (), decision: bool = False, more: dict[int, str] | None = None) -> dict[str, Any]:
    """The `responses` and `openapi_extra` of a route: its body (JSON or YAML), its answer, its problem statuses."""
    ok: dict[str, Any] = {"description": "the answer", "content": {"application/json": {"schema": schema(answer)}}}
    if decision:
        ok["headers"] = _DECISION_HEADERS
    responses: dict[int | str, Any] = {200: ok}
    for status, description in (more or {}).items():
        responses[status] = {**ok, "description": description}
    for status in (*statuses, 500):
        responses[status] = _problem(status)
    extra: dict[str, Any] = {}
    if body is not None:
        content = {media: {"schema": schema(body), "example": example(body)} for media in (*JSON_TYPES, YAML_TYPES[0])}
        extra["requestBody"] = {"required": True, "content": content, "description": "JSON, or YAML with Content-Type: application/yaml"}
    return {"responses": responses, "openapi_extra": extra}


BODY_STATUSES = (400, 413, 415, 422)


def install_openapi(app: FastAPI, *, api_key: bool) -> None:
    """Serve the document at /openapi.json: FastAPI's paths, these schemas, and the API key where it is asked for."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = spec.setdefault("components", {})
            components.setdefault("schemas", {}).update(_generated()[1])
            if api_key:
                for path_item in spec["paths"].values():
                    for op in path_item.values():
                        if op.get("security"):
                            op["responses"]["401"] = _problem(401)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
