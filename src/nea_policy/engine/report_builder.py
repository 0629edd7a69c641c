"""Report building: the firings of one evaluation turned into the Report (names, evidence, proof trees, order)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from nea_policy.language.compiler import expand_rule
from nea_policy.language.prose import sentence_start, split_template
from nea_policy.language.rules import RuleSet
from nea_policy.model.display import display_value
from nea_policy.model.fact_types import FACT_TYPES, FINDING, is_level
from nea_policy.model.facts import LEVEL_ORDER, Scenario
from nea_policy.model.report import Evidence, FindingNode, Recommendation, Report, RulesetInfo, ScenarioInfo, Source, Subject

if TYPE_CHECKING:
    from nea_policy.engine.run import Firing


@dataclass(frozen=True)
class RulePlan:
    """What the report needs of one rule, worked out once per engine instead of at every firing."""

    # Per alias of a fact of the scenario (not a finding), in the rule's order, the fields its evidence shows: whether
    # each is a level (shown by name, held as a rank), and whether only an `any:` branch reads it (then, unset, it is
    # left out: that branch did not apply).
    evidence: tuple[tuple[str, tuple[tuple[str, bool, bool], ...]], ...]
    # The normalised justification: its first literal, then (alias, field, how to show it, next literal, opens a
    # sentence) per field.
    template_head: str
    template: tuple[tuple[str, str, str, str, bool], ...]
    source: Source


def _show(type_name: str, field: str) -> str:
    if field == "name":
        return "name"
    if is_level(type_name, field):
        return "level"
    spec = FACT_TYPES.get(type_name, FACT_TYPES["flow"]).fields.get(field)
    return "code" if spec is not None and spec.kind == "code" else "value"


def rule_plans(ruleset: RuleSet) -> dict[str, RulePlan]:
    """Per compiled rule name (`id`, `id#2`... see compiler.expand_rule), what the report needs of it.

    A rule whose `any:` branches were compiled into separate durable rules shows, as evidence, what the branch
    that fired read (not the fields of the branches that did not apply).
    """
    plans: dict[str, RulePlan] = {}
    for rule in ruleset.rules:
        head, fields = split_template(rule.justification)
        template = tuple((f.alias, f.field, _show(rule.aliases.get(f.alias, ""), f.field), f.after, f.opens_sentence) for f in fields)
        source = Source(section=rule.section, quote=rule.quote)
        for name, conditions in expand_rule(rule):
            used = rule.fields_used(conditions)
            optional = rule.read_only_in_any(conditions)
            evidence_fields = {
                alias: tuple((f, is_level(rule.aliases.get(alias, ""), f), (alias, f) in optional) for f in names if f not in ("key", "name"))
                for alias, names in used.items()
            }
            plans[name] = RulePlan(
                evidence=tuple((alias, evidence_fields.get(alias, ())) for alias, type_name in rule.aliases.items() if type_name != FINDING),
                template_head=head,
                template=template,
                source=source,
            )
    return plans


# A level's name for its rank (what decode_value does for a level field); other values (None) as they are.
_level_name = dict(enumerate(LEVEL_ORDER)).get


def _constructor(model: type[BaseModel]) -> Callable[[dict[str, Any]], Any]:
    """A function that makes an instance of `model` from a dict of every field, without validation.

    The report is built from values the fact model and the rule loader have already checked, so validating each of
    its ~140 objects again (what __init__ does) is pure cost. This is what `model_construct` does, minus its
    per-call handling of defaults and aliases, which these models do not use: every field is always given.
    """
    # One set for every instance: the models are frozen, and model_copy copies the set before it adds to it.
    fields = set(model.model_fields)
    new = object.__new__
    setattr_ = object.__setattr__

    def construct(values: dict[str, Any]) -> Any:
        instance = new(model)
        setattr_(instance, "__dict__", values)
        setattr_(instance, "__pydantic_fields_set__", fields)
        setattr_(instance, "__pydantic_extra__", None)
        setattr_(instance, "__pydantic_private__", None)
        return instance

    return construct


_new_subject = _constructor(Subject)
_new_evidence = _constructor(Evidence)
_new_finding = _constructor(FindingNode)
_new_recommendation = _constructor(Recommendation)


class ReportBuilder:
    """Turns the firings of one evaluation into the Report (names, evidence, proof trees, deterministic order)."""

    def __init__(self, ruleset: RuleSet, plans: dict[str, RulePlan], scenario: Scenario, firings: list[Firing]) -> None:
        self.ruleset = ruleset
        self.scenario = scenario
        self.firings = firings
        self.plans = plans
        self.names: dict[tuple[str, str], str] = {}
        countries = {c.code: c.name for c in scenario.countries}
        for code, name in countries.items():
            self.names[("country", code)] = name
        # A relation or agreement may have a party (the EU) as a side.
        countries.update({p.code: p.name for p in scenario.parties})
        self.code_names = countries
        for region in scenario.regions:
            self.names[("region", region.id)] = region.name
        for flow in scenario.flows:
            self.names[("flow", flow.id)] = flow.name
        for relation in scenario.relations:
            a, b = sorted(relation.between)
            self.names[("relation", f"{a}-{b}")] = f"{countries.get(a, a)} and {countries.get(b, b)}"
        for agreement in scenario.agreements:
            self.names[("agreement", agreement.id)] = agreement.id
        self.findings: dict[tuple[str, str], FindingNode] = {}
        self.finding_firings: dict[tuple[str, str], Firing] = {}
        self.subjects: dict[tuple[str, str], Subject] = {}
        self.evidence: dict[tuple[str, Any, tuple[tuple[str, bool, bool], ...]], Evidence] = {}

    def build(self) -> Report:
        rule_order = {rule.id: i for i, rule in enumerate(self.ruleset.rules)}
        recommendations: dict[tuple[str, str], Recommendation] = {}
        # The first firing of each (conclusion, subject) is the one the report shows.
        first_recommendations: dict[tuple[str, str], Firing] = {}
        finding_firings = self.finding_firings
        for firing in self.firings:
            rule = firing.compiled.rule
            fact = firing.matched[rule.subject]
            key = (rule.concludes, fact["subject"] if fact["t"] == FINDING else fact["key"])
            if rule.kind == "finding":
                if key not in finding_firings:
                    finding_firings[key] = firing
            elif key not in first_recommendations:
                first_recommendations[key] = firing
        for key, firing in first_recommendations.items():
            recommendations[key] = self._recommendation(firing)
        findings = [self._finding(key) for key in sorted(self.finding_firings)]
        ordered = sorted(recommendations.values(), key=lambda r: (rule_order.get(r.rule, 0), r.rule, r.subject.key))
        return Report(
            scenario=ScenarioInfo(
                title=self.scenario.title,
                description=self.scenario.description,
                countries={c.code: c.name for c in self.scenario.countries},
                parties={p.code: p.name for p in self.scenario.parties},
                flows=[f.id for f in self.scenario.flows],
            ),
            ruleset=RulesetInfo(version=self.ruleset.version, digest=self.ruleset.digest),
            findings=findings,
            recommendations=ordered,
        )

    def _subject(self, firing: Firing) -> Subject:
        fact = firing.matched[firing.compiled.rule.subject]
        if fact["t"] == FINDING:
            type_, key = fact["subject_type"], str(fact["subject"])
        else:
            type_, key = fact["t"], str(fact["key"])
        subject = self.subjects.get((type_, key))
        if subject is None:
            subject = self.subjects[(type_, key)] = _new_subject({"type": type_, "key": key, "name": self.names.get((type_, key), key)})
        return subject

    def _justification(self, plan: RulePlan, firing: Firing) -> str:
        # Values are inserted literally, never parsed as templates: a fact value with {braces} stays as it is.
        out = [plan.template_head]
        matched = firing.matched
        for alias, name, show, literal, opens in plan.template:
            fact = matched.get(alias)
            if fact is None:
                value = None
            elif show == "name":
                value = self.names.get((fact["t"], str(fact.get("key"))), fact.get("key"))
            elif show == "level":
                value = fact.get(name)
                value = _level_name(value, value)
            elif show == "code":
                value = fact.get(name)
                value = self.code_names.get(value, value)
            else:
                # A field that is not a level for the rule's alias is held as the file gives it (see _show).
                value = fact.get(name)
            text = display_value(value)
            out.append(sentence_start(text) if opens else text)
            out.append(literal)
        return "".join(out)

    def _evidence(self, plan: RulePlan, firing: Firing) -> list[Evidence]:
        items = []
        names = self.names
        cache = self.evidence
        matched = firing.matched
        for alias, fields in plan.evidence:
            fact = matched[alias]
            # Rules often show the same fields of the same fact under the same alias: one Evidence serves them all.
            cache_key = (alias, fact["id"], fields)
            cached = cache.get(cache_key)
            if cached is None:
                get = fact.get
                values = {}
                for f, level, optional in fields:
                    value = get(f)
                    if value is None and optional:
                        continue
                    values[f] = _level_name(value, value) if level else value
                type_ = fact["t"]
                key = fact["key"]
                cached = cache[cache_key] = _new_evidence({"alias": alias, "fact": type_, "key": key, "name": names.get((type_, key), key), "values": values})
            items.append(cached)
        return items

    def _because(self, firing: Firing) -> list[FindingNode]:
        nodes = []
        for alias in firing.compiled.rule.finding_aliases:
            fact = firing.matched[alias]
            nodes.append(self._finding((fact["finding"], str(fact["subject"]))))
        return nodes

    def _finding(self, key: tuple[str, str]) -> FindingNode:
        node = self.findings.get(key)
        if node is None:
            firing = self.finding_firings[key]
            rule = firing.compiled.rule
            plan = self.plans[firing.compiled.name]
            node = self.findings[key] = _new_finding(
                {
                    "finding": rule.concludes,
                    "rule": rule.id,
                    "title": rule.title,
                    "subject": self._subject(firing),
                    "justification": self._justification(plan, firing),
                    "evidence": self._evidence(plan, firing),
                    "because": self._because(firing),
                    "source": plan.source,
                }
            )
        return node

    def _recommendation(self, firing: Firing) -> Recommendation:
        rule = firing.compiled.rule
        plan = self.plans[firing.compiled.name]
        actors = sorted({str(firing.matched[ref.alias].get(ref.field)) for ref in rule.actors if firing.matched[ref.alias].get(ref.field)})
        return _new_recommendation(
            {
                "rule": rule.concludes,
                "title": rule.title,
                "actors": actors,
                "addressees": list(rule.addressees),
                "subject": self._subject(firing),
                "justification": self._justification(plan, firing),
                "evidence": self._evidence(plan, firing),
                "because": self._because(firing),
                "source": plan.source,
                "pack": rule.pack,
            }
        )
