"""A soak of the engine on random variations of the examples, in two engines that answer for each other.

durable_rules' C core crashed the process here on some sequences of evaluations (delete_state with some rule
shapes, comparison joins, and once a garbage-collection pattern in work in progress); a crash in CI fails the run."""

from __future__ import annotations

import copy
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from nea_policy.engine.engine import Engine
from nea_policy.model.facts import LEVEL_ORDER

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))
LEVEL_FIELDS = ["abuse", "fear_of_exposure", "recruiter_exploitation", "employer_exploitation", "illegal_work", "persecution_risk_on_return", "host_fear", "stereotypes", "public_ignorance"]


def variation(rnd: random.Random, examples: list[dict[str, Any]]) -> dict[str, Any]:
    data = copy.deepcopy(rnd.choice(examples))
    for flow in data["flows"]:
        for field in rnd.sample(LEVEL_FIELDS, 3):
            flow[field] = rnd.choice(LEVEL_ORDER)
        flow["legal_status"] = rnd.choice(["regular", "irregular", "unclear", "mixed"])
        flow["has_work_and_shelter"] = rnd.choice([True, False])
    for country in data["countries"]:
        country["labor_shortage"] = rnd.choice(LEVEL_ORDER)
    if rnd.random() < 0.3:
        first = data["flows"][0]
        kind = rnd.choice(["labor-migration-regime", "migration-and-trade-regime"])
        data.setdefault("agreements", []).append({"id": "soak", "between": [first["origin"], first["destination"]], "kind": kind})
    return data


def test_two_engines_through_a_thousand_random_variations() -> None:
    examples = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in EXAMPLES]
    rnd = random.Random(20261129)
    engines = [Engine(), Engine()]
    for index in range(1000):
        data = variation(rnd, examples)
        report = engines[index % 2].evaluate(data).to_json()
        if index % 25 == 0:
            # the same scenario gives the same report in the other engine, after a different history
            assert engines[(index + 1) % 2].evaluate(data).to_json() == report


def test_the_engine_runs_on_the_patched_core_without_durable_rules_python_layer() -> None:
    """The engine talks to nea-policy's own build of the C core (vendor/durable_rules/PATCHES.md), in a fresh process
    that never imports durable_rules' Python layer nor its PyPI extension."""
    code = (
        "import sys; from nea_policy import Engine; from nea_policy.engine import _durable_core, host;"
        f"r = Engine().evaluate({str(EXAMPLES[0])!r});"
        "assert r.recommendations;"
        "assert host.core is _durable_core and _durable_core.__name__ == 'nea_policy.engine._durable_core';"
        "assert hasattr(_durable_core, 'fire_actions');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('durable', 'durable_rules_engine')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_missing_c_extension_is_a_clear_error_from_the_command_line() -> None:
    """An install whose C extension cannot be loaded (a build that failed, a wheel for another Python) says what
    failed and what to do, with a code, instead of an unexpected ImportError."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'nea_policy.engine._durable_core':\n"
        "            raise ImportError('undefined symbol: PyEval_CallObject (simulated)')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from nea_policy.cli import main\n"
        f"sys.argv = ['nea-policy', 'evaluate', {str(EXAMPLES[0])!r}]\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert "unexpected" not in result.stderr
    assert "engine_unavailable" in result.stderr and "undefined symbol" in result.stderr
    assert "pip install --force-reinstall --no-cache-dir" in result.stderr
