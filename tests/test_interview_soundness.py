"""The interview's stopping rule is sound, checked by sampling: what it calls decided stays so whatever the open fields turn out to be.

Three properties, over random variations of every example (the folder is read, so new examples join):
- with no open field, the three-valued analysis agrees with the engine exactly (held = fired, failed = not fired);
- on a random partial scenario, every recommendation and finding it calls held holds, and every one it calls
  failed does not, in each random completion of the open fields (values, or left unset);
- an interview replaying a random variation (some answers "don't know") stops only when every random completion
  gives the same recommendations (with their governments) and findings as the report it ends with (with
  `goal="recommendations"`: the same recommendations), and at each turn on the way the decided outcomes stay decided.

The normal run samples a few hundred completions (seconds); `pytest -m slow tests/test_interview_soundness.py`
runs thousands (see SLOW_ROUNDS).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from interview_sampling import completion, findings, partial, recommendations, variation

from nea_policy.analysis import relevance as relevance_module
from nea_policy.analysis.answerable import OPEN, field_index
from nea_policy.analysis.interview import InterviewStep, answers_from, apply_answer, run_interview, scenario_data, structure_of
from nea_policy.analysis.relevance import F, H, Relevance, any3, relevance
from nea_policy.engine.engine import Engine
from nea_policy.model.facts import load_scenario

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))
# (partial scenarios, completions each) per example, and interviews per example with completions at each checked turn.
ROUNDS = {"partials": 20, "completions": 8, "interviews": 1, "turn_completions": 3, "final_completions": 10}
SLOW_ROUNDS = {"partials": 60, "completions": 15, "interviews": 25, "turn_completions": 6, "final_completions": 25}


def decided_outcomes(found: Relevance) -> tuple[set[Any], set[Any], set[Any], set[Any]]:
    """(recommendations held, recommendations failed, findings held, findings not failed) as the analysis decides them."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for candidate in found.candidates:
        if candidate.rule.kind == "recommendation" and candidate.subject is not None:
            groups.setdefault((candidate.rule.concludes, candidate.subject), []).append(candidate)
    held, failed = set(), set()
    for key, group in groups.items():
        status = any3(c.status for c in group)
        if status == H and all(found.decided(c) for c in group if c.status == H):
            held.add(key)
        elif status == F:
            failed.add(key)
    findings_held = {key for key, status in found.findings.items() if status == H}
    return held, failed, findings_held, set(found.findings)


def check_completions(
    engine: Engine, rnd: random.Random, data: dict[str, Any], unknown: list[str], samples: int, step: InterviewStep | None = None, goal: str = "all"
) -> int:
    """Evaluate random completions of a partial scenario against what the analysis (and, when decided, the step's report) says."""
    scenario = load_scenario(data)
    index = field_index(scenario, unknown)
    found = relevance(engine, scenario, index)
    held, failed, findings_held, findings_possible = decided_outcomes(found)
    for _ in range(samples):
        done = completion(rnd, data, index)
        report = engine.evaluate(done)
        fired = {(r.rule, r.subject.key) for r in report.recommendations}
        found_now = findings(report)
        assert held <= fired, f"held but not recommended: {sorted(held - fired)}\n{done}"
        assert not (failed & fired), f"failed but recommended: {sorted(failed & fired)}\n{done}"
        assert findings_held <= found_now, f"held but not found: {sorted(findings_held - found_now)}\n{done}"
        assert found_now <= findings_possible, f"failed but found: {sorted(found_now - findings_possible)}\n{done}"
        if step is not None and step.decided:
            assert recommendations(report) == recommendations(step.report), done
            if goal == "all":
                assert found_now == findings(step.report), done
    return samples


def _exact(engine: Engine, data: dict[str, Any]) -> None:
    scenario = load_scenario(data)
    everything = [f.path for f in field_index(scenario).fields.values() if f.state == OPEN]
    found = relevance(engine, scenario, field_index(scenario, everything))
    report = engine.evaluate(scenario)
    held, failed, findings_held, findings_possible = decided_outcomes(found)
    fired = {(r.rule, r.subject.key) for r in report.recommendations}
    assert held == fired
    assert not failed & fired
    assert findings_held == findings_possible == findings(report)
    assert all(c.status in (H, F) for c in found.candidates)


def _variations(seed: int, count: int) -> Iterator[tuple[str, dict[str, Any]]]:
    rnd = random.Random(seed)
    for path in EXAMPLES:
        scenario = load_scenario(path)
        yield path.stem, scenario_data(scenario)
        for _ in range(count):
            yield path.stem, variation(rnd, scenario)


def test_with_nothing_open_the_analysis_agrees_with_the_engine(engine: Engine) -> None:
    checked = 0
    for name, data in _variations(seed=7, count=4):
        try:
            _exact(engine, data)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}\n{data}") from None
        checked += 1
    assert checked == 5 * len(EXAMPLES)


