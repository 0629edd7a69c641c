"""Explain, why-not and counterfactuals: hand-worked expectations, and every proposed change set really works."""

from __future__ import annotations

from pathlib import Path

import pytest

from nea_policy.analysis.counterfactuals import Limits, apply_changes
from nea_policy.analysis.matcher import FAILED, HELD, MISSING
from nea_policy.api import Engine
from nea_policy.errors import RuleError
from nea_policy.model.facts import load_scenario
from nea_policy.model.report import FindingNode, Recommendation
from nea_policy.render.explanation import (
    render_explanation_markdown,
    render_explanation_text,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RUSSIANS = EXAMPLES / "russians-in-japan.yaml"
NK = EXAMPLES / "north-koreans-in-china.yaml"


def holds_for(engine: Engine, scenario: object, conclusion: str, subject: str) -> bool:
    report = engine.evaluate(scenario)  # type: ignore[arg-type]
    return any(r.rule == conclusion and r.subject.key == subject for r in report.recommendations) or any(
        f.finding == conclusion and f.subject.key == subject for f in report.findings
    )


def test_semi_resident_status_for_russians_needs_unclear_status_and_work_and_shelter(engine: Engine) -> None:
    explanation = engine.explain(RUSSIANS, "semi-resident-status")
    assert not explanation.holds and explanation.why_not is not None
    closest = explanation.why_not.candidates[0]
    assert closest.subject == "ru-to-jp"
    outcomes = {r.condition: r.outcome for r in closest.results}
    assert outcomes == {"host.code == flow.destination": HELD, "limbo.subject == flow.key": FAILED, "flow.has_work_and_shelter == true": MISSING}
    (limbo,) = closest.needed
    assert limbo.target == "legal-status-limbo" and limbo.subject == "ru-to-jp"
    (status,) = limbo.candidates[0].results
    assert (status.outcome, status.actual, status.expected) == (FAILED, {"flow.legal_status": "regular"}, "== unclear")
    # The smallest change: unclear legal status AND work and shelter, one fact, and it is printed ready to run.
    best = explanation.changes.change_sets[0]
    assert {c.assignment for c in best.changes} == {"flows.ru-to-jp.legal_status=unclear", "flows.ru-to-jp.has_work_and_shelter=true"}
    assert best.facts_changed == 1
    assert best.command == (
        f"nea-policy what-if {RUSSIANS} --set flows.ru-to-jp.has_work_and_shelter=true --set flows.ru-to-jp.legal_status=unclear"
    )


def test_identify_refugees_holds_for_north_koreans_with_its_proof_tree(engine: Engine) -> None:
    explanation = engine.explain(NK, "identify-refugees")
    assert explanation.holds and explanation.why_not is None
    (proof,) = explanation.proofs
    assert isinstance(proof, Recommendation) and proof.subject.key == "kp-to-cn" and proof.actors == ["CN"]
    assert [n.finding for n in proof.because] == ["legal-status-limbo"]
    assert proof.source.quote
    # What would stop it: the legal status made clear, or the persecution risk lowered (both verified below).
    stopping = {c.assignment.split("=")[0] for s in explanation.changes.change_sets for c in s.changes}
    assert {"flows.kp-to-cn.legal_status", "flows.kp-to-cn.persecution_risk_on_return"} <= stopping


def test_explain_a_finding(engine: Engine) -> None:
    explanation = engine.explain(NK, "legal-status-limbo", "kp-to-cn")
    assert explanation.kind == "finding" and explanation.holds
    assert isinstance(explanation.proofs[0], FindingNode)


def test_level_distance_prefers_the_nearest_level(engine: Engine) -> None:
    """identify-refugees for the Russians needs persecution risk >= moderate: 'moderate' is proposed, not 'severe'."""
    data = load_scenario(RUSSIANS).model_dump(mode="json", exclude_none=True)
    data["flows"][0]["legal_status"] = "unclear"
    data["flows"][0]["persecution_risk_on_return"] = "low"
    result = engine.counterfactuals(data, "identify-refugees")
    assert result.goal == "fire"
    best = result.change_sets[0]
    assert [(c.path, c.old, c.new, c.distance) for c in best.changes] == [("flows.ru-to-jp.persecution_risk_on_return", "low", "moderate", 1)]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_recommendation_is_explained_and_every_change_set_verified(engine: Engine, path: Path) -> None:
    scenario = load_scenario(path)
    for rule in engine.ruleset.conclusions("recommendation"):
        explanation = engine.explain(path, rule)
        if explanation.holds:
            assert explanation.proofs, rule
        else:
            assert explanation.why_not is not None
            assert explanation.changes.change_sets or explanation.changes.note, f"{path.name} {rule}: no change set and no reason"
        sets = explanation.changes.change_sets
        for change_set in sets:
            changed = apply_changes(scenario, change_set.changes)
            assert holds_for(engine, changed, rule, change_set.subject) is (not explanation.holds), f"{path.name} {rule}: {change_set.command}"
        # smallest first, and no set is a superset of another for the same subject
        costs = [(s.facts_changed, len(s.changes), s.distance) for s in sets]
        assert costs == sorted(costs)
        for a in sets:
            for b in sets:
                if a is not b and a.subject == b.subject:
                    assert not {c.assignment for c in a.changes} < {c.assignment for c in b.changes}


def test_no_region_means_no_candidate_and_says_so(engine: Engine) -> None:
    explanation = engine.explain(RUSSIANS, "invest-in-host-region-economy")
    assert not explanation.holds and explanation.why_not is not None
    assert explanation.why_not.candidates == []
    assert "no region" in (explanation.why_not.note or "")
    assert explanation.changes.change_sets == [] and "no region" in (explanation.changes.note or "")


def test_loose_candidates_when_no_join_holds(engine: Engine) -> None:
    """Without rising_power the region and relation cannot join: loose candidates show the failing join, and setting it is proposed."""
    data = load_scenario(EXAMPLES / "chinese-in-the-russian-far-east.yaml").model_dump(mode="json", exclude_none=True)
    for relation in data["relations"]:
        relation.pop("rising_power", None)
    reason = engine.why_not(data, "host-region-vulnerability")
    assert not reason.structural and reason.candidates
    join = next(r for r in reason.candidates[0].results if r.condition == "relation.rising_power == flow.origin")
    assert join.outcome == MISSING
    changes = engine.counterfactuals(data, "host-region-vulnerability")
    assert any(c.field == "rising_power" for s in changes.change_sets for c in s.changes)


def test_search_is_bounded_and_deterministic(engine: Engine) -> None:
    one = engine.counterfactuals(EXAMPLES / "northeast-asia.yaml", "citizen-exchanges", goal="stop", limits=Limits(verify=2))
    assert one.verified <= 2
    again = engine.counterfactuals(EXAMPLES / "northeast-asia.yaml", "citizen-exchanges", goal="stop", limits=Limits(verify=2))
    assert one == again


def test_unknown_rule_is_a_rule_error(engine: Engine) -> None:
    with pytest.raises(RuleError) as caught:
        engine.explain(NK, "semi-resident")
    assert caught.value.code == "unknown_rule" and "semi-resident-status" in str(caught.value)


def test_renderings(engine: Engine) -> None:
    why = engine.explain(RUSSIANS, "semi-resident-status")
    text = render_explanation_text(why)
    # each condition in words first, with its outcome, then as written
    assert "[NO] the finding legal-status-limbo holds for the flow, but it does not [limbo.subject == flow.key]" in " ".join(text.split())
    assert "[??] the flow's proof of work and shelter is true, but it is not set [flow.has_work_and_shelter == true]" in " ".join(text.split())
    assert "distance = the steps each changed level moves on the none..severe scale" in " ".join(text.split())
    assert "--set flows.ru-to-jp.legal_status=unclear" in text
    assert "| the flow's proof of work and shelter is true, but it is not set | missing | `flow.has_work_and_shelter == true` |" in render_explanation_markdown(why)
    proof = render_explanation_text(engine.explain(NK, "identify-refugees"))
    assert "Legal-status limbo" in proof and "Source (North Korean Migration to China)" in proof
    assert type(why).model_validate_json(why.to_json()).to_json() == why.to_json()


def test_why_not_says_each_condition_and_its_outcome_in_words(engine: Engine) -> None:
    why = engine.why_not(NK, "hidden-exploitation")
    assert why.holds
    data = load_scenario(NK).model_dump(mode="json", exclude_none=True)
    data["flows"][0]["fear_of_exposure"] = "moderate"
    for flow in data["flows"]:
        flow.pop("abuse", None)
    results = {r.condition: r for r in engine.why_not(data, "hidden-exploitation").candidates[0].results}
    fear = results["flow.fear_of_exposure >= high"]
    assert fear.words == "the flow's fear of exposure is at least high"
    assert fear.sentence == "the flow's fear of exposure is at least high, but it is moderate"
    group = next(r for r in results.values() if r.kind == "any")
    assert group.sentence == "at least one of these holds, and one does"
    sentences = [item.sentence for branch in group.branches for item in branch]
    assert "the flow's abuse is at least moderate, but it is not set" in sentences
    assert "the flow's indentured servitude is true" in sentences
    del data["flows"][0]["fear_of_exposure"]
    results = {r.condition: r for r in engine.why_not(data, "hidden-exploitation").candidates[0].results}
    assert results["flow.fear_of_exposure >= high"].sentence == "the flow's fear of exposure is at least high, but it is not set"
    joins = {r.condition: r.sentence for r in engine.why_not(RUSSIANS, "identify-refugees").candidates[0].results}
    assert joins["host.code == flow.destination"] == "the host country is the flow's destination (JP)"


def test_a_pair_subject_in_either_order(engine: Engine) -> None:
    assert engine.explain(RUSSIANS, "citizen-exchanges", "RU-JP").holds
    assert engine.explain(RUSSIANS, "citizen-exchanges", "JP-RU").holds


def test_an_existing_agreement_blocks_and_changing_it_is_proposed(engine: Engine) -> None:
    data = load_scenario(EXAMPLES / "chinese-labor-migrants-in-japan-and-korea.yaml").model_dump(mode="json", exclude_none=True)
    data["agreements"] = [{"id": "cn-jp-regime", "between": ["JP", "CN"], "kind": "labor-migration-regime"}]
    explanation = engine.explain(data, "bilateral-labor-migration-regime", "cn-labor-to-jp")
    assert not explanation.holds and explanation.why_not is not None
    absent = next(r for r in explanation.why_not.candidates[0].results if r.kind == "absent")
    assert absent.outcome == FAILED and absent.blocking == ["cn-jp-regime"]
    best = explanation.changes.change_sets[0]
    assert [c.path for c in best.changes] == ["agreements.cn-jp-regime.kind"] and best.changes[0].new != "labor-migration-regime"
    assert best.command.startswith("nea-policy what-if FILE --set agreements.cn-jp-regime.kind=")
