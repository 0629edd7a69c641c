"""The report: a pydantic model whose JSON form is the contract tools rely on."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

REPORT_FORMAT_VERSION = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Frozen):
    """Where in the article the rule comes from, with the verbatim quote."""

    section: str
    quote: str


class Subject(_Frozen):
    """What a finding or recommendation is about: a flow, a country, a region or a pair of countries."""

    type: str = Field(description="flow, country, region or relation")
    key: str = Field(description="flow or region id, country code, or 'A-B' for a pair")
    name: str


class Evidence(_Frozen):
    """One matched fact and the values of the fields the rule's conditions read."""

    alias: str = Field(description="the name the rule gives this fact")
    fact: str = Field(description="fact type")
    key: str
    name: str
    values: dict[str, Any]


class FindingNode(_Frozen):
    """A finding with its own evidence and the findings beneath it: a proof tree."""

    finding: str
    rule: str
    title: str
    subject: Subject
    justification: str
    evidence: list[Evidence]
    because: list[FindingNode]
    source: Source


class Recommendation(_Frozen):
    """A policy recommendation of the article, addressed to governments, with why it applies."""

    rule: str = Field(description="id of the recommendation")
    title: str
    actors: list[str] = Field(description="codes of the governments addressed (ISO alpha-2; a party's code when a rule addresses both sides of its relation)")
    addressees: list[str] = Field(description="other bodies the article names")
    subject: Subject
    justification: str
    evidence: list[Evidence]
    because: list[FindingNode]
    source: Source
    pack: str = Field(description="the rule pack the rule came from")


class RulesetInfo(_Frozen):
    """Which rules produced the report."""

    version: str
    digest: str


class ScenarioInfo(_Frozen):
    """A summary of the scenario evaluated."""

    title: str
    description: str | None = None
    countries: dict[str, str] = Field(description="code -> name")
    parties: dict[str, str] = Field(default_factory=dict, description="code -> name of the supranational or regional parties (the EU, ASEAN...)")
    flows: list[str] = Field(description="flow ids")

    def actor_name(self, code: str) -> str:
        """The name of a country or party the report addresses (the code itself when the scenario does not declare it)."""
        return self.countries.get(code) or self.parties.get(code) or code


class Report(_Frozen):
    """Everything an evaluation concluded, in a deterministic order."""

    format_version: int = REPORT_FORMAT_VERSION
    scenario: ScenarioInfo
    ruleset: RulesetInfo
    findings: list[FindingNode]
    recommendations: list[Recommendation]

    def recommendation_ids(self) -> list[str]:
        """Distinct recommendation ids, in report order."""
        return list(dict.fromkeys(r.rule for r in self.recommendations))

    def finding_ids(self) -> list[str]:
        """Distinct finding ids, in report order."""
        return list(dict.fromkeys(f.finding for f in self.findings))

    def for_actor(self, code: str) -> list[Recommendation]:
        """Recommendations addressed to one government."""
        return [r for r in self.recommendations if code in r.actors]

    def to_json(self) -> str:
        """Canonical JSON: same input, byte-identical output."""
        return self.model_dump_json(indent=2) + "\n"


FindingNode.model_rebuild()
