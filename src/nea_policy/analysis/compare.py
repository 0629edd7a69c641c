"""Comparing two scenarios: which recommendations and findings change, and which fact differences are behind each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nea_policy.language.conditions import FieldRef, iter_comparisons
from nea_policy.language.reads import DERIVED
from nea_policy.model.facts import Scenario, pair_key
from nea_policy.model.paths import COLLECTIONS
from nea_policy.model.report import (
    Evidence,
    FindingNode,
    Recommendation,
    Report,
    Subject,
)

if TYPE_CHECKING:
    from nea_policy.engine.engine import Engine
    from nea_policy.language.rules import RuleSet


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactChange(_Frozen):
    """One difference between the two scenarios' facts."""

    path: str = Field(description="e.g. flows.kp-to-cn.legal_status, countries.CN, relations.CN-RU.proximity")
    fact: str = Field(description="fact type: country, region, relation, agreement, flow, or scenario")
    key: str
    field: str | None = Field(description="the field that differs; none when the whole entry was added or removed")
    change: Literal["added", "removed", "changed"]
    before: Any = None
    after: Any = None


class ConclusionChange(_Frozen):
    """A recommendation or finding that appears, disappears, changes actors or changes its reasons."""

    kind: Literal["recommendation", "finding"]
    id: str
    title: str
    subject: Subject
    change: Literal["appeared", "disappeared", "actors changed", "reasons changed"]
    actors_before: list[str] = Field(default_factory=list)
    actors_after: list[str] = Field(default_factory=list)
    because: list[str] = Field(description="paths of the fact differences behind the change (see fact_changes)")


class Comparison(_Frozen):
    """What changes between a base scenario and a variant, and why."""

    base: str = Field(description="title of the base scenario")
    variant: str = Field(description="title of the variant scenario")
    fact_changes: list[FactChange]
    recommendations: list[ConclusionChange]
    findings: list[ConclusionChange]
    unchanged_recommendations: list[str] = Field(description="'rule subject' of recommendations in both, unchanged")

    @property
    def has_changes(self) -> bool:
        """Whether any recommendation or finding differs."""
        return bool(self.recommendations or self.findings)

    def to_json(self) -> str:
        """The comparison as indented JSON."""
        return self.model_dump_json(indent=2) + "\n"


def compare_scenarios(base: Scenario, variant: Scenario, engine: Engine) -> Comparison:
    """Evaluate both scenarios with one engine and compare the reports."""
    return compare_reports(engine.evaluate(base), engine.evaluate(variant), base, variant, engine.ruleset)


def compare_reports(base_report: Report, variant_report: Report, base: Scenario, variant: Scenario, ruleset: RuleSet) -> Comparison:
    """Which conclusions appear, disappear or change between two reports, each traced to the fact differences behind it."""
    facts = diff_scenarios(base, variant)
    recommendations: list[ConclusionChange] = []
    unchanged: list[str] = []
    before = _index_recommendations(base_report.recommendations)
    after = _index_recommendations(variant_report.recommendations)
    for key in _ordered_keys(before, after):
        old, new = before.get(key), after.get(key)
        change = _recommendation_change(old, new)
        sample = new or old
        assert sample is not None
        if change is None:
            unchanged.append(f"{sample.rule} {sample.subject.key}")
            continue
        trees = [r for r in (old, new) if r is not None]
        recommendations.append(
            ConclusionChange(
                kind="recommendation",
                id=sample.rule,
                title=sample.title,
                subject=sample.subject,
                change=change,
                actors_before=list(old.actors) if old else [],
                actors_after=list(new.actors) if new else [],
                because=_behind(sample.rule, trees, facts, ruleset),
            )
        )
    findings: list[ConclusionChange] = []
    fbefore = _index_findings(base_report.findings)
    fafter = _index_findings(variant_report.findings)
    for key in _ordered_keys(fbefore, fafter):
        old_f, new_f = fbefore.get(key), fafter.get(key)
        if (old_f is None) == (new_f is None):
            continue
        sample_f = new_f or old_f
        assert sample_f is not None
        findings.append(
            ConclusionChange(
                kind="finding",
                id=sample_f.finding,
                title=sample_f.title,
                subject=sample_f.subject,
                change="appeared" if old_f is None else "disappeared",
                because=_behind(sample_f.rule, [sample_f], facts, ruleset),
            )
        )
    return Comparison(
        base=base.title,
        variant=variant.title,
        fact_changes=facts,
        recommendations=recommendations,
        findings=findings,
        unchanged_recommendations=unchanged,
    )


# --- differences between the facts ------------------------------------------------------------------


def entity_key(collection: str, entry: BaseModel) -> str:
    """How a student addresses an entry: a country by code, a relation by its pair ('CN-RU'), others by id."""
    if collection in ("countries", "parties"):
        return str(entry.code)  # type: ignore[attr-defined]
    if collection == "relations":
        return pair_key(*entry.between)  # type: ignore[attr-defined]
    return str(entry.id)  # type: ignore[attr-defined]


