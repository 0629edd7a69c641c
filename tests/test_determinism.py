"""Determinism: the same input gives byte-identical JSON across runs, engines and processes (any PYTHONHASHSEED)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nea_policy.engine.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
REGION = ROOT / "examples" / "northeast-asia.yaml"
SMALL = ROOT / "examples" / "russians-in-japan.yaml"

# Prints the JSON reports of both files; the order of sets and dicts inside would differ with the hash seed.
SCRIPT = "import sys; from nea_policy.engine.engine import Engine; e = Engine(); sys.stdout.write(''.join(e.evaluate(p).to_json() for p in sys.argv[1:]))"


def _in_process(*paths: Path) -> str:
    engine = Engine()
    return "".join(engine.evaluate(p).to_json() for p in paths)


def _subprocess(seed: str, *paths: Path) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run([sys.executable, "-c", SCRIPT, *map(str, paths)], capture_output=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def test_repeated_evaluations_give_identical_json(engine: Engine) -> None:
    first = engine.evaluate(REGION).to_json()
    assert '"recommendations": [' in first and len(first) > 10_000
    for _ in range(5):
        assert engine.evaluate(REGION).to_json() == first


def test_a_fresh_engine_gives_the_same_json_as_a_used_one(engine: Engine) -> None:
    engine.evaluate(SMALL)
    assert engine.evaluate(REGION).to_json() == Engine().evaluate(REGION).to_json()


def test_scenario_order_of_evaluation_does_not_matter(engine: Engine) -> None:
    alone = Engine().evaluate(SMALL).to_json()
    engine.evaluate(REGION)
    assert engine.evaluate(SMALL).to_json() == alone


@pytest.mark.parametrize("seeds", [("0", "1", "12345", "random")])
def test_byte_identical_across_processes_and_hash_seeds(seeds: tuple[str, ...]) -> None:
    outputs = {seed: _subprocess(seed, REGION, SMALL) for seed in seeds}
    reference = _in_process(REGION, SMALL).encode()
    for seed, output in outputs.items():
        assert output == reference, f"PYTHONHASHSEED={seed} gave different JSON"
