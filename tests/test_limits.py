"""Size limits: flows, entries and engine facts refused before anything reaches durable_rules, with the limit in the
message; configurable with SizeLimits in Python and --limit NAME=N on the command line; check and evaluate agree."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import live_facts

from nea_policy.analysis.counterfactuals import apply_changes
from nea_policy.api import Engine, SizeLimits, check_sources, make_engine, read_scenario
from nea_policy.cli import main
from nea_policy.errors import EvaluationError, InputError, ScenarioError
from nea_policy.model.facts import Scenario, load_scenario
from nea_policy.model.limits import DEFAULT_LIMITS, parse_limits

ROOT = Path(__file__).resolve().parent.parent
NK = ROOT / "examples" / "north-koreans-in-china.yaml"
REGION = ROOT / "examples" / "northeast-asia.yaml"


def cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def with_flows(count: int) -> dict[str, Any]:
    """The North Korean example with its flow repeated `count` times (different ids)."""
    data = yaml.safe_load(NK.read_text(encoding="utf-8"))
    flow = data["flows"][0]
    data["flows"] = [{**copy.deepcopy(flow), "id": f"kp-to-cn-{i}"} for i in range(count)]
    return data


def write_flows(tmp_path: Path, count: int) -> Path:
    path = tmp_path / f"flows-{count}.yaml"
    path.write_text(yaml.safe_dump(with_flows(count)), encoding="utf-8")
    return path


def test_the_defaults() -> None:
    limits = DEFAULT_LIMITS
    assert (limits.max_nodes, limits.max_flows, limits.max_entries, limits.max_facts, limits.max_firings) == (200_000, 10_000, 30_000, 200_000, 100_000)


def test_a_scenario_over_the_flow_limit_is_refused_by_check_and_evaluate_alike(tmp_path: Path) -> None:
    path = write_flows(tmp_path, 12)
    line = path.read_text(encoding="utf-8").splitlines().index("flows:") + 1
    for command in ("check", "evaluate"):
        code, out, err = cli(command, path, "--limit", "flows=10")
        assert code == 1 and out == ""
        assert err.startswith(f"error: {path}:{line}:1: too_many_flows: the scenario has 12 flows, over the limit of 10 (split it into smaller scenarios, or raise the limit with --limit flows=N)"), err
    code, out, _ = cli("evaluate", path, "--limit", "flows=12", "--format", "json")
    assert code == 0 and len(json.loads(out)["scenario"]["flows"]) == 12


def test_a_scenario_over_the_entry_limit_names_what_it_holds(tmp_path: Path) -> None:
    code, _, err = cli("check", REGION, "--limit", "entries=10")
    assert code == 1
    data = yaml.safe_load(REGION.read_text(encoding="utf-8"))
    counts = {kind: len(data.get(kind) or []) for kind in ("countries", "regions", "relations", "agreements", "flows")}
    held = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    assert f"{REGION}:3:1: too_many_entries: the scenario has {sum(counts.values())} entries ({held}), over the limit of 10" in err, err


@pytest.mark.parametrize(("item", "words"), [("rows=5", "no limit named 'rows'"), ("flows=many", "is not a whole number"), ("flows=0", "is not a whole number"), ("flows", "is not a whole number")])
def test_a_bad_limit_is_a_located_error(item: str, words: str) -> None:
    code, _, err = cli("check", NK, "--limit", item)
    assert code == 1 and err.startswith("error: --limit: bad_limit: ") and words in err, err


def test_limits_parse_over_a_base() -> None:
    limits = parse_limits(["flows=50_000", "NODES=1,000,000"])
    assert (limits.max_flows, limits.max_nodes, limits.max_entries) == (50_000, 1_000_000, DEFAULT_LIMITS.max_entries)
    with pytest.raises(InputError) as caught:
        parse_limits(["x=1", "flows=-1"])
    assert [p.code for p in caught.value.problems] == ["bad_limit", "bad_limit"]


def test_the_node_limit_applies_to_files_and_is_configurable(tmp_path: Path) -> None:
    code, _, err = cli("check", NK, "--limit", "nodes=20")
    assert code == 1 and "too_many_nodes: the document expands to more than 20 values" in err
    assert read_scenario(NK, limits=SizeLimits(max_nodes=10_000)).flows


def test_check_sources_and_read_scenario_take_limits(tmp_path: Path) -> None:
    path = write_flows(tmp_path, 3)
    (result,) = check_sources([str(path)], limits=SizeLimits(max_flows=2))
    assert not result.ok and result.problems[0].code == "too_many_flows"
    assert len(read_scenario(path, limits=SizeLimits(max_flows=3)).flows) == 3


def test_the_engine_refuses_a_scenario_over_its_limits_before_durable_rules_sees_it() -> None:
    scenario = Scenario.model_validate(with_flows(5))  # validated directly: no document, no size check on the way
    engine = make_engine(limits=SizeLimits(max_flows=4))
    with pytest.raises(ScenarioError) as caught:
        engine.evaluate(scenario)
    assert caught.value.code == "too_many_flows" and "over the limit of 4" in str(caught.value)
    assert live_facts(engine) == []
    assert len(make_engine(limits=SizeLimits(max_flows=5)).evaluate(scenario).scenario.flows) == 5


def test_the_engine_fact_limit_counts_findings_as_they_are_derived() -> None:
    engine = Engine(limits=SizeLimits(max_facts=20))
    with pytest.raises(EvaluationError) as caught:
        engine.evaluate(REGION)  # 18 entries, 1 stratum marker: the findings pass the limit
    assert caught.value.code == "too_many_facts" and "more than 20 engine facts" in str(caught.value)
    assert "--limit facts=N" in caught.value.problems[0].hint
    assert live_facts(engine) == []
    assert Engine(limits=SizeLimits(max_facts=200)).evaluate(REGION).recommendations


def test_an_engine_with_raised_limits_reads_and_evaluates_within_them(tmp_path: Path) -> None:
    path = write_flows(tmp_path, 3)
    with pytest.raises(ScenarioError):
        Engine(limits=SizeLimits(max_flows=2)).evaluate(path)
    assert len(Engine(limits=SizeLimits(max_flows=3)).evaluate(path).scenario.flows) == 3


def test_what_if_explain_and_sweep_apply_the_same_limits(tmp_path: Path) -> None:
    path = write_flows(tmp_path, 3)
    for args in (["what-if", path, "--set", "flows.kp-to-cn-0.abuse=low"], ["explain", path, "identify-refugees"], ["sweep", path, "--vary", "flows.kp-to-cn-0.abuse=low,high"]):
        code, _, err = cli(*args, "--limit", "flows=2")
        assert code == 1 and "too_many_flows" in err, (args, err)
        code, _, err = cli(*args, "--limit", "flows=3")
        assert code == 0, (args, err)


def test_changes_proposed_by_the_search_are_validated_within_the_engine_limits() -> None:
    scenario = load_scenario(with_flows(3))
    assert len(apply_changes(scenario, [], SizeLimits(max_flows=3)).flows) == 3
    with pytest.raises(ScenarioError):
        apply_changes(scenario, [], SizeLimits(max_flows=2))


def test_sweep_workers_run_under_the_parent_engine_limits() -> None:
    engine = make_engine(limits=SizeLimits(max_facts=5))
    with pytest.raises(EvaluationError) as caught:
        engine.sweep(NK, {"flows.kp-to-cn.abuse": ["low", "high"]}, jobs=2, min_points_per_job=1)
    assert caught.value.code == "too_many_facts"


def test_the_firing_limit_stops_an_evaluation_and_leaves_the_engine_clean() -> None:
    engine = Engine(limits=SizeLimits(max_firings=10))
    with pytest.raises(EvaluationError) as caught:
        engine.evaluate(REGION)
    assert caught.value.code == "too_many_firings" and "more than 10 rule firings" in str(caught.value)
    assert live_facts(engine) == []
    assert Engine(limits=SizeLimits(max_firings=1000)).evaluate(REGION).recommendations


def test_the_firing_limit_holds_in_a_sweep_session() -> None:
    with pytest.raises(EvaluationError) as caught:
        make_engine(limits=SizeLimits(max_firings=5)).sweep(NK, {"flows.kp-to-cn.abuse": ["low", "high"]})
    assert caught.value.code == "too_many_firings"


def test_an_engine_limit_is_located_at_the_file_on_the_command_line() -> None:
    for command in (["evaluate", REGION], ["explain", REGION, "identify-refugees"], ["sweep", REGION, "--vary", "flows.kp-to-cn.abuse=low,high"]):
        code, _, err = cli(*command, "--limit", "firings=10")
        assert code == 1 and err.splitlines()[-1].startswith(f"error: {REGION}: too_many_firings: "), err
