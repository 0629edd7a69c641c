"""Every condition form compiles onto durable_rules and matches exactly what it says; the engine's traps are handled."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from nea_policy.engine.engine import Engine
from nea_policy.errors import EvaluationError

SOURCE = {"section": "Test", "quote": "a quote"}


def make_engine(tmp_path: Path, rules: list[dict[str, Any]]) -> Engine:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    for rule in rules:
        rule.setdefault("source", SOURCE)
        rule.setdefault("justification", "because")
        rule.setdefault("title", rule["id"])
        if rule["kind"] == "recommendation":
            rule.setdefault("actors", ["host.code"] if "host" in rule["facts"] else ["flow.destination"])
    (folder / "rules.yaml").write_text(yaml.safe_dump({"rules": rules}, sort_keys=False), encoding="utf-8")
    return Engine(rules=[folder])


def flow_rule(*conditions: Any, rule_id: str = "probe") -> dict[str, Any]:
    return {"id": rule_id, "kind": "recommendation", "subject": "flow", "facts": {"flow": "flow"}, "when": list(conditions)}


def scenario(*flows: dict[str, Any], countries: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    base_countries = countries or [{"code": "AA" if False else "CN", "name": "Origin"}, {"code": "JP", "name": "Host"}]
    full = []
    for i, flow in enumerate(flows):
        full.append({"id": f"f{i}", "name": f"flow {i}", "origin": "CN", "destination": "JP", **flow})
    return {"countries": base_countries, "flows": full, **extra}


def fired(engine: Engine, data: dict[str, Any], rule: str = "probe") -> list[str]:
    return sorted(r.subject.key for r in engine.evaluate(data).recommendations if r.rule == rule)


FLOWS = [
    {"abuse": "none", "legal_status": "regular", "kinds": ["traders"], "unskilled": True},
    {"abuse": "moderate", "legal_status": "irregular", "kinds": ["trainees", "students"], "unskilled": False},
    {"abuse": "severe", "legal_status": "unclear", "kinds": []},
    {},  # nothing known: missing fields never match, not even negative tests
]

CASES = [
    ("flow.abuse == moderate", ["f1"]),
    ("flow.abuse != moderate", ["f0", "f2"]),
    ("flow.abuse > moderate", ["f2"]),
    ("flow.abuse >= moderate", ["f1", "f2"]),
    ("flow.abuse < moderate", ["f0"]),
    ("flow.abuse <= moderate", ["f0", "f1"]),
    ("flow.legal_status in [irregular, unclear]", ["f1", "f2"]),
    ("flow.legal_status not in [irregular, unclear]", ["f0"]),
    ("flow.kinds contains trainees", ["f1"]),
    ("flow.kinds not contains trainees", ["f0", "f2", "f3"]),  # an empty list contains nothing ($iall alone is false on [])
    ("flow.unskilled == true", ["f0"]),
    ("flow.unskilled == false", ["f1"]),
    ("flow.legal_status is set", ["f0", "f1", "f2"]),
    ("flow.legal_status is not set", ["f3"]),
    ({"any": ["flow.abuse >= severe", "flow.kinds contains traders"]}, ["f0", "f2"]),
    ({"any": [["flow.abuse >= moderate", "flow.unskilled == false"], "flow.legal_status == regular"]}, ["f0", "f1"]),
]


@pytest.mark.parametrize(("condition", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_condition_forms(tmp_path: Path, condition: Any, expected: list[str]) -> None:
    engine = make_engine(tmp_path, [flow_rule(condition)])
    assert fired(engine, scenario(*FLOWS)) == expected


def test_single_fact_any_is_one_durable_rule_with_or(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, [flow_rule({"any": ["flow.abuse >= severe", "flow.unskilled == true"]})])
    definition = engine.definition()["nea_policy"]
    assert list(definition) == ["probe"]
    assert "$or" in repr(definition["probe"])


def test_join_compares_fields_of_two_facts(tmp_path: Path) -> None:
    rule = {
        "id": "probe", "kind": "recommendation", "subject": "flow",
        "facts": {"flow": "flow", "host": "country"},
        "when": ["host.code == flow.destination", "host.labor_shortage >= moderate"],
    }
    engine = make_engine(tmp_path, [rule])
    countries = [{"code": "CN", "name": "O", "labor_shortage": "severe"}, {"code": "JP", "name": "H", "labor_shortage": "moderate"}, {"code": "KR", "name": "K", "labor_shortage": "none"}]
    flows = [{"id": "to-jp", "name": "a", "origin": "CN", "destination": "JP"}, {"id": "to-kr", "name": "b", "origin": "CN", "destination": "KR"}]
    assert fired(engine, {"countries": countries, "flows": flows}) == ["to-jp"]


def test_join_with_an_ordering(tmp_path: Path) -> None:
    rule = {
        "id": "probe", "kind": "recommendation", "subject": "flow",
        "facts": {"flow": "flow", "host": "country", "origin": "country"},
        "when": ["host.code == flow.destination", "origin.code == flow.origin", "origin.surplus_labor > host.surplus_labor"],
    }
    engine = make_engine(tmp_path, [rule])
    countries = [{"code": "CN", "name": "O", "surplus_labor": "high"}, {"code": "JP", "name": "H", "surplus_labor": "low"}, {"code": "KR", "name": "K", "surplus_labor": "severe"}]
    flows = [{"id": "to-jp", "name": "a", "origin": "CN", "destination": "JP"}, {"id": "to-kr", "name": "b", "origin": "CN", "destination": "KR"}]
    assert fired(engine, {"countries": countries, "flows": flows}) == ["to-jp"]


def test_or_across_a_join_fires_for_every_branch(tmp_path: Path) -> None:
    """durable_rules' $or across a join matches only its first branch: the compiler expands it into separate rules."""
    rule = {
        "id": "probe", "kind": "recommendation", "subject": "flow",
        "facts": {"flow": "flow", "host": "country"},
        "when": ["host.code == flow.destination", {"any": ["host.labor_shortage >= high", "flow.illegal_work >= high"]}],
    }
    engine = make_engine(tmp_path, [rule])
    assert sorted(engine.definition()["nea_policy"]) == ["probe", "probe#2"]
    countries = [{"code": "CN", "name": "O"}, {"code": "JP", "name": "H", "labor_shortage": "high"}, {"code": "KR", "name": "K", "labor_shortage": "low"}]
    flows = [
        {"id": "first-branch", "name": "a", "origin": "CN", "destination": "JP"},
        {"id": "second-branch", "name": "b", "origin": "CN", "destination": "KR", "illegal_work": "high"},
        {"id": "neither", "name": "c", "origin": "CN", "destination": "KR"},
        {"id": "both", "name": "d", "origin": "CN", "destination": "JP", "illegal_work": "severe"},
    ]
    report = engine.evaluate({"countries": countries, "flows": flows})
    assert sorted(r.subject.key for r in report.recommendations) == ["both", "first-branch", "second-branch"]


