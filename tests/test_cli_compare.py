"""The library behind compare and what-if: fact differences, conclusion changes and the facts behind them; --set paths."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from nea_policy.analysis.compare import compare_scenarios, diff_scenarios
from nea_policy.analysis.whatif import what_if
from nea_policy.engine.engine import Engine
from nea_policy.errors import InputError
from nea_policy.model.documents import load_document
from nea_policy.model.facts import Scenario, scenario_from_document
from nea_policy.model.paths import apply_assignments, parse_assignment

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def far_east() -> dict:
    return load_document(EXAMPLES / "chinese-in-the-russian-far-east.yaml").data


def test_adding_an_agreement_removes_the_regime_recommendation_and_names_the_agreement(engine: Engine, far_east: dict) -> None:
    variant = copy.deepcopy(far_east)
    variant["agreements"] = [{"id": "ru-cn-regime", "between": ["CN", "RU"], "kind": "migration-and-trade-regime"}]
    comparison = compare_scenarios(Scenario.model_validate(far_east), Scenario.model_validate(variant), engine)
    assert [(c.path, c.change, c.after) for c in comparison.fact_changes] == [
        ("agreements.ru-cn-regime", "added", {"id": "ru-cn-regime", "between": ["CN", "RU"], "kind": "migration-and-trade-regime"})
    ]
    [change] = comparison.recommendations
    assert (change.id, change.change, change.actors_before, change.because) == (
        "cooperative-migration-and-trade-regime",
        "disappeared",
        ["CN", "RU"],
        ["agreements.ru-cn-regime"],
    )
    assert comparison.unchanged_recommendations == ["invest-in-host-region-economy russian-far-east"]


def test_an_unrelated_difference_is_not_blamed(engine: Engine, far_east: dict) -> None:
    variant = copy.deepcopy(far_east)
    variant["countries"][0]["regional_development_gap"] = "low"  # read by no rule
    variant["flows"][0]["host_fear"] = "none"  # read by the alarm finding
    variant["flows"][0]["nationalist_framing"] = False
    comparison = compare_scenarios(Scenario.model_validate(far_east), Scenario.model_validate(variant), engine)
    assert {c.path for c in comparison.fact_changes} == {
        "countries.CN.regional_development_gap",
        "flows.cn-to-russian-far-east.host_fear",
        "flows.cn-to-russian-far-east.nationalist_framing",
    }
    changed = {c.id: c.because for c in comparison.recommendations}
    assert changed["cooperative-migration-and-trade-regime"] == [
        "flows.cn-to-russian-far-east.host_fear",
        "flows.cn-to-russian-far-east.nationalist_framing",
    ]


def test_relation_order_and_list_order_are_not_differences(far_east: dict) -> None:
    variant = copy.deepcopy(far_east)
    variant["relations"][0]["between"] = list(reversed(variant["relations"][0]["between"]))
    variant["countries"].reverse()
    assert diff_scenarios(Scenario.model_validate(far_east), Scenario.model_validate(variant)) == []


def test_a_removed_flow_takes_its_conclusions_with_it(engine: Engine, far_east: dict) -> None:
    variant = copy.deepcopy(far_east)
    variant["flows"] = []
    comparison = compare_scenarios(Scenario.model_validate(far_east), Scenario.model_validate(variant), engine)
    assert [c.path for c in comparison.fact_changes] == ["flows.cn-to-russian-far-east"]
    assert comparison.recommendations and all(c.change == "disappeared" for c in comparison.recommendations)
    assert all("flows.cn-to-russian-far-east" in c.because for c in comparison.recommendations + comparison.findings)


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        ("flows.f.legal_status=regular", ("flows", "f", "legal_status"), "regular"),
        ("relations.CN-RU.proximity=false", ("relations", "CN-RU", "proximity"), False),
        ("flows.f.sectors=[construction, agriculture]", ("flows", "f", "sectors"), ["construction", "agriculture"]),
        ("flows.f.estimates.0.high=300000", ("flows", "f", "estimates", "0", "high"), 300000),
        ("flows.f.abuse=", ("flows", "f", "abuse"), None),
        ("flows.f.abuse=null", ("flows", "f", "abuse"), None),
        ("title=What if: a = b", ("title",), "What if: a = b"),
    ],
)
def test_parse_assignment_reads_values_like_yaml(text: str, path: tuple[str, ...], value: object) -> None:
    parsed = parse_assignment(text)
    assert (parsed.path, parsed.value) == (path, value)


def test_apply_assignments_by_code_pair_in_either_order_index_and_unset(far_east: dict) -> None:
    sets = [
        "countries.CN.surplus_labor=low",
        "relations.CN-RU.proximity=false",
        "flows.0.legal_status=",
        "flows.cn-to-russian-far-east.estimates.1.high=300000",
        "regions.russian-far-east.labor_shortage=severe",
    ]
    data = apply_assignments(far_east, [parse_assignment(s) for s in sets])
    assert data["countries"][0]["surplus_labor"] == "low"
    assert data["relations"][0]["proximity"] is False
    assert "legal_status" not in data["flows"][0]
    assert data["flows"][0]["estimates"][1]["high"] == 300000
    assert data["regions"][0]["labor_shortage"] == "severe"
    assert far_east["countries"][0]["surplus_labor"] == "high"  # the original is untouched


def test_apply_assignments_reports_every_bad_path(far_east: dict) -> None:
    with pytest.raises(InputError) as caught:
        apply_assignments(far_east, [parse_assignment(s) for s in ["flows.nope.abuse=low", "countries.CN.labor_shortag=x", "flows.0.estimates.9.high=1", "countries.CN.zzz=1"]])
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == 4
    assert "no entry in flows has the id 'nope'" in messages[0]
    assert "a country has no field 'labor_shortag'" in messages[1] and caught.value.problems[1].hint == "did you mean 'labor_shortage'?"
    assert caught.value.problems[3].hint.startswith("fields: labor_shortage, ")
    assert "'9' is not a position in a list of 2" in messages[2]


def test_what_if_keeps_the_original_and_labels_the_variant(engine: Engine) -> None:
    document = load_document(EXAMPLES / "north-koreans-in-china.yaml")
    base, variant, comparison = what_if(document, ["flows.kp-to-cn.legal_status=regular"], engine)
    assert base == scenario_from_document(document)
    assert variant.flows[0].legal_status is not None and variant.flows[0].legal_status.value == "regular"
    assert comparison.variant == "what if flows.kp-to-cn.legal_status=regular"
    assert {c.id for c in comparison.recommendations} == {"identify-refugees", "humanitarian-assistance", "semi-resident-status"}
