"""The benchmark's same-work peers (benchmarks/peers.py) agree with the Engine, so a rule change they miss fails here.

The hand-written Python peer is written from the rule files by hand; the CLIPS peer is generated from the rule
objects. Both must give the Engine's set of (kind, conclusion, subject type, subject key) on every example and on
50 seeded random variations of them. The CLIPS checks are skipped only when clipspy is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from nea_policy.api import Engine

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import peers  # noqa: E402

VARIATIONS = 50


@pytest.fixture(scope="module")
def scenarios() -> list[tuple[str, peers.Scenario]]:
    """Every example, the smallest scaling scenario and 50 seeded variations of the examples."""
    return peers.example_scenarios() + peers.scaling_scenarios((10,)) + list(peers.variations(VARIATIONS, seed=0))


def test_the_scenarios_reach_and_miss_every_conclusion(engine: Engine, scenarios: list[tuple[str, peers.Scenario]]) -> None:
    """Equality on these scenarios means something only if each conclusion holds in some of them and not in others."""
    outcome = peers.verify(engine, scenarios, {})
    every = {rule.concludes for rule in engine.rules}
    assert set(outcome.conclusions) == every
    assert all(0 < outcome.conclusions[c] < outcome.scenarios for c in every), outcome.conclusions


def test_hand_written_python_peer_matches_the_engine(engine: Engine, scenarios: list[tuple[str, peers.Scenario]]) -> None:
    outcome = peers.verify(engine, scenarios, peers.peer_functions(engine, with_clips=False))
    assert outcome.mismatches == []
    assert outcome.scenarios == len(scenarios)


def test_clips_peer_matches_the_engine(engine: Engine, scenarios: list[tuple[str, peers.Scenario]]) -> None:
    """Under CLIPS's default (depth) strategy and its random one: salience, not firing order, orders the strata."""
    pytest.importorskip("clips")
    found = peers.peer_functions(engine, with_clips=True, random_strategy=True)
    assert set(found) == {"python", "clips", "clips-random-strategy"}
    outcome = peers.verify(engine, scenarios, {name: run for name, run in found.items() if name != "python"})
    assert outcome.mismatches == []


def test_a_changed_rule_that_the_hand_written_peer_misses_is_caught(scenarios: list[tuple[str, peers.Scenario]]) -> None:
    """The check fails for a rule set one condition away from the bundled one (the peer was written for those)."""
    from nea_policy.language.rules import load_ruleset

    label, ruleset = next((label, rs) for label, rs in peers.rule_mutants(load_ruleset()) if label.startswith("legal-status-limbo: when -> []"))
    mutant = Engine(ruleset=ruleset)
    outcome = peers.verify(mutant, scenarios[:20], peers.peer_functions(mutant, with_clips=False))
    assert outcome.mismatches and all("legal-status-limbo" in m for m in outcome.mismatches), label


# Rule shapes the bundled rules do not use (yet): the CLIPS generator must translate them as the Engine runs them.
# Each: id, subject, facts, when, and for recommendations (those with actors) absent and actors.
SHAPES: list[dict[str, Any]] = [
    {"id": "p-neq", "subject": "flow", "facts": {"flow": "flow"}, "when": ["flow.legal_status != unclear", "flow.media_tone not in [negative, hostile]"]},
    {"id": "p-order", "subject": "flow", "facts": {"flow": "flow"}, "when": ["flow.abuse < high", "flow.host_fear <= low", "flow.stereotypes > none", "flow.estimate_exaggeration < 3"]},
    {"id": "p-set", "subject": "flow", "facts": {"flow": "flow"}, "when": ["flow.abuse is not set", "flow.kinds is set", "flow.legal_status is set"]},
    {
        "id": "p-lists",
        "subject": "host",
        "facts": {"flow": "flow", "host": "country"},
        "when": ["host.code == flow.destination", "flow.kinds contains temporary-workers", "host.accepted_conventions not contains ilo-c97", "flow.sectors contains construction"],
    },
    {
        "id": "p-joins",
        "subject": "flow",
        "facts": {"flow": "flow", "origin": "country", "host": "country"},
        "when": ["origin.code == flow.origin", "host.code == flow.destination", "origin.surplus_labor > host.labor_shortage"],
    },
    {
        "id": "p-join-differs",
        "subject": "flow",
        "facts": {"flow": "flow", "origin": "country", "host": "country"},
        "when": ["origin.code == flow.origin", "host.code == flow.destination", "origin.restrictive_migration_policy != host.restrictive_migration_policy"],
    },
    {
        "id": "p-spanning",
        "subject": "flow",
        "facts": {"flow": "flow", "relation": "relation", "region": "region"},
        "when": [
            "relation.key == flow.pair",
            {
                "any": [
                    ["relation.rising_power == flow.origin", "relation.proximity == true"],
                    {"any": ["flow.abuse >= high", ["region.key == flow.destination_region", "region.labor_shortage >= high"]]},
                ]
            },
        ],
    },
    {
        "id": "p-absent",
        "subject": "relation",
        "facts": {"flow": "flow", "relation": "relation", "f": "finding:p-order"},
        "when": ["relation.key == flow.pair", "f.subject == flow.key", "f.subject_type == flow"],
        "absent": [
            {"fact": "agreement", "when": ["agreement.pair == relation.key", {"any": ["agreement.kind == trade-agreement", "agreement.kind == visa-agreement"]}]},
            {"fact": "finding:p-neq", "as": "n", "when": ["n.subject == flow.key"]},
        ],
        "actors": ["relation.a"],
    },
    {"id": "p-on-finding", "subject": "f", "facts": {"f": "finding:p-spanning", "flow": "flow"}, "when": ["f.subject == flow.key", "flow.unskilled == false"], "actors": ["flow.origin"]},
]


def _shapes_pack(folder: Path) -> Path:
    rules = [{"kind": "recommendation" if "actors" in shape else "finding", "title": shape["id"], **shape, "justification": "x", "source": {"section": "s", "quote": "q"}} for shape in SHAPES]
    (folder / "pack.yaml").write_text("name: shapes\nversion: 0.0.1\n")
    (folder / "shapes.yaml").write_text(yaml.safe_dump({"rules": rules}, sort_keys=False))
    return folder


def test_clips_generator_agrees_with_the_engine_on_other_rule_shapes(tmp_path: Path, scenarios: list[tuple[str, peers.Scenario]]) -> None:
    """!=, not in, <, <=, >, is set / is not set, contains / not contains, joins by > and !=, an any: across facts
    with a join and a nested any:, absent: with an any:, a finding as subject, tests on a finding's fields."""
    pytest.importorskip("clips")
    engine = Engine([_shapes_pack(tmp_path)])
    outcome = peers.verify(engine, scenarios, {k: v for k, v in peers.peer_functions(engine, random_strategy=True).items() if k != "python"})
    assert outcome.mismatches == []
    assert set(outcome.conclusions) == {rule.id for rule in engine.rules}, "every shape held somewhere"


def test_dump_clips_prints_one_defrule_per_rule(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("clips")
    assert peers.main(["--dump-clips"]) == 0
    program = capsys.readouterr().out
    assert [line.split()[1] for line in program.splitlines() if line.startswith("(defrule ")] == [rule.id for rule in engine.rules]
    assert "(declare (salience -10))" in program
    assert "(not (finding (finding human-security-challenge) (subject ?flow)))" in program