def test_absence_of_a_base_fact_sees_facts_asserted_after_the_positive_one(tmp_path: Path) -> None:
    """none() only sees facts present when the positive fact arrives; flows are asserted after countries, so an
    ungated rule 'a country with no flow to it' would fire wrongly. Stratum markers make the order irrelevant."""
    rule = {
        "id": "probe", "kind": "recommendation", "subject": "host",
        "facts": {"host": "country"},
        "when": ["host.labor_shortage >= low"],
        "absent": [{"fact": "flow", "when": ["flow.destination == host.code"]}],
    }
    engine = make_engine(tmp_path, [rule])
    countries = [{"code": "CN", "name": "O", "labor_shortage": "low"}, {"code": "JP", "name": "H", "labor_shortage": "high"}]
    data = {"countries": countries, "flows": [{"id": "a", "name": "a", "origin": "CN", "destination": "JP"}]}
    assert fired(engine, data) == ["CN"]
    data["flows"] = []
    assert fired(engine, data) == ["CN", "JP"]


def test_absence_of_a_derived_finding_is_stratified(tmp_path: Path) -> None:
    rules = [
        {"id": "abused", "kind": "finding", "subject": "flow", "facts": {"flow": "flow"}, "when": ["flow.abuse >= high"]},
        {
            "id": "probe", "kind": "recommendation", "subject": "flow", "facts": {"flow": "flow"},
            "when": ["flow.legal_status is set"],
            "absent": [{"fact": "finding:abused", "as": "abuse", "when": ["abuse.subject == flow.key"]}],
        },
    ]
    engine = make_engine(tmp_path, rules)
    assert engine.compiled.strata == (1,)
    flows = [{"legal_status": "regular", "abuse": "high"}, {"legal_status": "regular", "abuse": "low"}]
    assert fired(engine, scenario(*flows)) == ["f1"]


