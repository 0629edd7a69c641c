"""The interview's analysis: only what can still change an outcome is asked, each question says why, and errors say what to fix."""

from __future__ import annotations

import copy
import itertools
import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
from interview_sampling import recommendations

from nea_policy.analysis.answerable import field_index
from nea_policy.analysis.interview import InterviewRequest, answers_from, facts_stated, next_step, run_interview, scenario_data, structure_of
from nea_policy.api import interview_next
from nea_policy.engine.engine import Engine
from nea_policy.errors import InputError, ScenarioError
from nea_policy.model.facts import load_scenario

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
NK = ROOT / "examples" / "north-koreans-in-china.yaml"
RU_JP = ROOT / "examples" / "russians-in-japan.yaml"
FAR_EAST = ROOT / "examples" / "chinese-in-the-russian-far-east.yaml"


def known_except(path: Path, *missing: str) -> dict[str, Any]:
    """A request: the example with the given fields left open and every other field it does not state answered "don't know"."""
    scenario = load_scenario(path)
    data = scenario_data(scenario)
    unknown = []
    for field in field_index(scenario).fields.values():
        if field.path in missing:
            entry = next(e for e in data[field.collection] if field.key in (e.get("id"), e.get("code"), "-".join(sorted(e.get("between", [])))))
            entry.pop(field.field, None)
        elif field.state == "open":
            unknown.append(field.path)
    return {"scenario": data, "unknown": unknown}


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_recommendations_goal_asks_no_more_and_ends_with_the_same_recommendations(engine: Engine, example: Path) -> None:
    truth = load_scenario(example)
    everything = run_interview(engine, structure_of(truth), answers_from(truth))
    recs_only = run_interview(engine, structure_of(truth), answers_from(truth), goal="recommendations")
    assert len(recs_only.questions) <= len(everything.questions)
    assert recommendations(recs_only.report) == recommendations(everything.report) == recommendations(engine.evaluate(truth))


def test_an_answer_that_makes_a_rule_impossible_removes_its_questions(engine: Engine) -> None:
    request = known_except(NK, "flows.kp-to-cn.legal_status", "flows.kp-to-cn.has_work_and_shelter", "flows.kp-to-cn.persecution_risk_on_return")
    before = next_step(engine, request)
    waiting = {q.field: {w.rule for w in q.waiting} for q in before.questions}
    assert "semi-resident-status" in waiting["flows.kp-to-cn.has_work_and_shelter"]
    assert "identify-refugees" in waiting["flows.kp-to-cn.persecution_risk_on_return"]
    request["scenario"]["flows"][0]["legal_status"] = "regular"
    after = next_step(engine, request)
    assert "flows.kp-to-cn.has_work_and_shelter" not in {q.field for q in after.questions}
    assert not any(w.rule in ("semi-resident-status", "identify-refugees") for q in after.questions for w in q.waiting)
    # persecution risk still matters, through the human-security finding, but no longer for identify-refugees
    assert {c.rule for c in before.open} >= {"semi-resident-status", "identify-refugees"}
    assert not {c.rule for c in after.open} & {"semi-resident-status", "identify-refugees"}


def test_dont_know_is_final_and_decides_what_waited_only_on_it(engine: Engine) -> None:
    request = known_except(NK, "flows.kp-to-cn.has_work_and_shelter")
    assert [q.field for q in next_step(engine, request).questions] == ["flows.kp-to-cn.has_work_and_shelter"]
    request["unknown"].append("flows.kp-to-cn.has_work_and_shelter")
    step = next_step(engine, request)
    assert step.decided and step.questions == []
    assert "semi-resident-status" not in {c.rule for c in step.holding + step.open}
    assert "semi-resident-status" not in step.report.recommendation_ids()


def test_a_question_says_which_rule_waits_on_it_for_whom_and_what_it_needs_to_know(engine: Engine) -> None:
    step = next_step(engine, known_except(NK, "flows.kp-to-cn.has_work_and_shelter"))
    (question,) = step.questions
    assert question.reason == (
        "asked because *Grant semi-resident status to those who can prove work and shelter* to China needs to know "
        "whether (some of) North Korean migrants in China can prove they have work and shelter"
    )
    (waiting,) = question.waiting
    assert (waiting.rule, waiting.subject.key if waiting.subject else None, waiting.actors) == ("semi-resident-status", "kp-to-cn", ["CN"])
    assert waiting.conditions == ["the flow's proof of work and shelter is true"]
    assert question.kind == "bool" and question.choices == ["true", "false"]
    assert not step.decided and {c.rule for c in step.open} == {"semi-resident-status"}
    assert {c.rule for c in step.holding} == {"adopt-international-conventions", "identify-refugees", "humanitarian-assistance"}


