"""The library functions the command line and the service share: one per operation, with the same answers and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from nea_policy.analysis.sweep import parse_vary
from nea_policy.api import (
    Engine,
    check_document,
    evaluate_scenarios,
    evaluate_sources,
    what_if_document,
    what_if_source,
)
from nea_policy.errors import InputError, ScenarioError
from nea_policy.model.documents import parse_document
from nea_policy.model.facts import load_scenario, scenario_from_document
from nea_policy.model.paths import assignment_of

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NK = EXAMPLES / "north-koreans-in-china.yaml"
RU = EXAMPLES / "russians-in-japan.yaml"
REGION = EXAMPLES / "northeast-asia.yaml"


def test_evaluate_scenarios_narrows_to_an_actor_and_drops_findings(engine: Engine) -> None:
    scenario = load_scenario(RU)
    full = engine.evaluate(scenario)
    [narrow] = evaluate_scenarios(engine, [scenario], actor="RU", findings=False)
    assert narrow.findings == [] and all(r.because == [] for r in narrow.recommendations)
    assert [r.rule for r in narrow.recommendations] == [r.rule for r in full.recommendations if "RU" in r.actors]
    assert narrow.recommendations and len(narrow.recommendations) < len(full.recommendations)


def test_evaluate_scenarios_without_options_is_the_engine_report(engine: Engine) -> None:
    scenario = load_scenario(NK)
    assert evaluate_scenarios(engine, [scenario])[0].to_json() == engine.evaluate(scenario).to_json()


def test_an_actor_no_scenario_declares_is_an_error_naming_those_declared(engine: Engine) -> None:
    with pytest.raises(InputError) as caught:
        evaluate_scenarios(engine, [load_scenario(NK)], actor="KR")
    [problem] = caught.value.problems
    assert (problem.code, problem.location, problem.message) == ("unknown_actor", "--actor", "KR is not a country or party of the scenario; declared: CN, KP")


def test_evaluate_sources_narrows_as_evaluate_scenarios_does(engine: Engine) -> None:
    [from_file] = evaluate_sources([str(RU)], actor="JP", findings=False)
    assert from_file.to_json() == evaluate_scenarios(engine, [load_scenario(RU)], actor="JP", findings=False)[0].to_json()


def test_check_document_counts_what_a_valid_scenario_declares() -> None:
    result = check_document(parse_document(REGION.read_text(encoding="utf-8"), "region.yaml"))
    assert result.ok and result.source == "region.yaml"
    assert result.counts == {"countries": 6, "regions": 1, "relations": 5, "agreements": 0, "flows": 5}


def test_check_document_gives_every_problem_with_its_path() -> None:
    text = "countries:\n  - code: CN\n    name: China\n    labour_shortage: high\n    food_insecurity: awful\n"
    result = check_document(parse_document(text, "typo.yaml"))
    assert not result.ok and result.counts == {}
    assert [(p.code, p.location, p.path) for p in result.problems] == [
        ("unknown_field", "typo.yaml:4:5", ("countries", 0, "labour_shortage")),
        ("bad_value", "typo.yaml:5:5", ("countries", 0, "food_insecurity")),
    ]


def test_reference_problems_carry_their_path_too() -> None:
    text = '{"countries": [{"code": "CN", "name": "China"}], "flows": [{"id": "f", "name": "F", "origin": "CN", "destination": "JP"}]}'
    with pytest.raises(ScenarioError) as caught:
        scenario_from_document(parse_document(text, "body", fmt="json"))
    assert [(p.code, p.path) for p in caught.value.problems] == [("undeclared_country", ("flows", 0, "destination"))]


def test_a_top_level_that_is_not_a_mapping_is_located_at_the_root() -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_document(parse_document("[1, 2]", "body", fmt="json"))
    assert [(p.code, p.path) for p in caught.value.problems] == [("not_a_mapping", ())]


def test_what_if_document_answers_the_changed_report_and_the_comparison(engine: Engine) -> None:
    document = parse_document(NK.read_text(encoding="utf-8"), str(NK))
    result = what_if_document(engine, document, ["flows.kp-to-cn.legal_status=regular"])
    assert result.comparison == what_if_source(str(NK), ["flows.kp-to-cn.legal_status=regular"])
    changed = load_scenario(NK).model_dump(mode="json", exclude_none=True)
    changed["flows"][0]["legal_status"] = "regular"
    assert result.report.to_json() == engine.evaluate(changed).to_json()
    assert "identify-refugees" not in result.report.recommendation_ids()


def test_changes_given_as_data_are_the_same_as_changes_given_as_text(engine: Engine) -> None:
    document = parse_document(NK.read_text(encoding="utf-8"), str(NK))
    as_text = what_if_document(engine, document, ["flows.kp-to-cn.estimates.0.high=3000000", "flows.kp-to-cn.unskilled=false"])
    as_data = what_if_document(engine, document, [assignment_of("flows.kp-to-cn.estimates.0.high", 3000000), assignment_of("flows.kp-to-cn.unskilled", False)])
    assert as_data.report == as_text.report
    assert as_data.comparison.fact_changes == as_text.comparison.fact_changes


def test_a_change_given_as_data_is_located_where_it_was_asked_for(engine: Engine) -> None:
    document = parse_document(NK.read_text(encoding="utf-8"), str(NK))
    with pytest.raises(InputError) as caught:
        what_if_document(engine, document, [assignment_of("flows.kp-to-cnn.legal_status", "regular", origin="#/set/flows.kp-to-cnn.legal_status")])
    [problem] = caught.value.problems
    assert problem.code == "bad_set_path" and problem.location == "#/set/flows.kp-to-cnn.legal_status"
    assert problem.message.startswith("'flows.kp-to-cnn.legal_status=regular': no entry in flows") and problem.hint == "did you mean 'kp-to-cn'?"
    with pytest.raises(ScenarioError) as invalid:
        what_if_document(engine, document, [assignment_of("flows.kp-to-cn.abuse", "awful", origin="#/set/flows.kp-to-cn.abuse")])
    assert [p.location for p in invalid.value.problems] == ["#/set/flows.kp-to-cn.abuse"]


def test_a_sweep_under_a_time_bound_says_it_was_cut_short(engine: Engine) -> None:
    vary = parse_vary(["flows.kp-to-cn.legal_status=regular,irregular,unclear,mixed", "flows.kp-to-cn.fear_of_exposure=none,low,moderate,high,severe"])
    whole = engine.sweep(load_scenario(NK), vary, seconds=60)
    assert whole.stopped_by is None and len(whole.points) == 20 and '"stopped_by"' not in whole.to_json()
    cut = engine.sweep(load_scenario(NK), vary, seconds=1e-9)
    assert cut.stopped_by == "seconds" and len(cut.points) < 20
    assert cut.points == whole.points[: len(cut.points)]
    assert '"stopped_by": "seconds"' in cut.to_json()


def test_sweep_problems_are_located_where_each_path_was_asked_for(engine: Engine) -> None:
    with pytest.raises(InputError) as caught:
        engine.sweep(load_scenario(NK), {"flows.kp-to-cn.legal_statu": ["regular"]}, origins={"flows.kp-to-cn.legal_statu": "#/vary/flows.kp-to-cn.legal_statu"})
    assert [p.location for p in caught.value.problems] == ["#/vary/flows.kp-to-cn.legal_statu"]
