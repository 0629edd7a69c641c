"""The time bound of explain's search holds: the clock is asked inside the loops, not only between verifications.

The clock is replaced by one the test controls (no timed test): the search must stop where the clock says, and say so.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from nea_policy.analysis import deadline as deadline_module
from nea_policy.analysis import matcher
from nea_policy.analysis.counterfactuals import Limits, Situation, search
from nea_policy.analysis.deadline import Deadline
from nea_policy.analysis.explain import explain
from nea_policy.api import Engine, SizeLimits
from nea_policy.model.facts import load_scenario

ROOT = Path(__file__).resolve().parent.parent
NK = ROOT / "examples" / "north-koreans-in-china.yaml"


class Clock:
    """A clock that reads `start` until `ticks` readings have been made, then jumps far ahead."""

    def __init__(self, ticks: int) -> None:
        self.readings = 0
        self.ticks = ticks

    def __call__(self) -> float:
        self.readings += 1
        return 0.0 if self.readings <= self.ticks else 1e9


@pytest.fixture(scope="module")
def many_flows() -> Any:
    """The North Korean example with 600 flows whose legal status is regular (identify-refugees holds for none)."""
    data = yaml.safe_load(NK.read_text(encoding="utf-8"))
    flow = data["flows"][0]
    data["flows"] = [{**copy.deepcopy(flow), "id": f"f{i}", "legal_status": "regular"} for i in range(600)]
    return load_scenario(data)


def count_evaluations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted = [0]
    original = matcher._evaluate

    def counting(*args: Any) -> Any:
        counted[0] += 1
        return original(*args)

    monkeypatch.setattr(matcher, "_evaluate", counting)
    return counted


def test_a_deadline_remembers_that_it_passed() -> None:
    clock = Clock(ticks=3)  # read when made, when asked, for the time left; then past
    bound = Deadline(5, clock)
    assert not bound.expired() and bound.left() == 5
    assert bound.expired() and bound.hit and bound.expired()


def test_the_enumeration_of_candidates_stops_at_the_deadline(monkeypatch: pytest.MonkeyPatch, many_flows: Any) -> None:
    engine = Engine()
    situation = Situation.of(engine, many_flows)
    counted = count_evaluations(monkeypatch)
    situation.deadline = Deadline(10, Clock(ticks=50))
    found = situation.candidates("identify-refugees", None)
    assert situation.deadline.hit
    assert counted[0] < 60 and len(found) < 60, f"{counted[0]} candidates evaluated after the deadline passed"
    situation.deadline = None
    assert len(situation.candidates("identify-refugees", None)) >= 600, "without a deadline every flow is a candidate"


def test_explain_stops_everything_at_its_bound_and_says_so(monkeypatch: pytest.MonkeyPatch, many_flows: Any) -> None:
    engine = Engine(limits=SizeLimits(max_flows=1000))
    counted = count_evaluations(monkeypatch)
    clock = Clock(ticks=40)
    monkeypatch.setattr(deadline_module, "_now", clock)
    result = explain(engine, many_flows, "identify-refugees", limits=Limits(seconds=10))
    assert result.why_not is not None and result.why_not.complete is False and "time bound" in (result.why_not.note or "")
    assert result.changes is not None and result.changes.stopped_by == "seconds" and result.changes.verified == 0
    assert counted[0] < 100, f"{counted[0]} candidates evaluated, most after the bound"


def test_no_verification_starts_without_the_time_one_takes(many_flows: Any) -> None:
    engine = Engine(limits=SizeLimits(max_flows=1000))
    situation = Situation.of(engine, load_scenario(NK))
    situation.evaluation_seconds = 100.0  # as if one evaluation took longer than the whole bound
    found = search(situation, "citizen-exchanges", None, "fire", Limits(seconds=10))
    assert found.verified == 0 and found.stopped_by == "seconds"
    situation = Situation.of(engine, load_scenario(NK))
    assert search(situation, "legal-status-limbo", None, "stop", Limits(seconds=10)).verified > 0


def test_with_time_to_spare_the_result_is_complete(many_flows: Any) -> None:
    result = explain(Engine(), load_scenario(NK), "semi-resident-status", limits=Limits(seconds=60))
    assert result.holds or (result.why_not is not None and result.why_not.complete)
    assert result.changes is not None and result.changes.stopped_by != "seconds"