def diff_scenarios(base: Scenario, variant: Scenario) -> list[FactChange]:
    """Every field that differs between two scenarios, entries matched by code, pair or id."""
    changes: list[FactChange] = []
    for name in ("title", "description"):
        old, new = getattr(base, name), getattr(variant, name)
        if old != new:
            changes.append(FactChange(path=name, fact="scenario", key="", field=name, change="changed", before=old, after=new))
    for collection, fact in COLLECTIONS.items():
        old_entries = {entity_key(collection, e): e for e in getattr(base, collection)}
        new_entries = {entity_key(collection, e): e for e in getattr(variant, collection)}
        for key in [*old_entries, *(k for k in new_entries if k not in old_entries)]:
            path = f"{collection}.{key}"
            if key not in new_entries:
                changes.append(FactChange(path=path, fact=fact, key=key, field=None, change="removed", before=_entry_data(old_entries[key])))
                continue
            if key not in old_entries:
                changes.append(FactChange(path=path, fact=fact, key=key, field=None, change="added", after=_entry_data(new_entries[key])))
                continue
            old_data = old_entries[key].model_dump(mode="json")
            new_data = new_entries[key].model_dump(mode="json")
            for field in old_data:
                a, b = old_data[field], new_data.get(field)
                if _normal(field, a) != _normal(field, b):
                    kind: Literal["added", "removed", "changed"] = "added" if a in (None, []) else "removed" if b in (None, []) else "changed"
                    changes.append(FactChange(path=f"{path}.{field}", fact=fact, key=key, field=field, change=kind, before=a, after=b))
    return changes


def _entry_data(entry: BaseModel) -> dict[str, Any]:
    return entry.model_dump(mode="json", exclude_defaults=True)


def _normal(field: str, value: Any) -> Any:
    # The order of a relation's two countries does not matter; neither does the order of a list of accepted conventions.
    if field in ("between", "accepted_conventions", "kinds") and isinstance(value, list):
        return sorted(value)
    return value


# --- matching conclusions ---------------------------------------------------------------------------


def _index_recommendations(items: list[Recommendation]) -> dict[tuple[str, str, str], Recommendation]:
    found: dict[tuple[str, str, str], Recommendation] = {}
    for rec in items:
        found.setdefault((rec.rule, rec.subject.type, rec.subject.key), rec)
    return found


def _index_findings(items: list[FindingNode]) -> dict[tuple[str, str, str], FindingNode]:
    found: dict[tuple[str, str, str], FindingNode] = {}
    for node in items:
        found.setdefault((node.finding, node.subject.type, node.subject.key), node)
    return found


def _ordered_keys(before: dict[Any, Any], after: dict[Any, Any]) -> list[Any]:
    return [*before, *(k for k in after if k not in before)]


def _recommendation_change(old: Recommendation | None, new: Recommendation | None) -> Literal["appeared", "disappeared", "actors changed", "reasons changed"] | None:
    if old is None:
        return "appeared"
    if new is None:
        return "disappeared"
    if sorted(old.actors) != sorted(new.actors):
        return "actors changed"
    if old.justification != new.justification or old.evidence != new.evidence or old.because != new.because:
        return "reasons changed"
    return None


# --- tracing a change to the fact differences behind it ---------------------------------------------


def _behind(rule_id: str, trees: list[Recommendation] | list[FindingNode], facts: list[FactChange], ruleset: RuleSet) -> list[str]:
    """Paths of the fact differences that a conclusion's rules read, on the entries its evidence names."""
    fields, absent_types = _fields_read(rule_id, ruleset)
    entities: set[tuple[str, str]] = set()
    for tree in trees:
        _collect_entities(tree.evidence, tree.because, entities)
    behind: list[str] = []
    for change in facts:
        if change.fact == "scenario":
            continue
        seen = change.fact in absent_types or (change.fact, change.key) in entities
        if change.field is None:
            # A whole entry added or removed matters when the conclusion's evidence names it, or a rule tests its absence.
            relevant = seen
        else:
            names = {change.field} | DERIVED.get((change.fact, change.field), frozenset())
            relevant = seen and any((change.fact, n) in fields for n in names)
            if change.fact in absent_types and any((change.fact, n) in fields or n == "kind" for n in names):
                relevant = True
        if relevant:
            behind.append(change.path)
    return behind


def _collect_entities(evidence: list[Evidence], because: list[FindingNode], into: set[tuple[str, str]]) -> None:
    for item in evidence:
        into.add((item.fact, item.key))
    for node in because:
        _collect_entities(node.evidence, node.because, into)


def _fields_read(rule_id: str, ruleset: RuleSet) -> tuple[set[tuple[str, str]], set[str]]:
    """(fact type, field) pairs read by a rule and, recursively, by the rules of the findings it needs or tests absent."""
    fields: set[tuple[str, str]] = set()
    absent_types: set[str] = set()
    by_conclusion: dict[str, list[Any]] = {}
    for rule in ruleset.rules:
        by_conclusion.setdefault(rule.concludes, []).append(rule)
    pending = [r for r in ruleset.rules if r.id == rule_id or (r.concludes == rule_id and r.kind == "finding")]
    done: set[str] = set()
    while pending:
        rule = pending.pop()
        if rule.id in done:
            continue
        done.add(rule.id)
        for alias, names in rule.fields_used().items():
            fact_type = rule.aliases[alias]
            for name in names:
                fields.add((fact_type, name))
        for absence in rule.absences:
            if absence.finding is None:
                absent_types.add(absence.fact_type)
                for comparison in iter_comparisons(absence.conditions):
                    for ref in (comparison.left, comparison.right):
                        if isinstance(ref, FieldRef) and ref.alias == absence.alias:
                            fields.add((absence.fact_type, ref.field))
        for finding in rule.needed_findings() | rule.negated_findings():
            pending.extend(by_conclusion.get(finding, []))
    return fields, absent_types