def test_a_reason_follows_the_findings_a_rule_needs_and_needs_absent(engine: Engine) -> None:
    step = next_step(engine, known_except(RU_JP, "flows.ru-to-jp.abuse"))
    (question,) = step.questions
    assert question.field == "flows.ru-to-jp.abuse"
    assert question.reason == (
        "asked because *Expand public and private citizens' exchanges* to Japan and Russia "
        "(through *Cultural friction short of a security challenge*, which needs the absence of *A human-security challenge*) "
        "needs to know how much mental and physical abuse Russian residents and visitors in Japan suffer"
    )
    # the findings on the way wait on it too (the reason names the recommendation; the list has them all)
    assert [w.rule for w in question.waiting] == ["citizen-exchanges", "human-security-challenge", "cultural-friction-short-of-security"]
    top = question.waiting[0]
    assert top.subject is not None and top.subject.key == "JP-RU"
    assert [(t.finding, t.negated) for t in top.through] == [("cultural-friction-short-of-security", False), ("human-security-challenge", True)]
    assert top.conditions == [
        (
            "at least one of: the flow's abuse is at least moderate; or the flow's risk of persecution on return is at least moderate; "
            "or the flow's recruiter exploitation is at least high; or the flow's forced prostitution is true; "
            "or the flow's indentured servitude is true; or the origin country's food insecurity is at least high"
        )
    ]
    # the recommendation holds today (nothing reported a human-security challenge) but is not decided
    assert "citizen-exchanges" in step.report.recommendation_ids()
    assert "citizen-exchanges" in {c.rule for c in step.open}


def test_a_join_on_a_fact_field_is_a_question_not_structure(engine: Engine) -> None:
    step = next_step(engine, known_except(FAR_EAST, "relations.CN-RU.rising_power"))
    (question,) = step.questions
    assert question.field == "relations.CN-RU.rising_power" and question.kind == "code" and question.choices == ["RU", "CN"]
    assert question.waiting[0].rule == "invest-in-host-region-economy"
    assert "which of China and Russia is a rising power the other feels vulnerable to" in question.reason


def test_whether_an_agreement_exists_is_asked_when_a_rule_needs_its_absence(engine: Engine) -> None:
    request = known_except(FAR_EAST)
    request["unknown"].remove("agreements.CN-RU.migration-and-trade-regime")
    (question,) = next_step(engine, request).questions
    assert question.field == "agreements.CN-RU.migration-and-trade-regime"
    assert question.reason.startswith("asked because *Cooperate on a stable and orderly cross-border migration and trade regime* to China and Russia needs to know")
    assert question.reason.endswith("whether China and Russia already have a migration and trade regime agreement")
    assert question.waiting[0].conditions == ["no agreement where the agreement is between the relation's two sides and the agreement's kind is migration-and-trade-regime"]
    # Answered yes: the agreement is stated, and the recommendation no longer holds.
    data = json.loads(json.dumps(request))
    data["scenario"]["agreements"] = [{"id": "cn-ru", "between": ["RU", "CN"], "kind": "migration-and-trade-regime"}]
    step = next_step(engine, data)
    assert step.decided and "cooperative-migration-and-trade-regime" not in step.report.recommendation_ids()


def test_questions_are_ordered_by_how_many_undecided_rules_wait_on_them(engine: Engine) -> None:
    step = next_step(engine, {"scenario": structure_of(load_scenario(NK))})
    keys = [(-q.recommendations_waiting, -q.findings_waiting) for q in step.questions]
    assert keys == sorted(keys)
    assert step.questions[0].recommendations_waiting >= 3
    # the same request, the same questions in the same order
    assert [q.field for q in next_step(engine, {"scenario": structure_of(load_scenario(NK))}).questions] == [q.field for q in step.questions]


