"""How many rules durable_rules can run, by measurement: packs of one shape added to the bundled rules, bisected.

For each shape, the largest pack the vendored core runs (ruleset created, the example and a fact of every field at
its most evaluated 30 times, in a process of its own, since over a limit the core errs, hangs or corrupts memory)
against the largest the model (language/network.py) lets the compiler accept. The model must never accept more.

    python benchmarks/network_limits.py            # all shapes (a few minutes: each trial is a process)
    python benchmarks/network_limits.py --json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
NK = ROOT / "examples" / "north-koreans-in-china.yaml"
LEVELS = ["none", "low", "moderate", "high", "severe"]

# Each shape: the rule i of a pack of probe rules (what the rule author writes), and what it crowds in the network.
SHAPES: dict[str, tuple[str, Any]] = {
    "same test": ("every rule ends at one shared test (flow.abuse >= high): beta nodes of one alpha node", lambda i: {"facts": {"flow": "flow"}, "when": ["flow.abuse >= high"]}),
    "join a country": (
        "every rule joins the host country: a join is never shared, each is pushed for every country fact",
        lambda i: {"facts": {"flow": "flow", "host": "country"}, "when": ["host.code == flow.destination", f"flow.abuse >= {LEVELS[1 + i % 4]}"]},
    ),
    "any: group": ("every rule has an any: group on two flow fields: its junction joins both tests' lists", lambda i: {"facts": {"flow": "flow"}, "when": [{"any": ["flow.abuse >= high", "flow.fear_of_exposure >= high"]}]}),
    "distinct names": ("every rule tests the flow's name against its own value: children of one alpha node", lambda i: {"facts": {"flow": "flow"}, "when": [f"flow.name == 'n{i}'"]}),
}

TRIAL = """
import sys
from pathlib import Path
from nea_policy.engine.engine import Engine
engine = Engine(extra_rules=[sys.argv[1]])
for _ in range(30):
    for path in sys.argv[2:]:
        engine.evaluate(Path(path))
print("ok")
"""


def write_pack(folder: Path, shape: str, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text("name: probe\nversion: 1.0.0\n", encoding="utf-8")
    make = SHAPES[shape][1]
    specs = [
        {"id": f"probe-{i}", "kind": "recommendation", "title": f"Probe {i}", "subject": "flow", **make(i), "actors": ["flow.destination"], "justification": "{flow.name}.", "source": {"section": "Probe", "quote": "probe"}}
        for i in range(count)
    ]
    (folder / "rules.yaml").write_text(yaml.safe_dump({"rules": specs}), encoding="utf-8")
    return folder


def fullest_scenario(folder: Path) -> Path:
    """The North Korean example with every level of its flow and countries at severe and every flag true."""
    from nea_policy.model.fact_types import FACT_TYPES

    data = yaml.safe_load(NK.read_text(encoding="utf-8"))
    for kind, items in (("flow", data["flows"]), ("country", data["countries"])):
        for item in items:
            for name, spec in FACT_TYPES[kind].fields.items():
                if not spec.derived and spec.kind == "level":
                    item[name] = "severe"
                elif not spec.derived and spec.kind == "bool":
                    item[name] = True
    path = folder / "fullest.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def core_runs(pack: Path, scenarios: list[Path]) -> bool:
    try:
        result = subprocess.run([sys.executable, "-c", TRIAL, str(pack), *map(str, scenarios)], capture_output=True, text=True, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return False
    return result.stdout.strip() == "ok"


def model_accepts(pack: Path) -> bool:
    from nea_policy.language.compiler import compile_ruleset, engine_limit_problems
    from nea_policy.language.rules import load_ruleset

    return not engine_limit_problems(compile_ruleset(load_ruleset(None, [pack]), check_limits=False))


def largest(accepts: Any, high: int) -> int:
    """The largest n in 0..high that accepts (bisection; accepts must be monotonic)."""
    low = 0
    while high - low > 1:
        middle = (low + high) // 2
        if accepts(middle):
            low = middle
        else:
            high = middle
    return low


def measure(shape: str, work: Path) -> dict[str, Any]:
    scenarios = [NK, fullest_scenario(work)]
    model = largest(lambda n: model_accepts(write_pack(work / f"{shape}-{n}", shape, n)), 1200)
    core = largest(lambda n: core_runs(write_pack(work / f"{shape}-{n}", shape, n), scenarios), 1200)
    return {"shape": shape, "what": SHAPES[shape][0], "core_runs_up_to": core, "model_accepts_up_to": model, "safe": model <= core}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", choices=sorted(SHAPES), action="append")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = [measure(shape, Path(folder)) for shape in args.only or SHAPES]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'shape':<16} {'core runs':>10} {'model accepts':>14}  (rules in a pack added to the 26 bundled ones)")
    for r in results:
        print(f"{r['shape']:<16} {r['core_runs_up_to']:>10} {r['model_accepts_up_to']:>14}  {r['what']}{'' if r['safe'] else '  UNSAFE'}")


if __name__ == "__main__":
    main()
