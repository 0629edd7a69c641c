"""The same-work peers of the Engine: the bundled rules in CLIPS (peer_clips) and as hand-written Python (peer_python).

Each peer is checked against `Engine.evaluate` on the same scenarios. What is compared, per scenario, is a set of
(kind, conclusion, subject type, subject key):
- every recommendation of the report: ("recommendation", rec.rule, rec.subject.type, rec.subject.key);
- every finding of the report: ("finding", node.finding, node.subject.type, node.subject.key). Findings are compared
  by the finding they conclude, not by the rule that derived them: two rules conclude `complementary-economies`,
  and the report names whichever fired first, which is a matter of firing order, not of the result.

    python benchmarks/peers.py --verify             # examples, scaling scenarios, 300 random variations
    python benchmarks/peers.py --verify --variations 1000
    python benchmarks/peers.py --dump-clips         # the generated CLIPS program
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peer_python  # noqa: E402
from scenarios import _draw, generate_scenario  # noqa: E402

from nea_policy.language.conditions import AnyOf, Comparison, Condition, FieldRef  # noqa: E402
from nea_policy.language.rules import Rule, RuleSet  # noqa: E402
from nea_policy.model.fact_types import FACT_TYPES  # noqa: E402
from nea_policy.model.facts import LEVEL_ORDER, Scenario, load_scenario  # noqa: E402
from nea_policy.model.report import Report  # noqa: E402

ROOT = HERE.parent
EXAMPLES = ROOT / "examples"
RULE_TEST_SCENARIOS = ROOT / "src" / "nea_policy" / "rules" / "tests" / "scenarios"
SCALING_SIZES = (10, 50, 200)

Result = tuple[str, str, str, str]


def engine_results(report: Report) -> set[Result]:
    """What a peer must reproduce of an Engine report (see the module docstring)."""
    out: set[Result] = {("recommendation", r.rule, r.subject.type, r.subject.key) for r in report.recommendations}
    out.update(("finding", f.finding, f.subject.type, f.subject.key) for f in report.findings)
    return out


def clips_available() -> bool:
    """Whether clipspy can be imported here."""
    try:
        import clips  # noqa: F401
    except ImportError:
        return False
    return True


# --- scenarios ------------------------------------------------------------------------------------------------


def example_scenarios() -> list[tuple[str, Scenario]]:
    """Every fact file in examples/ (and the bundled rule tests' scenarios), parsed."""
    paths = sorted(EXAMPLES.glob("*.yaml")) + sorted(RULE_TEST_SCENARIOS.glob("*.yaml"))
    return [(str(p.relative_to(ROOT)), load_scenario(p)) for p in paths]


def scaling_scenarios(sizes: tuple[int, ...] = SCALING_SIZES) -> list[tuple[str, Scenario]]:
    """The scaling scenarios of benchmarks/run.py (generate_scenario(n, seed=1))."""
    return [(f"generate_scenario({n}, seed=1)", load_scenario(generate_scenario(n, seed=1))) for n in sizes]


# Fields a variation leaves alone: identities and references (redrawn separately where it matters).
_FIXED = {"key", "code", "name", "id", "country", "origin", "destination", "destination_region", "rising_power", "between"}


def _redraw(rng: random.Random, item: dict[str, Any], type_name: str, share: float) -> None:
    for name, spec in FACT_TYPES[type_name].fields.items():
        if spec.derived or name in _FIXED or rng.random() >= share:
            continue
        value = _draw(rng, spec)  # None (about half the time): the field is left out
        if value is None:
            item.pop(name, None)
        else:
            item[name] = value


def vary(data: dict[str, Any], rng: random.Random, share: float = 0.5, copies: int = 4) -> dict[str, Any]:
    """A copy of a scenario dict with about `share` of each fact's fields re-drawn, each flow replaced by up to
    `copies` re-drawn copies of it, and estimates, rising powers, destination regions and agreements re-drawn now
    and then; always a valid scenario."""
    data = copy.deepcopy(data)
    data["title"] = "variation"
    for country in data.get("countries", []):
        _redraw(rng, country, "country", share)
    for region in data.get("regions", []):
        _redraw(rng, region, "region", share)
    for relation in data.get("relations", []):
        _redraw(rng, relation, "relation", share)
        if rng.random() < share:
            relation.pop("rising_power", None)
            choice = rng.choice([*relation["between"], None])
            if choice is not None:
                relation["rising_power"] = choice
    regions_of: dict[str, list[str]] = {}
    for region in data.get("regions", []):
        regions_of.setdefault(region["country"], []).append(region["id"])
    flows = []
    for base in data.get("flows", []):
        for j in range(rng.randint(1, copies)):
            flow = copy.deepcopy(base)
            flow["id"] = f"{base['id']}-v{j}"
            _redraw(rng, flow, "flow", share)
            if rng.random() < share:
                options = regions_of.get(flow["destination"], [])
                choice = rng.choice([*options, None]) if options else None
                flow.pop("destination_region", None)
                if choice is not None:
                    flow["destination_region"] = choice
            if rng.random() < share:
                # Exaggeration around the rules' threshold of 2, or no estimates at all.
                careful = rng.randint(1_000, 300_000)
                factor = rng.choice([1, 1.5, 1.99, 2, 2.5, 5])
                flow["estimates"] = rng.choice([[], [{"low": careful // 2, "high": careful, "kind": "careful"}, {"low": careful, "high": int(careful * factor), "kind": "alarmist"}]])
            flows.append(flow)
    data["flows"] = flows
    pairs = sorted({tuple(sorted((f["origin"], f["destination"]))) for f in flows})
    agreements = [a for a in data.get("agreements", []) if rng.random() >= share]
    for i, (a, b) in enumerate(pairs):
        if rng.random() < share / 2:
            agreements.append({"id": f"varied-{i}", "between": [a, b], "kind": rng.choice(["migration-and-trade-regime", "labor-migration-regime", "trade-agreement"])})
    data["agreements"] = agreements
    return data


def example_data() -> list[tuple[str, dict[str, Any]]]:
    """The example fact files as plain dicts (what variations start from)."""
    paths = sorted(EXAMPLES.glob("*.yaml")) + sorted(RULE_TEST_SCENARIOS.glob("*.yaml"))
    return [(p.stem, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in paths]


def variations(count: int, seed: int = 0) -> Iterator[tuple[str, Scenario]]:
    """`count` seeded random variations of the examples, round robin over them."""
    rng = random.Random(f"peers:{seed}")
    bases = example_data()
    for i in range(count):
        name, data = bases[i % len(bases)]
        yield f"variation {i} of {name} (seed {seed})", load_scenario(vary(data, rng))


# --- verification -----------------------------------------------------------------------------------------------


@dataclass
class Verification:
    """The outcome of checking peers against the Engine: counts, coverage, and every mismatch found."""

    scenarios: int = 0
    conclusions: Counter[str] = field(default_factory=Counter)  # conclusion id -> scenarios where it held
    mismatches: list[str] = field(default_factory=list)


def peer_functions(engine: Any, *, with_clips: bool = True, random_strategy: bool = False) -> dict[str, Callable[[list[dict[str, Any]]], set[Result]]]:
    """The peers, each a function of the encoded facts (CLIPS only when clipspy is installed and asked for; also
    under CLIPS's random conflict-resolution strategy with random_strategy)."""
    peers: dict[str, Callable[[list[dict[str, Any]]], set[Result]]] = {"python": peer_python.evaluate}
    if with_clips:
        import peer_clips

        peers["clips"] = peer_clips.ClipsPeer(engine.ruleset).run
        if random_strategy:
            peers["clips-random-strategy"] = peer_clips.ClipsPeer(engine.ruleset, strategy="random").run
    return peers


def verify(engine: Any, scenarios: list[tuple[str, Scenario]] | Iterator[tuple[str, Scenario]], peers: dict[str, Callable[[list[dict[str, Any]]], set[Result]]]) -> Verification:
    """Evaluate each scenario with the Engine and with every peer; record where the result sets differ."""
    outcome = Verification()
    for name, scenario in scenarios:
        expected = engine_results(engine.evaluate(scenario))
        facts = engine.facts_of(scenario)
        outcome.scenarios += 1
        outcome.conclusions.update({c for _, c, _, _ in expected})
        for peer, run in peers.items():
            got = run([dict(f) for f in facts])
            if got != expected:
                missing = sorted(expected - got)[:5]
                extra = sorted(got - expected)[:5]
                outcome.mismatches.append(f"{peer} on {name}: missing {missing}, extra {extra}")
    return outcome


# --- timing -------------------------------------------------------------------------------------------------------

TIMING_NOTE = {
    "engine": "Engine.evaluate(scenario) from a parsed Scenario: encoding the facts, asserting them, firing every stratum, building the full Report (justifications, evidence, proof trees)",
    "clips": "from the encoded facts (Engine.facts_of, done once beforehand): asserting them through clipspy's fact builder, running CLIPS to the end, reading the finding and recommendation facts into a Python set, reset",
    "python": "from the same encoded facts: indexing them, deciding every rule, building the same set",
    "encode": "Engine.facts_of(scenario) alone: the part of the Engine's work that the peers are given ready-made",
    "ratios": "engine_vs_clips = Engine evaluations/s / CLIPS evaluations/s (1.0 or more: the Engine is at least as fast), and the same for Python; the median of the per-round ratios",
}


def _timed(call: Callable[[], Any], count: int) -> float:
    """Seconds per call over `count` calls."""
    start = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - start) / count


def time_peers(engine: Any, scenario: Scenario, *, rounds: int, seconds: float) -> dict[str, Any]:
    """Evaluations/s of the Engine, CLIPS and hand-written Python on one scenario, interleaved: every round runs
    each side for about `seconds` (rotating which goes first), so all see the same machine load.

    Before timing, every peer's result set must equal the Engine's (else SystemExit).
    """
    facts = engine.facts_of(scenario)
    expected = engine_results(engine.evaluate(scenario))
    calls: dict[str, Callable[[], Any]] = {"engine": lambda: engine.evaluate(scenario), "encode": lambda: engine.facts_of(scenario), "python": lambda: peer_python.evaluate(facts)}
    clips_peer = None
    if clips_available():
        import peer_clips

        clips_peer = peer_clips.ClipsPeer(engine.ruleset)
        calls["clips"] = lambda: clips_peer.run(facts)
    for name in ("python", "clips"):
        if name in calls and calls[name]() != expected:
            raise SystemExit(f"benchmark error: the {name} peer's results differ from the Engine's")
    counts = {name: max(1, int(seconds / max(_timed(call, 1), 1e-7))) for name, call in calls.items()}
    for name, call in calls.items():  # calibrate on a second, warm measurement
        counts[name] = max(1, int(seconds / max(_timed(call, min(counts[name], 50)), 1e-7)))
    per_call: dict[str, list[float]] = {name: [] for name in calls}
    ratios: dict[str, list[float]] = {"clips": [], "python": []}
    names = list(calls)
    for r in range(rounds):
        this_round = {}
        for name in names[r % len(names) :] + names[: r % len(names)]:
            this_round[name] = _timed(calls[name], counts[name])
            per_call[name].append(this_round[name])
        for peer, values in ratios.items():
            if peer in this_round:
                values.append(this_round[peer] / this_round["engine"])
    out: dict[str, Any] = {
        "facts": len(facts),
        "results": len(expected),
        "evals_per_s": {name: float(f"{1 / statistics.median(times):.4g}") for name, times in per_call.items()},
        "engine_vs_clips": round(statistics.median(ratios["clips"]), 3) if ratios["clips"] else None,
        "engine_vs_python": round(statistics.median(ratios["python"]), 4),
        "rounds": rounds,
        "calls_per_round": counts,
    }
    if clips_peer is not None:
        out["clips_parts_ms"] = _clips_parts(clips_peer, facts, max(3, min(counts["clips"], 200)))
    return out


def _clips_parts(peer: Any, facts: list[dict[str, Any]], count: int) -> dict[str, float]:
    """Where the CLIPS side's time goes: median ms per evaluation of asserting, running, reading, resetting."""
    parts: dict[str, list[float]] = {"assert": [], "run": [], "read": [], "reset": []}
    for _ in range(count):
        t0 = time.perf_counter()
        peer.assert_facts(facts)
        t1 = time.perf_counter()
        peer.env.run()
        t2 = time.perf_counter()
        peer.read_results()
        t3 = time.perf_counter()
        peer.env.reset()
        t4 = time.perf_counter()
        for name, seconds in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            parts[name].append(seconds)
    return {name: round(statistics.median(times) * 1e3, 4) for name, times in parts.items()}


# --- how strong the verification is: single-condition mutants of the rules -------------------------------------


def _literal_mutations(c: Comparison) -> Iterator[Comparison]:
    """Small changes to one literal test: a level or number threshold moved by one step, a boolean flipped, one
    value of an `in` list dropped or another enumeration value, contains <-> not contains."""
    right = c.right
    if isinstance(right, FieldRef) or c.op in ("is set", "is not set"):
        return
    if isinstance(right, bool):
        yield Comparison(c.left, c.op, not right, f"{c.left} {c.op} {str(not right).lower()}")
    elif isinstance(right, (int, float)):
        for step in (-0.5, 0.5):
            yield Comparison(c.left, c.op, right + step, f"{c.left} {c.op} {right + step}")
    elif isinstance(right, str) and right in LEVEL_ORDER:
        i = LEVEL_ORDER.index(right)
        for j in (i - 1, i + 1):
            if 0 <= j < len(LEVEL_ORDER):
                yield Comparison(c.left, c.op, LEVEL_ORDER[j], f"{c.left} {c.op} {LEVEL_ORDER[j]}")
    elif isinstance(right, tuple) and len(right) > 1:
        for drop in right:
            kept = tuple(v for v in right if v != drop)
            yield Comparison(c.left, c.op, kept, f"{c.left} {c.op} [{', '.join(map(str, kept))}]")
    if c.op in ("contains", "not contains"):
        other = "not contains" if c.op == "contains" else "contains"
        yield Comparison(c.left, other, right, f"{c.left} {other} {right}")


def _condition_mutations(conditions: tuple[Condition, ...]) -> Iterator[tuple[Condition, ...]]:
    """Every condition list one small change away: a literal test changed or dropped, an any: branch dropped."""
    for i, condition in enumerate(conditions):
        before, after = conditions[:i], conditions[i + 1 :]
        if isinstance(condition, Comparison):
            for changed in _literal_mutations(condition):
                yield (*before, changed, *after)
            if not condition.is_join:
                yield (*before, *after)
        else:
            for j, branch in enumerate(condition.branches):
                rest = condition.branches[:j] + condition.branches[j + 1 :]
                yield (*before, AnyOf(rest) if len(rest) > 1 else rest[0][0] if len(rest[0]) == 1 else AnyOf(rest), *after)
                for changed in _condition_mutations(branch):
                    if not changed:
                        continue  # an empty branch is no rule (the loader refuses it); dropping the branch is above
                    yield (*before, AnyOf((*condition.branches[:j], changed, *condition.branches[j + 1 :])), *after)


def rule_mutants(ruleset: RuleSet) -> Iterator[tuple[str, RuleSet]]:
    """Rule sets that differ from `ruleset` by one small change to one rule (also: an absent: block dropped)."""
    for index, rule in enumerate(ruleset.rules):
        changes: list[tuple[str, Rule]] = []
        for conditions in _condition_mutations(rule.conditions):
            changes.append((f"{rule.id}: when -> {[str(c) for c in conditions]}", dataclasses.replace(rule, conditions=conditions)))
        for k, absence in enumerate(rule.absences):
            changes.append((f"{rule.id}: absent[{k}] dropped", dataclasses.replace(rule, absences=rule.absences[:k] + rule.absences[k + 1 :])))
            for conditions in _condition_mutations(absence.conditions):
                changed = dataclasses.replace(absence, conditions=conditions)
                changes.append((f"{rule.id}: absent[{k}] -> {[str(c) for c in conditions]}", dataclasses.replace(rule, absences=(*rule.absences[:k], changed, *rule.absences[k + 1 :]))))
        for label, mutant in changes:
            yield label, dataclasses.replace(ruleset, rules=(*ruleset.rules[:index], mutant, *ruleset.rules[index + 1 :]))


def mutation_score(scenarios: list[tuple[str, Scenario]], *, with_clips: bool = True) -> dict[str, Any]:
    """For every one-change mutant of the bundled rules: does checking the hand-written peer on these scenarios
    notice the change (it must: the peer was written for the real rules), and does the CLIPS program generated
    from the mutant still agree with the Engine running it (it must: both follow the mutant)?"""
    from nea_policy import Engine
    from nea_policy.errors import NeaPolicyError
    from nea_policy.language.rules import load_ruleset

    mutants, noticed, clips_equal, skipped, unnoticed = 0, 0, 0, 0, []
    for label, ruleset in rule_mutants(load_ruleset()):
        try:
            engine = Engine(ruleset=ruleset)
        except NeaPolicyError:
            skipped += 1  # e.g. a stratification the change made impossible
            continue
        mutants += 1
        peers = peer_functions(engine, with_clips=with_clips)
        outcome = verify(engine, scenarios, peers)
        python_differs = any(m.startswith("python ") for m in outcome.mismatches)
        noticed += python_differs
        if not python_differs:
            unnoticed.append(label)
        clips_equal += not any(m.startswith("clips ") for m in outcome.mismatches)
        del engine
    return {"mutants": mutants, "noticed": noticed, "clips_equal": clips_equal if with_clips else None, "skipped": skipped, "unnoticed": unnoticed}


def main(argv: list[str] | None = None) -> int:
    """Verify the peers, or print the generated CLIPS program."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dump-clips", action="store_true", help="print the CLIPS program generated from the bundled rules")
    parser.add_argument("--verify", action="store_true", help="check both peers against Engine.evaluate")
    parser.add_argument("--variations", type=int, default=300, help="random variations of the examples to check (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mutants", action="store_true", help="how many one-change mutants of the rules the check on the examples and the variations notices")
    args = parser.parse_args(argv)
    from nea_policy import Engine

    engine = Engine()
    if args.dump_clips:
        import peer_clips

        print(peer_clips.clips_program(engine.ruleset), end="")
    if args.mutants:
        scenarios = example_scenarios() + list(variations(args.variations, args.seed))
        score = mutation_score(scenarios, with_clips=clips_available())
        print(
            f"mutants: {score['mutants']} ({score['skipped']} more not compilable); the check on {len(scenarios)} scenarios noticed {score['noticed']}"
            + (f"; the generated CLIPS agreed with the mutated Engine on {score['clips_equal']}" if score["clips_equal"] is not None else "")
        )
        for label in score["unnoticed"]:
            print("  not noticed: " + label)
        return 0 if score["clips_equal"] in (None, score["mutants"]) else 1
    if args.verify or not args.dump_clips:
        with_clips = clips_available()
        peers = peer_functions(engine, with_clips=with_clips, random_strategy=True)
        groups = [("examples", example_scenarios()), ("scaling", scaling_scenarios()), ("variations", list(variations(args.variations, args.seed)))]
        failed = False
        every = {r.concludes for r in engine.rules}
        for label, scenarios in groups:
            outcome = verify(engine, scenarios, peers)
            never = sorted(every - set(outcome.conclusions))
            print(
                f"{label}: {outcome.scenarios} scenarios, peers {', '.join(peers)}: {'equal' if not outcome.mismatches else f'{len(outcome.mismatches)} MISMATCHES'}"
                f"; conclusions reached {len(every) - len(never)}/{len(every)}" + (f" (never: {', '.join(never)})" if never else "")
            )
            if label == "variations":
                print("  scenarios where each conclusion held: " + ", ".join(f"{c} {outcome.conclusions[c]}" for c in sorted(every)))
            for line in outcome.mismatches[:20]:
                print("  " + line)
            failed = failed or bool(outcome.mismatches)
        if not with_clips:
            print("clipspy is not installed: the CLIPS peer was not checked (pip install clipspy)")
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
