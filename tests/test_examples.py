"""The article's four cases: the recommendations it makes, and that one decisive fact changes them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from nea_policy.engine.engine import Engine
from nea_policy.model.report import Report

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
REFUGEE_SEMI_HUMANITARIAN = {"identify-refugees", "semi-resident-status", "humanitarian-assistance"}


def evaluate(engine: Engine, name: str, change: Any = None) -> Report:
    data = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))
    if change is not None:
        data = copy.deepcopy(data)
        change(data)
    return engine.evaluate(data)


def actors_of(report: Report, rule: str) -> set[str]:
    return {a for r in report.recommendations if r.rule == rule for a in r.actors}


def flow(data: dict[str, Any], flow_id: str) -> dict[str, Any]:
    return next(f for f in data["flows"] if f["id"] == flow_id)


def country(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(c for c in data["countries"] if c["code"] == code)


def test_russian_far_east(engine: Engine) -> None:
    report = evaluate(engine, "chinese-in-the-russian-far-east")
    assert actors_of(report, "cooperative-migration-and-trade-regime") == {"RU", "CN"}
    assert actors_of(report, "invest-in-host-region-economy") == {"RU"}
    assert not REFUGEE_SEMI_HUMANITARIAN & set(report.recommendation_ids())
    assert "national-security-concern" in report.finding_ids()


def test_chinese_labor_migrants(engine: Engine) -> None:
    report = evaluate(engine, "chinese-labor-migrants-in-japan-and-korea")
    ids = set(report.recommendation_ids())
    assert actors_of(report, "liberalize-labor-import") == {"JP", "KR"}
    assert actors_of(report, "enforce-against-exploitative-recruitment") == {"CN"}
    assert "CN" in actors_of(report, "bilateral-labor-migration-regime")
    assert "adopt-international-conventions" in ids
    assert not (REFUGEE_SEMI_HUMANITARIAN | {"invest-in-host-region-economy"}) & ids


def test_north_koreans_in_china(engine: Engine) -> None:
    report = evaluate(engine, "north-koreans-in-china")
    for rule in REFUGEE_SEMI_HUMANITARIAN:
        assert actors_of(report, rule) == {"CN"}, rule
    forbidden = {"citizen-exchanges", "cultural-orientation", "invest-in-host-region-economy", "bilateral-labor-migration-regime", "liberalize-labor-import"}
    assert not forbidden & set(report.recommendation_ids())
    assert {"legal-status-limbo", "hidden-exploitation", "human-security-challenge"} <= set(report.finding_ids())


def test_russians_in_japan(engine: Engine) -> None:
    report = evaluate(engine, "russians-in-japan")
    assert actors_of(report, "citizen-exchanges") == {"JP", "RU"}
    for rule in ("cultural-orientation", "community-relations-programs", "fair-media-coverage"):
        assert actors_of(report, rule) == {"JP"}, rule
    forbidden = REFUGEE_SEMI_HUMANITARIAN | {
        "enforce-against-exploitative-recruitment",
        "bilateral-labor-migration-regime",
        "liberalize-labor-import",
        "invest-in-host-region-economy",
    }
    assert not forbidden & set(report.recommendation_ids())
    assert "cultural-friction-short-of-security" in report.finding_ids()


def test_region_example_holds_every_case(engine: Engine) -> None:
    report = evaluate(engine, "northeast-asia")
    expected = {
        "cooperative-migration-and-trade-regime", "invest-in-host-region-economy", "liberalize-labor-import",
        "enforce-against-exploitative-recruitment", "bilateral-labor-migration-regime", "adopt-international-conventions",
        "identify-refugees", "humanitarian-assistance", "semi-resident-status", "citizen-exchanges",
        "cultural-orientation", "community-relations-programs", "fair-media-coverage",
    }
    assert set(report.recommendation_ids()) == expected
    # each case is still addressed to the same governments as on its own
    assert actors_of(report, "semi-resident-status") == {"CN"}
    assert actors_of(report, "citizen-exchanges") == {"JP", "RU"}


# --- one decisive fact changed -------------------------------------------------------------


VARIATIONS = [
    # (example, change, recommendation, present before, present after)
    ("north-koreans-in-china", lambda d: flow(d, "kp-to-cn").update(legal_status="regular"), "semi-resident-status", True, False),
    ("north-koreans-in-china", lambda d: flow(d, "kp-to-cn").update(legal_status="regular"), "identify-refugees", True, False),
    ("north-koreans-in-china", lambda d: flow(d, "kp-to-cn").update(has_work_and_shelter=False), "semi-resident-status", True, False),
    ("north-koreans-in-china", lambda d: flow(d, "kp-to-cn").update(persecution_risk_on_return="low"), "identify-refugees", True, False),
    ("north-koreans-in-china", lambda d: country(d, "KP").update(food_insecurity="low", economic_collapse="low"), "humanitarian-assistance", True, False),
    ("north-koreans-in-china", lambda d: flow(d, "kp-to-cn").update(fear_of_exposure="low"), "humanitarian-assistance", True, False),
    ("chinese-in-the-russian-far-east", lambda d: d["regions"][0].update(population_decline="none"), "invest-in-host-region-economy", True, False),
    ("chinese-in-the-russian-far-east", lambda d: d["relations"][0].update(rising_power=None), "invest-in-host-region-economy", True, False),
    ("chinese-in-the-russian-far-east", lambda d: flow(d, "cn-to-russian-far-east")["estimates"].pop(0), "cooperative-migration-and-trade-regime", True, False),
    ("chinese-in-the-russian-far-east", lambda d: d.setdefault("agreements", []).append({"id": "regime", "between": ["CN", "RU"], "kind": "migration-and-trade-regime"}), "cooperative-migration-and-trade-regime", True, False),
    ("chinese-labor-migrants-in-japan-and-korea", lambda d: d.setdefault("agreements", []).extend([{"id": "a1", "between": ["CN", "JP"], "kind": "labor-migration-regime"}, {"id": "a2", "between": ["KR", "CN"], "kind": "labor-migration-regime"}]), "bilateral-labor-migration-regime", True, False),
    ("chinese-labor-migrants-in-japan-and-korea", lambda d: [c.update(restrictive_migration_policy=False) for c in d["countries"]], "liberalize-labor-import", True, False),
    ("chinese-labor-migrants-in-japan-and-korea", lambda d: [c.update(accepted_conventions=["migrant-workers-convention-1990"]) for c in d["countries"]], "adopt-international-conventions", True, False),
    ("chinese-labor-migrants-in-japan-and-korea", lambda d: [f.update(recruiter_exploitation="low") for f in d["flows"]], "enforce-against-exploitative-recruitment", True, False),
    ("russians-in-japan", lambda d: d["relations"][0].update(cultural_gap="low"), "cultural-orientation", True, False),
    ("russians-in-japan", lambda d: flow(d, "ru-to-jp").update(media_tone="balanced"), "fair-media-coverage", True, False),
    ("russians-in-japan", lambda d: d["relations"][0].update(sovereignty_dispute=False, diplomatic_tension="low"), "citizen-exchanges", True, False),
    # negation on a derived finding: a human-security challenge takes the flow out of "cultural friction short of security"
    ("russians-in-japan", lambda d: flow(d, "ru-to-jp").update(abuse="high"), "citizen-exchanges", True, False),
    # and changes in the other direction
    ("russians-in-japan", lambda d: flow(d, "ru-to-jp").update(legal_status="unclear", has_work_and_shelter=True), "semi-resident-status", False, True),
    ("chinese-in-the-russian-far-east", lambda d: flow(d, "cn-to-russian-far-east").update(illegal_work="high"), "liberalize-labor-import", False, True),
]


@pytest.mark.parametrize(("example", "change", "rule", "before", "after"), VARIATIONS, ids=[f"{v[0]}:{v[2]}:{i}" for i, v in enumerate(VARIATIONS)])
def test_one_decisive_fact_changes_the_outcome(engine: Engine, example: str, change: Any, rule: str, before: bool, after: bool) -> None:
    assert (rule in evaluate(engine, example).recommendation_ids()) is before
    assert (rule in evaluate(engine, example, change).recommendation_ids()) is after


def test_every_recommendation_carries_its_reasons(engine: Engine) -> None:
    report = evaluate(engine, "northeast-asia")
    for rec in report.recommendations:
        assert rec.justification and "{" not in rec.justification, rec.rule
        assert rec.evidence, rec.rule
        assert rec.source.quote and rec.source.section, rec.rule
        assert rec.actors, rec.rule
    semi = next(r for r in report.recommendations if r.rule == "semi-resident-status")
    assert [n.finding for n in semi.because] == ["legal-status-limbo"]
    flow_evidence = next(e for e in semi.evidence if e.fact == "flow")
    assert flow_evidence.values["has_work_and_shelter"] is True
    assert semi.because[0].evidence[0].values["legal_status"] == "unclear"


def test_proof_tree_goes_down_through_findings(engine: Engine) -> None:
    report = evaluate(engine, "russians-in-japan")
    exchanges = next(r for r in report.recommendations if r.rule == "citizen-exchanges")
    top = exchanges.because[0]
    assert top.finding == "cultural-friction-short-of-security"
    assert [n.finding for n in top.because] == ["cultural-friction"]
    assert top.because[0].evidence[0].values["stereotypes"] == "high"
