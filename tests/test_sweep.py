"""Sweeps: every grid point of the incremental session equals an isolated evaluation; processes change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nea_policy.analysis.sweep import MAX_POINTS_CEILING, SweepResult, grid, grid_size, parse_vary, sweep
from nea_policy.api import Engine
from nea_policy.errors import InputError, NeaPolicyError
from nea_policy.model.facts import load_scenario
from nea_policy.model.paths import apply_assignments, parse_assignment
from nea_policy.render.sweep import (
    render_sweep_csv,
    render_sweep_markdown,
    render_sweep_text,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NK = EXAMPLES / "north-koreans-in-china.yaml"
NK_VARY = ["flows.kp-to-cn.legal_status=regular,irregular,unclear,mixed", "flows.kp-to-cn.fear_of_exposure=none,moderate,high"]


def isolated(engine: Engine, path: Path, values: dict[str, Any]) -> dict[str, list[str]]:
    """What a fresh evaluation of the grid point's scenario recommends: id -> sorted subjects."""
    data = load_scenario(path).model_dump(mode="json", exclude_none=True)
    text = {p: (v if isinstance(v, str) else json.dumps(v)) for p, v in values.items()}
    report = engine.evaluate(apply_assignments(data, [parse_assignment(f"{p}={v}") for p, v in text.items()]))
    holds: dict[str, list[str]] = {}
    for rec in report.recommendations:
        holds.setdefault(rec.rule, []).append(rec.subject.key)
    return {k: sorted(v) for k, v in holds.items()}


def assert_every_point_isolated(engine: Engine, path: Path, result: SweepResult) -> None:
    assert len(result.points) == grid_size(result.vary)
    for point in result.points:
        assert point.holds == isolated(engine, path, point.values), f"grid point {point.values}"


def test_north_korea_grid_matches_isolated_evaluations(engine: Engine) -> None:
    result = sweep(engine, load_scenario(NK), parse_vary(NK_VARY))
    assert_every_point_isolated(engine, NK, result)
    # The grid is not idle: the article's three North Korea recommendations come and go across it.
    assert {"identify-refugees", "semi-resident-status", "humanitarian-assistance"} <= set(result.recommendations)
    assert any(not p.holds.get("identify-refugees") for p in result.points)


def test_negated_findings_come_and_go_through_the_session(engine: Engine) -> None:
    """citizen-exchanges rests on a finding that negates two others: switching them on and off and back must be exact."""
    path = EXAMPLES / "russians-in-japan.yaml"
    vary = parse_vary(["flows.ru-to-jp.abuse=none,moderate,none", "flows.ru-to-jp.host_fear=low,high", "flows.ru-to-jp.nationalist_framing=false,true"])
    result = sweep(engine, load_scenario(path), vary)
    assert_every_point_isolated(engine, path, result)
    assert any("citizen-exchanges" in p.holds for p in result.points)
    assert any("citizen-exchanges" not in p.holds for p in result.points)


def test_absent_agreement_and_region_changes(engine: Engine) -> None:
    path = EXAMPLES / "chinese-in-the-russian-far-east.yaml"
    vary = parse_vary(["relations.CN-RU.proximity=true,false", "countries.CN.surplus_labor=none,high", "regions.russian-far-east.population_decline=low,high"])
    result = sweep(engine, load_scenario(path), vary)
    assert_every_point_isolated(engine, path, result)


def test_region_wide_grid_matches_isolated_evaluations(engine: Engine) -> None:
    path = EXAMPLES / "northeast-asia.yaml"
    vary = parse_vary(["flows.kp-to-cn.legal_status=unclear,regular", "relations.JP-RU.cultural_gap=low,high", "countries.JP.restrictive_migration_policy=true,false"])
    result = sweep(engine, load_scenario(path), vary)
    assert_every_point_isolated(engine, path, result)


def test_evaluate_is_unchanged_after_a_sweep(engine: Engine) -> None:
    before = engine.evaluate(NK).to_json()
    sweep(engine, load_scenario(NK), parse_vary(NK_VARY))
    assert engine.evaluate(NK).to_json() == before


def test_processes_give_the_same_table_as_one_process(engine: Engine) -> None:
    scenario, vary = load_scenario(NK), parse_vary(NK_VARY)
    single = sweep(engine, scenario, vary, jobs=1)
    multi = sweep(engine, scenario, vary, jobs=2, min_points_per_job=1)
    assert multi == single
    assert render_sweep_text(multi) == render_sweep_text(single)


def test_grid_over_the_limit_is_refused_unless_raised(engine: Engine) -> None:
    scenario, vary = load_scenario(NK), parse_vary(NK_VARY)
    with pytest.raises(InputError) as caught:
        sweep(engine, scenario, vary, max_points=11)
    assert caught.value.code == "grid_too_large" and "12 points" in str(caught.value)
    assert len(sweep(engine, scenario, vary, max_points=12).points) == 12