def test_a_negation_cycle_is_refused(tmp_path: Path) -> None:
    from nea_policy.errors import RuleError

    rules = [
        {"id": "a", "kind": "finding", "subject": "flow", "facts": {"flow": "flow"}, "when": ["flow.abuse is set"],
         "absent": [{"fact": "finding:b", "as": "nb", "when": ["nb.subject == flow.key"]}]},
        {"id": "b", "kind": "finding", "subject": "flow", "facts": {"flow": "flow"}, "when": ["flow.abuse is set"],
         "absent": [{"fact": "finding:a", "as": "na", "when": ["na.subject == flow.key"]}]},
    ]
    with pytest.raises(RuleError) as caught:
        make_engine(tmp_path, rules)
    assert caught.value.code == "negation_cycle"


def test_findings_chain_forward(tmp_path: Path) -> None:
    rules = [
        {"id": "one", "kind": "finding", "subject": "flow", "facts": {"flow": "flow"}, "when": ["flow.abuse >= moderate"]},
        {"id": "two", "kind": "finding", "subject": "flow", "facts": {"flow": "flow", "f": "finding:one"}, "when": ["f.subject == flow.key", "flow.unskilled == true"]},
        {"id": "probe", "kind": "recommendation", "subject": "flow", "facts": {"flow": "flow", "f": "finding:two"}, "when": ["f.subject == flow.key"]},
    ]
    engine = make_engine(tmp_path, rules)
    report = engine.evaluate(scenario({"abuse": "high", "unskilled": True}, {"abuse": "high", "unskilled": False}, {"abuse": "low", "unskilled": True}))
    assert [r.subject.key for r in report.recommendations] == ["f0"]
    assert [n.finding for n in report.recommendations[0].because] == ["two"]
    assert [n.finding for n in report.recommendations[0].because[0].because] == ["one"]


def test_unmatched_facts_do_not_defer_firings_to_a_timer(tmp_path: Path) -> None:
    """A batch with an unmatched fact makes durable_rules' high-level assert raise and fire the rest later on its
    timer thread; the engine asserts at the C level and runs the queued actions at once."""
    engine = make_engine(tmp_path, [flow_rule("flow.legal_status == unclear")])
    assert fired(engine, scenario({"legal_status": "regular"}, {"legal_status": "unclear"})) == ["f1"]
    assert not any(isinstance(t, threading.Timer) for t in threading.enumerate())


def test_an_error_inside_an_action_is_raised_and_leaves_no_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nea_policy.engine.engine as engine_module

    engine = make_engine(tmp_path, [flow_rule("flow.abuse is set")])
    data = scenario({"abuse": "low"})

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(engine_module, "Firing", broken)
        with pytest.raises(EvaluationError) as caught:
            engine.evaluate(data)
    assert caught.value.code == "action_failed"
    assert "boom" in str(caught.value)
    assert fired(engine, data) == ["f0"]
    with pytest.raises(Exception):
        engine._host.state("e1")


