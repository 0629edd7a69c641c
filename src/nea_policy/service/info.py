"""The GET endpoints: health, version, the rules (listed and explained) and the JSON Schemas of fact files and reports."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path as FilePath
from typing import Literal

from fastapi import APIRouter, Depends, Path
from pydantic import TypeAdapter
from starlette.responses import Response

from nea_policy import __version__
from nea_policy.api import json_schema
from nea_policy.language.rule_docs import RuleDoc, RuleSummary, describe_rule, list_rules
from nea_policy.service.context import Service, get_service
from nea_policy.service.models import Health, PackInfo, VersionInfo
from nea_policy.service.openapi import operation

router = APIRouter()
#: What needs no API key: the health check that load balancers probe.
open_router = APIRouter()
_RULE_LIST = TypeAdapter(list[RuleSummary])
_RULE_DOC = TypeAdapter(RuleDoc)


def json_response(text: str | bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON the library already made, sent as it is (no re-encoding through FastAPI)."""
    return Response(text, status_code=status, media_type="application/json", headers=headers)


@open_router.get("/health", tags=["service"], summary="The service is up", **operation("Health"))
async def health() -> Response:
    """200 with `{"status": "ok"}` once the worker has loaded its rules (for load balancers; no API key needed)."""
    return json_response(Health().model_dump_json())


@router.get("/version", tags=["service"], summary="Versions of nea-policy and of the rules", **operation("VersionInfo"))
async def version(service: Service = Depends(get_service)) -> Response:
    """The nea-policy version, the ruleset's version and digest (also in every decision's headers), and its packs."""
    packs = [PackInfo(name=p.name, version=p.version) for p in service.engine.ruleset.packs]
    return json_response(VersionInfo(nea_policy=__version__, ruleset=service.ruleset, packs=packs).model_dump_json(indent=2))


@router.get("/rules", tags=["rules"], summary="List the rules", **operation("RuleList"))
async def rules(service: Service = Depends(get_service)) -> Response:
    """Every rule: id, kind (finding or recommendation), title and what it concludes (as `nea-policy rules list`)."""
    return json_response(_RULE_LIST.dump_json(list_rules(service.engine.ruleset), indent=2))


@router.get("/rules/{rule_id}", tags=["rules"], summary="Explain one rule", **operation("RuleDoc", statuses=(404, 422)))
async def rule(rule_id: str = Path(description="a rule id, e.g. identify-refugees", examples=["identify-refugees"]), service: Service = Depends(get_service)) -> Response:
    """A rule's conditions in words, what it concludes, its section and quote, the findings it needs and the rules
    that need it (as `nea-policy rules show`); 404 naming the closest ids when there is no such rule."""
    doc = describe_rule(service.engine.ruleset, rule_id)
    packs = {p.name: FilePath(p.path) for p in service.engine.ruleset.packs}
    location = doc.location
    folder = packs.get(doc.pack)
    if folder is not None and location.startswith(f"{folder}/"):
        # The server's own paths are none of the client's business: the file within its pack is enough.
        location = location[len(str(folder)) + 1 :]
    return json_response(_RULE_DOC.dump_json(dataclasses.replace(doc, location=location), indent=2))


@router.get("/schema/{kind}", tags=["schemas"], summary="JSON Schema of fact files or of reports", **operation("JsonSchema", statuses=(422,)))
async def schema(kind: Literal["facts", "report"]) -> Response:
    """`facts`: what a scenario may say (the body of /v1/evaluate); `report`: what /v1/evaluate answers."""
    return json_response(_schema_text(kind))


@cache
def _schema_text(kind: str) -> str:
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False)
