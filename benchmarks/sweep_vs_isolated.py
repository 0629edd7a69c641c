"""Time per grid point: the incremental sweep session against isolated `engine.evaluate` of each grid point.

Run: python benchmarks/sweep_vs_isolated.py [FILE] — a 100-point grid (4 x 5 x 5 values) over examples/northeast-asia.yaml.
The isolated side gets each point's Scenario already validated, so it times evaluation alone (the sweep's time
includes validating and encoding its changed facts).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from nea_policy.engine import Engine
from nea_policy.facts import load_scenario
from nea_policy.sweep import parse_vary, sweep
from nea_policy.whatif import apply_assignments, parse_assignment

ROOT = Path(__file__).resolve().parent.parent
VARY = [
    "flows.kp-to-cn.legal_status=regular,irregular,unclear,mixed",
    "flows.kp-to-cn.fear_of_exposure=none,low,moderate,high,severe",
    "relations.JP-RU.cultural_gap=none,low,moderate,high,severe",
]


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples" / "northeast-asia.yaml"
    engine = Engine()
    scenario = load_scenario(path)
    vary = parse_vary(VARY)
    result = sweep(engine, scenario, vary)  # warm-up
    data = scenario.model_dump(mode="json", exclude_none=True)
    points = [
        load_scenario(apply_assignments(data, [parse_assignment(f"{p}={str(v).lower() if isinstance(v, bool) else v}") for p, v in point.values.items()]))
        for point in result.points
    ]
    n = len(points)
    sweep_times, isolated_times = [], []
    for _ in range(5):
        started = time.perf_counter()
        sweep(engine, scenario, vary)
        sweep_times.append((time.perf_counter() - started) / n)
        started = time.perf_counter()
        for point in points:
            engine.evaluate(point)
        isolated_times.append((time.perf_counter() - started) / n)
    s, i = statistics.median(sweep_times), statistics.median(isolated_times)
    print(f"{path.name}: {n} grid points, median of 5 runs")
    print(f"  isolated engine.evaluate: {i * 1000:.2f} ms/point")
    print(f"  sweep (one session):      {s * 1000:.2f} ms/point")
    print(f"  speed-up: {i / s:.1f}x")


if __name__ == "__main__":
    main()
