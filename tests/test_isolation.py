"""Isolation: evaluations under threads, interleaved, after a failure, and in two engines never see each other's facts."""

from __future__ import annotations

import copy
import random
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import live_facts

import nea_policy.engine.engine as engine_module
import nea_policy.engine.report_builder as report_builder_module
import nea_policy.engine.run as run_module
from nea_policy.engine.engine import Engine
from nea_policy.engine.run import FACT_IDS as _FACT_IDS
from nea_policy.errors import EvaluationError
from nea_policy.model.fact_types import encode_scenario
from nea_policy.model.facts import load_scenario

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from scenarios import generate_scenario  # noqa: E402


def _scenarios() -> list[Any]:
    """The examples, some variations of them, and generated regions: scenarios that conclude different things."""
    found: list[Any] = [load_scenario(p) for p in EXAMPLES]
    for path in EXAMPLES[:3]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for flow in data.get("flows", []):
            flow["legal_status"] = "regular"
            flow["abuse"] = "severe"
        found.append(load_scenario(data))
    found += [load_scenario(generate_scenario(n, flows_per_country=2, seed=seed)) for n in (4, 6) for seed in (1, 2)]
    return found


def test_eight_threads_at_once_give_what_sequential_fresh_evaluations_give() -> None:
    scenarios = _scenarios()
    fresh = Engine()
    expected = [fresh.evaluate(s).to_json() for s in scenarios]
    assert len(set(expected)) == len(expected), "the scenarios must conclude different things to detect mixing"
    shared = Engine()
    mismatches: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(seed: int) -> None:
        order = [i for _ in range(3) for i in range(len(scenarios))]
        random.Random(seed).shuffle(order)
        try:
            start.wait()
            for i in order:
                got = shared.evaluate(scenarios[i]).to_json()
                if got != expected[i]:
                    mismatches.append(f"thread {seed}, scenario {i}")
        except BaseException as exc:  # noqa: BLE001 - reported below, a thread cannot raise into the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[0]
    assert not mismatches, mismatches[:5]
    assert live_facts(shared) == []


def test_interleaving_a_b_a_leaves_a_unchanged(engine: Engine) -> None:
    a, b = load_scenario(ROOT / "examples" / "north-koreans-in-china.yaml"), load_scenario(ROOT / "examples" / "northeast-asia.yaml")
    first = engine.evaluate(a).to_json()
    other = engine.evaluate(b).to_json()
    assert other != first
    assert engine.evaluate(a).to_json() == first
    assert live_facts(engine) == []


def test_a_dict_scenario_is_not_changed_by_evaluating_it(engine: Engine) -> None:
    data = yaml.safe_load((ROOT / "examples" / "russians-in-japan.yaml").read_text(encoding="utf-8"))
    before = copy.deepcopy(data)
    engine.evaluate(data)
    assert data == before


class _Boom(RuntimeError):
    pass


@pytest.mark.parametrize("fail_at", [1, 5, 30])
def test_a_failing_action_leaves_the_engine_usable_and_the_session_empty(monkeypatch: pytest.MonkeyPatch, fail_at: int) -> None:
    engine = Engine()
    region = load_scenario(ROOT / "examples" / "northeast-asia.yaml")
    expected = engine.evaluate(region).to_json()
    sid = engine._sid
    real = engine_module.Firing
    calls = [0]

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == fail_at:  # mid-evaluation: some facts and findings are already in the session
            raise _Boom(f"failure at firing {fail_at}")
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(engine_module, "Firing", failing)
        with pytest.raises(EvaluationError) as caught:
            engine.evaluate(region)
    assert caught.value.code == "action_failed" and f"failure at firing {fail_at}" in str(caught.value)
    assert not engine._lock.locked()
    assert engine._sid == sid and live_facts(engine) == [], "the failed evaluation left facts in the session"
    assert engine.evaluate(region).to_json() == expected


def test_a_failure_while_building_the_report_leaves_the_engine_usable(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    scenario = load_scenario(ROOT / "examples" / "russians-in-japan.yaml")
    expected = engine.evaluate(scenario).to_json()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise _Boom("report")

    with monkeypatch.context() as patch:
        patch.setattr(report_builder_module.ReportBuilder, "build", broken)
        with pytest.raises(_Boom):
            engine.evaluate(scenario)
    assert not engine._lock.locked() and live_facts(engine) == []
    assert engine.evaluate(scenario).to_json() == expected


def test_a_derived_finding_durable_rules_refuses_leaves_no_state(engine: Engine) -> None:
    """The first derived finding gets the id of a base fact: durable_rules refuses the batch of findings as a fact it
    has seen; the engine raises, and clearing the session (which then retracts id 0 twice) still leaves it empty."""
    scenario = load_scenario(ROOT / "examples" / "chinese-in-the-russian-far-east.yaml")
    expected = engine.evaluate(scenario).to_json()
    base = len([f for f in encode_scenario(scenario) if f["t"] in engine.asserted_types])
    real = run_module.Run.new_id

    def clashing(self: Any) -> str:
        number = real(self)
        return "0" if int(number) == base else number  # the first id after the base facts: a derived finding

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run_module.Run, "new_id", clashing)
        with pytest.raises(EvaluationError) as caught:
            engine.evaluate(scenario)
    assert caught.value.code == "duplicate_fact" and "the same fact twice" in str(caught.value)
    assert live_facts(engine) == []
    assert engine.evaluate(scenario).to_json() == expected