def _partials(engine: Engine, seed: int, rounds: dict[str, int]) -> int:
    rnd = random.Random(seed)
    samples = 0
    for path in EXAMPLES:
        scenario = load_scenario(path)
        for _ in range(rounds["partials"]):
            truth = load_scenario(variation(rnd, scenario))
            data, unknown = partial(rnd, truth, keep=rnd.choice([0.3, 0.6, 0.9]), unknown=rnd.choice([0.0, 0.2]))
            samples += check_completions(engine, rnd, data, unknown, rounds["completions"])
    return samples


def _interviews(engine: Engine, seed: int, rounds: dict[str, int], goal: Any = "all") -> tuple[int, int]:
    rnd = random.Random(seed)
    samples = stops = 0
    for path in EXAMPLES:
        scenario = load_scenario(path)
        for _ in range(rounds["interviews"]):
            truth = load_scenario(variation(rnd, scenario))
            replay = answers_from(truth)
            # Some answers "don't know" even where the truth states them.
            dont_know = rnd.choice([0.0, 0.15, 0.4])

            def answer(question: Any, step: InterviewStep, replay: Any = replay, dont_know: float = dont_know) -> Any:
                return None if rnd.random() < dont_know else replay(question, step)

            turns: list[InterviewStep] = []
            result = run_interview(engine, structure_of(truth), answer, goal=goal, on_step=turns.append)
            # The state of each turn again (the answers so far, in order), to sample its completions.
            data = structure_of(truth)
            unknown: list[str] = []
            for number, step in enumerate(turns):
                if step.decided:
                    samples += check_completions(engine, rnd, data, unknown, rounds["final_completions"], step, goal)
                    stops += 1
                elif rnd.random() < 0.3:
                    samples += check_completions(engine, rnd, data, unknown, rounds["turn_completions"])
                if number < len(result.questions):
                    asked = result.questions[number]
                    field = field_index(load_scenario(data), unknown).fields[asked.field]
                    apply_answer(data, unknown, field, copy.deepcopy(asked.answer))
            assert turns[-1].decided and len(turns) == len(result.questions) + 1
    return samples, stops


def test_what_a_partial_scenario_decides_stays_decided_in_every_sampled_completion(engine: Engine) -> None:
    assert _partials(engine, seed=11, rounds=ROUNDS) == len(EXAMPLES) * ROUNDS["partials"] * ROUNDS["completions"]


def test_the_interview_stops_only_when_no_completion_changes_an_outcome(engine: Engine) -> None:
    samples, stops = _interviews(engine, seed=13, rounds=ROUNDS)
    assert stops == len(EXAMPLES) * ROUNDS["interviews"]
    assert samples >= stops * ROUNDS["final_completions"]


def test_an_interview_for_the_recommendations_only_stops_when_no_completion_changes_one(engine: Engine) -> None:
    samples, stops = _interviews(engine, seed=19, rounds={**ROUNDS, "turn_completions": 0}, goal="recommendations")
    assert stops == len(EXAMPLES) * ROUNDS["interviews"]
    assert samples >= stops * ROUNDS["final_completions"]


def test_an_interview_replaying_a_variation_ends_with_its_evaluation(engine: Engine) -> None:
    rnd = random.Random(17)
    for path in EXAMPLES:
        for _ in range(ROUNDS["interviews"]):
            truth = load_scenario(variation(rnd, load_scenario(path)))
            result = run_interview(engine, structure_of(truth), answers_from(truth))
            full = engine.evaluate(truth)
            assert recommendations(result.report) == recommendations(full), path.name
            assert findings(result.report) == findings(full), path.name


@pytest.mark.slow
def test_soundness_long_run(engine: Engine) -> None:
    """Thousands of sampled completions (`pytest -m slow`)."""
    partial_samples = _partials(engine, seed=101, rounds=SLOW_ROUNDS)
    interview_samples, stops = _interviews(engine, seed=103, rounds=SLOW_ROUNDS)
    goal_samples, goal_stops = _interviews(engine, seed=107, rounds=SLOW_ROUNDS, goal="recommendations")
    assert stops == goal_stops == len(EXAMPLES) * SLOW_ROUNDS["interviews"]
    print(
        f"\nsoundness: {partial_samples} completions of random partial scenarios, {interview_samples} at the turns of {stops} interviews, "
        f"{goal_samples} at the turns of {goal_stops} interviews for the recommendations only"
    )


def test_the_soundness_sampler_catches_an_analysis_that_reads_open_conditions_as_held(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    real = relevance_module._Builder._status

    def careless(self: Any, result: Any) -> Any:
        status, fields = real(self, result)
        return ("held" if status == "open" else status), fields

    monkeypatch.setattr(relevance_module._Builder, "_status", careless)
    with pytest.raises(AssertionError, match="held but not"):
        _partials(engine, seed=11, rounds=ROUNDS)