def test_interview_next_is_the_library_call_behind_the_endpoint(engine: Engine) -> None:
    body = InterviewRequest.model_validate_json(json.dumps(known_except(NK, "flows.kp-to-cn.has_work_and_shelter")))
    step = interview_next(body, engine=engine)
    assert json.loads(step.model_dump_json())["questions"][0]["field"] == "flows.kp-to-cn.has_work_and_shelter"
    assert set(InterviewRequest.model_json_schema()["properties"]) == {"scenario", "unknown", "goal"}


def test_a_bad_unknown_path_is_an_error_with_its_place_and_a_suggestion(engine: Engine) -> None:
    request = {"scenario": structure_of(load_scenario(NK)), "unknown": ["flows.kp-to-cn.legal_stauts", "flows.nowhere.abuse"]}
    with pytest.raises(InputError) as caught:
        next_step(engine, request)
    problems = caught.value.problems
    assert [(p.code, p.location) for p in problems] == [("unknown_field_path", "unknown[0]"), ("unknown_field_path", "unknown[1]")]
    assert "did you mean 'flows.kp-to-cn.legal_status'?" in problems[0].hint


def test_a_field_both_answered_and_unknown_is_an_error(engine: Engine) -> None:
    request = {"scenario": scenario_data(load_scenario(NK)), "unknown": ["flows.kp-to-cn.abuse"]}
    with pytest.raises(InputError) as caught:
        next_step(engine, request)
    assert caught.value.code == "answered_and_unknown"
    assert str(caught.value.problems[0]) == (
        "unknown[0]: answered_and_unknown: flows.kp-to-cn.abuse: the scenario answers it ('high'), and it is listed as unknown (drop it from one of the two)"
    )


def test_a_partial_scenario_that_does_not_validate_is_a_scenario_error(engine: Engine) -> None:
    data = structure_of(load_scenario(NK))
    data["flows"][0]["abuse"] = "awful"
    with pytest.raises(ScenarioError) as caught:
        next_step(engine, {"scenario": data})
    assert caught.value.code == "bad_value" and "flows[0].abuse" in str(caught.value)


def _with(data: dict[str, Any], values: dict[str, Any], index: Any) -> dict[str, Any]:
    from interview_sampling import set_field

    done = copy.deepcopy(data)
    for path, value in values.items():
        set_field(done, index.fields[path], value)
    return done


def test_no_sound_interview_of_russians_in_japan_asks_fewer_questions_than_the_file_states_facts(engine: Engine) -> None:
    """Exhaustively, with every counterexample evaluated by the engine: any stopping set of 12 fields or fewer leaves a recommendation open.

    A sound interview that answers as the file does stops with a set S of fields asked such that no values of the
    other fields (or leaving them unset) change a recommendation. Each field whose change alone changes one must
    be in S; every S made of those and at most 12 fields in all is refuted by a completion of the other fields.
    """
    from interview_sampling import random_value

    truth = load_scenario(RU_JP)
    data = scenario_data(truth)
    index = field_index(truth)
    base = recommendations(engine.evaluate(truth))
    stated = facts_stated(truth)
    assert stated == 13
    required = []
    for field in index.fields.values():
        choices = [None, *_all_values(field)]
        if any(recommendations(engine.evaluate(_with(data, {field.path: v}, index))) != base for v in choices):
            required.append(field.path)
    assert len(required) < stated  # what a single change shows is not enough: sets of fields have to be refuted
    rnd = random.Random(5)
    refuted = 0
    others = [p for p in index.fields if p not in required]
    for extra in itertools.chain.from_iterable(itertools.combinations(others, k) for k in range(stated - len(required))):
        asked = set(required) | set(extra)
        # the interview's report for S: its fields as the file says, the others unset
        unasked = {p: None for p in index.fields if p not in asked}
        expected = recommendations(engine.evaluate(_with(data, unasked, index)))
        for _ in range(400):
            completion = {p: random_value(rnd, index.fields[p], unset=0.3) for p in unasked}
            if recommendations(engine.evaluate(_with(data, completion, index))) != expected:
                refuted += 1
                break
        else:
            raise AssertionError(f"no completion refutes stopping after {sorted(asked)}")
    assert refuted == sum(math.comb(len(others), k) for k in range(stated - len(required)))


def _all_values(field: Any) -> list[Any]:
    from interview_sampling import random_value

    if field.kind in ("level", "enum", "code"):
        return list(field.choices)
    if field.kind == "bool":
        return [True, False]
    rnd = random.Random(field.path)
    return [random_value(rnd, field, unset=0) for _ in range(12)]