def test_two_engines_with_different_rules_coexist(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_engine(tmp_path / "a", [flow_rule("flow.abuse >= high")])
    second = make_engine(tmp_path / "b", [flow_rule("flow.abuse <= low")])
    data = scenario({"abuse": "high"}, {"abuse": "low"})
    assert fired(first, data) == ["f0"]
    assert fired(second, data) == ["f1"]
    assert fired(first, data) == ["f0"]


def test_ordering_between_facts_compiles_without_comparison_joins(tmp_path: Path) -> None:
    """durable_rules crashes on `$gt` with a reference to another pattern (upstream #381): levels are expanded instead."""
    rule = {
        "id": "probe", "kind": "recommendation", "subject": "flow",
        "facts": {"flow": "flow", "host": "country", "origin": "country"},
        "when": ["host.code == flow.destination", "origin.code == flow.origin", "origin.surplus_labor > host.surplus_labor"],
    }
    engine = make_engine(tmp_path, [rule])
    definition = engine.definition()["nea_policy"]
    assert len(definition) == 10  # the level pairs (a, b) with a > b
    text = repr(definition)
    for op in ("$gt", "$gte", "$lt", "$lte"):
        assert f"'{op}': {{'surplus_labor': {{" not in text


def test_ordering_between_facts_on_numbers_is_refused(tmp_path: Path) -> None:
    from nea_policy.errors import RuleError

    rule = {
        "id": "probe", "kind": "recommendation", "subject": "flow",
        "facts": {"flow": "flow", "other": "flow"},
        "when": ["other.estimate_careful_high > flow.estimate_careful_high"],
    }
    with pytest.raises(RuleError) as caught:
        make_engine(tmp_path, [rule])
    assert caught.value.code == "unsupported_join"
    assert "#381" in str(caught.value)


def test_many_engines_and_evaluations_stay_sound(tmp_path: Path) -> None:
    """A canary for the C engine's memory bugs: every condition form, many engines, many evaluations, one process."""
    data = scenario(*FLOWS)
    for index, (condition, expected) in enumerate(CASES):
        folder = tmp_path / f"e{index}"
        folder.mkdir()
        engine = make_engine(folder, [flow_rule(condition)])
        for _ in range(20):
            assert fired(engine, data) == expected


def test_inequality_between_facts_compiles_to_value_pairs(tmp_path: Path) -> None:
    """`$neq` with a reference to another pattern crashed durable_rules on the first evaluation here."""
    rule = {
        "id": "probe", "kind": "recommendation", "subject": "flow",
        "facts": {"flow": "flow", "other": "flow"},
        "when": ["other.origin == flow.origin", "other.legal_status != flow.legal_status"],
    }
    engine = make_engine(tmp_path, [rule])
    assert "$neq" not in repr(engine.definition())
    flows = [{"id": "a", "legal_status": "regular"}, {"id": "b", "legal_status": "unclear"}, {"id": "c", "legal_status": "regular"}]
    data = {"countries": [{"code": "CN", "name": "O"}, {"code": "JP", "name": "H"}], "flows": [{"name": f["id"], "origin": "CN", "destination": "JP", **f} for f in flows]}
    for _ in range(5):
        assert fired(engine, data) == ["a", "b", "c"]


def test_inequality_between_keys_is_refused(tmp_path: Path) -> None:
    from nea_policy.errors import RuleError

    rule = {"id": "probe", "kind": "recommendation", "subject": "flow", "facts": {"flow": "flow", "other": "flow"}, "when": ["other.key != flow.key"]}
    with pytest.raises(RuleError) as caught:
        make_engine(tmp_path, [rule])
    assert caught.value.code == "unsupported_join"