def _rules_folder(tmp_path: Path, name: str, condition: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    rule = {
        "id": f"{name}-probe", "kind": "recommendation", "title": f"{name} probe", "subject": "flow",
        "facts": {"flow": "flow", "host": "country"}, "when": ["host.code == flow.destination", condition],
        "actors": ["host.code"], "justification": "{flow.name} matched", "source": {"section": "Test", "quote": "a quote"},
    }
    (folder / "rules.yaml").write_text(yaml.safe_dump({"rules": [rule]}, sort_keys=False), encoding="utf-8")
    return folder


def test_two_engines_with_different_rules_in_one_process_under_threads(tmp_path: Path) -> None:
    high = Engine(rules=[_rules_folder(tmp_path, "high", "flow.abuse >= high")])
    low = Engine(rules=[_rules_folder(tmp_path, "low", "flow.abuse <= low")])
    scenarios = _scenarios()
    expected = {id(e): [e.evaluate(s).to_json() for s in scenarios] for e in (high, low)}
    assert expected[id(high)] != expected[id(low)]
    bundled = Engine()
    expected[id(bundled)] = [bundled.evaluate(s).to_json() for s in scenarios]
    wrong: list[str] = []

    def worker(engine: Engine, seed: int) -> None:
        order = list(range(len(scenarios))) * 2
        random.Random(seed).shuffle(order)
        for i in order:
            if engine.evaluate(scenarios[i]).to_json() != expected[id(engine)][i]:
                wrong.append(f"{engine.ruleset.packs[0].name} scenario {i}")

    threads = [threading.Thread(target=worker, args=(e, seed)) for seed, e in enumerate([high, low, bundled] * 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not wrong, wrong[:5]


def test_facts_with_colliding_durable_rules_hashes_stay_two_facts(engine: Engine) -> None:
    """'flow:bqeacx' and 'flow:pukvlgvgj' share their 32-bit FNV-1a hash, which durable_rules takes for identity."""
    assert _fnv1a32("flow:bqeacx") == _fnv1a32("flow:pukvlgvgj")
    data = yaml.safe_load((ROOT / "examples" / "north-koreans-in-china.yaml").read_text(encoding="utf-8"))
    first = data["flows"][0]
    second = {**copy.deepcopy(first), "id": "pukvlgvgj", "name": "second flow"}
    first["id"] = "bqeacx"
    data["flows"] = [first, second]
    report = engine.evaluate(data)
    by_subject: dict[str, set[str]] = {}
    for rec in report.recommendations:
        by_subject.setdefault(rec.subject.key, set()).add(rec.rule)
    assert by_subject["bqeacx"] == by_subject["pukvlgvgj"] and "identify-refugees" in by_subject["bqeacx"]


def _fnv1a32(text: str) -> int:
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def test_the_engine_fact_ids_have_distinct_durable_rules_hashes() -> None:
    """The ids the engine gives its facts, '0' .. str(_FACT_IDS - 1), never collide, nor with a session's state fact."""
    hashes = [0] * _FACT_IDS
    for number in range(10):
        hashes[number] = _fnv1a32(str(number))
    for number in range(10, _FACT_IDS):
        # str(n) is str(n // 10) plus one digit: extend that hash by one byte.
        hashes[number] = ((hashes[number // 10] ^ (48 + number % 10)) * 0x01000193) & 0xFFFFFFFF
    seen = set(hashes)
    assert len(seen) == _FACT_IDS
    assert not any(_fnv1a32(f"sid-s{n}") in seen for n in range(1, 2000))
    assert _fnv1a32(str(_FACT_IDS)) in seen, "the bound is the first collision; a larger one would be unsafe"


@pytest.mark.parametrize("bound", [3, 20])
def test_a_scenario_needing_more_fact_ids_than_are_safe_is_refused_cleanly(monkeypatch: pytest.MonkeyPatch, engine: Engine, bound: int) -> None:
    """Past the bound (base facts at 3, derived findings at 20) the evaluation stops with a clear error, nothing left."""
    region = load_scenario(ROOT / "examples" / "northeast-asia.yaml")
    expected = engine.evaluate(region).to_json()
    with monkeypatch.context() as patch:
        patch.setattr(run_module, "FACT_IDS", bound)
        with pytest.raises(EvaluationError) as caught:
            engine.evaluate(region)
    assert caught.value.code == "too_many_facts" and f"more than {bound:,} engine facts" in str(caught.value)
    assert live_facts(engine) == []
    assert engine.evaluate(region).to_json() == expected
