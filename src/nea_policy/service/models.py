"""The service's request and response bodies that are not already library models (those are used as they are).

A request that holds scenarios names them in SCENARIOS: the service validates those through the fact model's own
reader (every problem located in the body, in the words fact files get), and the rest of the request as below.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from nea_policy.analysis.counterfactuals import Limits
from nea_policy.model.facts import Scenario
from nea_policy.model.report import Report, RulesetInfo

RULE_DESCRIPTION = "a recommendation or finding id (`GET /v1/rules` lists them), or the id of a rule that concludes one"
SUBJECT_DESCRIPTION = "what it is about: a flow or region id, a country code, or a pair of codes (CN-RU); all subjects when left out"


class ScenarioRequest(BaseModel):
    """A request body that holds scenarios (the fields SCENARIOS and SCENARIO_LIST name)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    #: Fields holding one scenario each, and a field holding a list of them (read through the fact model's reader).
    SCENARIOS: ClassVar[tuple[str, ...]] = ("scenario",)
    SCENARIO_LIST: ClassVar[str | None] = None


class ExplainRequest(ScenarioRequest):
    """Explain a conclusion in a scenario: its proof when it holds, why not otherwise, and the changes that flip it."""

    scenario: Scenario
    rule: str = Field(min_length=1, description=RULE_DESCRIPTION)
    subject: str | None = Field(None, description=SUBJECT_DESCRIPTION)
    limits: Limits | None = Field(None, description="bounds of the change-set search; `seconds` is at most the server's --time-limit")


class InterviewNextRequest(ScenarioRequest):
    """One turn of an interview: a partial scenario (its structure and the facts known so far) and the fields answered "don't know"."""

    scenario: Scenario
    unknown: list[str] = Field(
        default_factory=list,
        description=(
            'fields answered "don\'t know", by path (flows.kp-to-cn.legal_status, countries.CN.labor_shortage, relations.CN-RU.proximity); '
            "they are not asked again; an agreement question answered \"no\" goes here too (a fact file lists only the agreements that exist)"
        ),
    )
    goal: Literal["all", "recommendations"] = Field(
        "all", description="what the questions must settle: every recommendation and finding (all), or the recommendations only (fewer questions)"
    )


class WhyNotRequest(ScenarioRequest):
    """Why a conclusion does not hold in a scenario: each candidate's conditions, held, failed or missing."""

    scenario: Scenario
    rule: str = Field(min_length=1, description=RULE_DESCRIPTION)
    subject: str | None = Field(None, description=SUBJECT_DESCRIPTION)


class CounterfactualsRequest(ScenarioRequest):
    """The smallest verified fact changes that make a conclusion fire (or, when it holds, stop)."""

    scenario: Scenario
    rule: str = Field(min_length=1, description=RULE_DESCRIPTION)
    subject: str | None = Field(None, description=SUBJECT_DESCRIPTION)
    goal: Literal["fire", "stop"] | None = Field(None, description="fire or stop; by default stop when it holds, fire when it does not")
    limits: Limits | None = Field(None, description="bounds of the search; `seconds` is at most the server's --time-limit")


class WhatIfRequest(ScenarioRequest):
    """Change facts by path and compare with the original scenario."""

    scenario: Scenario
    changes: dict[str, Any] = Field(
        alias="set",
        min_length=1,
        description="path -> new value, paths as `what-if --set` takes them (flows.kp-to-cn.legal_status, relations.CN-RU.proximity); null unsets",
        examples=[{"flows.kp-to-cn.legal_status": "regular"}],
    )


class CompareRequest(ScenarioRequest):
    """Compare two scenarios: what appears, disappears or changes, and the fact differences behind it."""

    SCENARIOS: ClassVar[tuple[str, ...]] = ("before", "after")
    before: Scenario
    after: Scenario


class SweepRequest(ScenarioRequest):
    """Evaluate the grid that varying some facts spans."""

    scenario: Scenario
    vary: dict[str, list[Any]] = Field(
        min_length=1,
        description="path -> the values to try (paths as in what-if); grids over the server's --max-points are refused",
        examples=[{"flows.kp-to-cn.legal_status": ["regular", "irregular", "unclear"]}],
    )


class BatchRequest(ScenarioRequest):
    """Many scenarios, one report each, in order."""

    SCENARIOS: ClassVar[tuple[str, ...]] = ()
    SCENARIO_LIST: ClassVar[str | None] = "scenarios"
    scenarios: list[Scenario] = Field(min_length=1, description="at most the server's --max-batch scenarios")


class BatchItem(BaseModel):
    """One scenario of a batch: its decision id and its report."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    index: int = Field(description="position of the scenario in the request")
    decision_id: str = Field(description="id of this decision (the decision log's decision_id)")
    report: Report


class BatchResponse(BaseModel):
    """The batch's reports, in request order."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ruleset: RulesetInfo
    results: list[BatchItem]


class UnreadFact(BaseModel):
    """A fact the scenario sets that no rule reads (not an error: it describes the scenario but changes no result)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    location: str = Field(description="line:column of the field (YAML bodies), or where it is")
    path: str = Field(description="the field, e.g. flows[0].kinds")
    collection: str
    key: str = Field(description="the entry's code, id or pair")
    field: str


class CheckReport(BaseModel):
    """A valid scenario: its title, how many entries of each kind it declares, and the facts no rule reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ok: bool = True
    title: str
    counts: dict[str, int] = Field(description="countries, (parties,) regions, relations, agreements, flows")
    unread: list[UnreadFact] = Field(default_factory=list, description="facts set that no rule reads, in file order (as `nea-policy check` notes them)")


class Health(BaseModel):
    """The service is up and its rules are loaded."""

    status: Literal["ok"] = "ok"


class PackInfo(BaseModel):
    """A rule pack the service runs."""

    name: str
    version: str


class VersionInfo(BaseModel):
    """What answers: the nea-policy version and the rules (version, digest, packs)."""

    nea_policy: str
    ruleset: RulesetInfo
    packs: list[PackInfo]