def test_no_max_raises_a_grid_past_what_memory_holds(engine: Engine) -> None:
    """A grid is enumerated as it is walked; one past the ceiling is refused at once, whatever --max says."""
    values = ",".join(f"t{i}" for i in range(MAX_POINTS_CEILING // 1000 + 1))
    vary = parse_vary([f"title={values}", "description=" + ",".join(f"d{i}" for i in range(1000))])
    assert grid_size(vary) > MAX_POINTS_CEILING
    with pytest.raises(InputError) as caught:
        sweep(engine, load_scenario(NK), vary, max_points=10**40)
    assert caught.value.code == "grid_too_large" and f"over the {MAX_POINTS_CEILING:,} a sweep can hold in memory" in str(caught.value)
    points = grid({"a": list(range(10**6)), "b": list(range(10**6))})
    assert not isinstance(points, list) and next(points) == (0, 0) and next(points) == (0, 1)


@pytest.mark.parametrize(
    "item, code",
    [
        ("flows.kp-to-cn.legal_status", "bad_vary"),
        ("flows.kp-to-cn.legal_status=", "bad_vary"),
        ("flows.nowhere.legal_status=unclear", "bad_set_path"),
        ("flows.kp-to-cn.colour=red", "bad_set_path"),
        ("flows.kp-to-cn.legal_status=unclear,bogus", "bad_grid_point"),
    ],
)
def test_bad_vary_is_an_error_that_names_it(engine: Engine, item: str, code: str) -> None:
    with pytest.raises(NeaPolicyError) as caught:
        sweep(engine, load_scenario(NK), parse_vary([item]))
    assert caught.value.code == code


def test_renderings(engine: Engine) -> None:
    result = sweep(engine, load_scenario(NK), parse_vary(["flows.kp-to-cn.legal_status=regular,unclear"]))
    csv_text = render_sweep_csv(result).splitlines()
    assert csv_text[0].split(",")[0] == "flows.kp-to-cn.legal_status"
    unclear = next(line for line in csv_text if line.startswith("unclear"))
    column = csv_text[0].split(",").index("identify-refugees")
    assert unclear.split(",")[column] == "kp-to-cn"
    assert "| `flows.kp-to-cn.legal_status` |" in render_sweep_markdown(result)
    assert SweepResult.model_validate_json(result.to_json()) == result


def test_linking_fields_are_validated_as_whole_scenarios(engine: Engine) -> None:
    """Unsetting a flow's region unhooks the region's findings; a region in another country is refused before anything runs."""
    path = EXAMPLES / "chinese-in-the-russian-far-east.yaml"
    result = sweep(engine, load_scenario(path), parse_vary(["flows.cn-to-russian-far-east.destination_region=russian-far-east,null"]))
    assert_every_point_isolated(engine, path, result)
    assert [bool(p.holds.get("invest-in-host-region-economy")) for p in result.points] == [True, False]
    with pytest.raises(NeaPolicyError) as caught:
        sweep(engine, load_scenario(path), parse_vary(["flows.cn-to-russian-far-east.destination=CN,RU"]))
    assert caught.value.code == "same_origin_and_destination"


def test_an_agreement_that_comes_and_goes_gates_the_absent_rules(engine: Engine, tmp_path: Path) -> None:
    """bilateral-labor-migration-regime needs no labor migration regime: switching an agreement's kind back and forth."""
    import yaml

    data = yaml.safe_load((EXAMPLES / "chinese-labor-migrants-in-japan-and-korea.yaml").read_text(encoding="utf-8"))
    data["agreements"] = [{"id": "cn-jp-deal", "between": ["CN", "JP"], "kind": "trade-agreement"}]
    path = tmp_path / "with-agreement.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    vary = parse_vary(["agreements.cn-jp-deal.kind=trade-agreement,labor-migration-regime,trade-agreement", "countries.JP.labor_shortage=low,high"])
    result = sweep(engine, load_scenario(path), vary)
    assert_every_point_isolated(engine, path, result)
    subjects = [tuple(p.holds.get("bilateral-labor-migration-regime", [])) for p in result.points]
    assert len(set(subjects)) > 1


def _random_vary(rnd: Any, scenario: Any, negated: set[tuple[str, str]]) -> dict[str, list[Any]]:
    """Two or three random fact fields of a scenario, each with a few values of its kind (levels, booleans,
    enumerations); one of them, when the scenario has one, a field that what the rules negate reads (`negated`)."""
    from nea_policy.model.fact_types import FACT_TYPES

    choices: list[tuple[str, list[Any]]] = []
    for collection, fact in (("countries", "country"), ("regions", "region"), ("relations", "relation"), ("flows", "flow"), ("agreements", "agreement")):
        for entry in getattr(scenario, collection):
            key = entry.code if collection == "countries" else "-".join(sorted(entry.between)) if collection == "relations" else entry.id
            for name, spec in FACT_TYPES[fact].fields.items():
                if spec.derived or name in ("key", "code", "id", "name", "origin", "destination", "destination_region", "country", "rising_power", "between", "kind"):
                    continue
                if spec.kind in ("level", "enum"):
                    choices.append((f"{collection}.{key}.{name}", rnd.sample(list(spec.values), min(3, len(spec.values))), (fact, name) in negated))
                elif spec.kind == "bool":
                    choices.append((f"{collection}.{key}.{name}", [True, False], (fact, name) in negated))
    relevant = [c for c in choices if c[2]]
    picked = rnd.sample(choices, min(len(choices), rnd.choice([1, 2])))
    if relevant:
        picked.append(rnd.choice(relevant))
    return {path: values for path, values, _ in picked}


@pytest.mark.parametrize("seed", range(16))
def test_random_grids_match_isolated_evaluations(engine: Engine, seed: int) -> None:
    """The session keeps a stratum's marker in place when a change cannot reach what its rules negate: on random grids
    over random fields (some read through negated findings, most not), every point still equals a fresh evaluation."""
    import random

    from nea_policy.engine.session import stratum_dependencies

    negated = {(fact, name) for by_type in stratum_dependencies(engine.compiled).values() for fact, names in by_type.items() for name in names}
    rnd = random.Random(seed)
    path = rnd.choice(sorted(p for p in EXAMPLES.glob("*.yaml")))
    vary = _random_vary(rnd, load_scenario(path), negated)
    result = sweep(engine, load_scenario(path), vary)
    assert_every_point_isolated(engine, path, result)
