"""nea-policy benchmark: speed, latency, compile and cold-start time, memory growth, scaling, sweep speed-up, service.

Run from a checkout after installing the package:

    python benchmarks/run.py            # the full run (100,000 evaluations for the memory figure: a few minutes)
    python benchmarks/run.py --quick    # fewer repetitions and 5,000 evaluations for memory: a fast check
    python benchmarks/run.py --json     # one JSON object instead of the table
    python benchmarks/run.py --only peers   # the Engine beside the same rules in CLIPS and hand-written Python

Everything runs in one thread (one core). Timings on a shared machine are noisy: each figure is a median over
several rounds, and the ratio against raw durable_rules alternates rounds of the two so that both see the same load.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
REGION = EXAMPLES / "northeast-asia.yaml"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenarios import generate_scenario  # noqa: E402
from page_bench import measure_page, rows as page_rows  # noqa: E402
from service_bench import measure_service, rows as service_rows  # noqa: E402

TARGETS = {
    "overhead_vs_raw": "<= 1.3",
    "cold_start_s": "<= 0.25",
    "rss_growth_mb": "<= 5",
    "scaling_ratio_500_vs_10": "<= ~60",
    "sweep_speedup": ">= 5",
    "engine_vs_clips": ">= 1",
    "service_p50_overhead_ms": "<= 1",
    "service_throughput_ratio": ">= 0.8",
}
# A 100-point grid (4 x 5 x 5) over the whole-region example.
SWEEP_VARY = {
    "flows.kp-to-cn.legal_status": ["regular", "irregular", "unclear", "mixed"],
    "flows.kp-to-cn.fear_of_exposure": ["none", "low", "moderate", "high", "severe"],
    "relations.JP-RU.cultural_gap": ["none", "low", "moderate", "high", "severe"],
}


def _rate(call: Callable[[], Any], seconds: float, rounds: int) -> float:
    """Calls per second: median over `rounds` rounds of about `seconds` each."""
    call()
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-6)
    per_round = max(1, int(seconds / rounds / once))
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            call()
        rates.append(per_round / (time.perf_counter() - start))
    return statistics.median(rates)


def _rss_mb() -> float:
    """Resident set size of this process now (not the peak), in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


# --- raw durable_rules: the same compiled rules and facts, actions that only record ----------------------------


def durable_python_layer() -> tuple[Any, Any]:
    """durable_rules' own Python layer (vendored unchanged from 2.0.28, not installed with nea-policy) on the same
    patched C core as the engine's: its Host class and the core module it drives."""
    from nea_policy.engine import _durable_core

    # The layer imports its C core as `durable_rules_engine` (PyPI's build); give it nea-policy's build instead.
    sys.modules["durable_rules_engine"] = _durable_core
    layer = str(ROOT / "vendor" / "durable_rules" / "libpy")
    if layer not in sys.path:
        sys.path.insert(0, layer)
    import durable.engine

    # durable_rules calls datetime.utcfromtimestamp at every firing; on Python 3.12+ that warns each time.
    import warnings

    warnings.filterwarnings("ignore", message=r"datetime\.datetime\.utcfromtimestamp\(\) is deprecated", category=DeprecationWarning)
    return durable.engine.Host, _durable_core


class RawDurable:
    """The engine's compiled ruleset on its own quiet durable_rules host, with actions that only record the firing
    and assert the same derived finding facts (so the firings are the same): assert, fire, empty the session
    (by retraction, as the engine does; or delete_state, which crashed here)."""

    def __init__(self, engine: Any, *, delete_state: bool = False) -> None:
        Host, durable_rules_engine = durable_python_layer()
        from nea_policy.language.compiler import STRATUM_TYPE

        class QuietHost(Host):
            def _run(self) -> None:  # no timer threads: every firing happens inside the assert call
                return None

        self._c = durable_rules_engine
        self.fired: list[tuple[str, Any]] = []
        self.asserted: set[tuple[str, str]] = set()
        compiled = engine.compiled
        definition = engine.definition()
        for rule in compiled.rules:
            definition[compiled.name][rule.name]["run"] = self._action(rule.name, rule.rule, compiled.consumed_findings)
        self.host = QuietHost()
        self.host.register_rulesets(definition)
        self.ruleset = self.host.get_ruleset(compiled.name)
        self.markers = [{"id": f"{STRATUM_TYPE}:{s}", "t": STRATUM_TYPE, "level": s} for s in compiled.strata]
        self.delete_state = delete_state
        self.count = 0
        self.sid = "raw0"
        self.findings = []

    def _action(self, name: str, rule: Any, consumed: frozenset[str]) -> Callable[[Any], None]:
        derives = rule.kind == "finding" and rule.concludes in consumed
        subject_alias = rule.subject

        def action(c: Any) -> None:
            self.fired.append((name, c._m))
            if derives:
                subject = c._m[subject_alias]
                key = (rule.concludes, str(subject["key"] if subject["t"] != "finding" else subject["subject"]))
                if key not in self.asserted:
                    self.asserted.add(key)
                    finding = {"id": f"finding:{key[0]}:{key[1]}", "t": "finding", "finding": key[0], "subject": key[1], "subject_type": subject["t"], "sid": self.sid}
                    self.findings.append(finding)
                    c.assert_fact(dict(finding))

        return action

    def run(self, facts: list[dict[str, Any]]) -> int:
        """Assert the facts and the stratum markers, fire, empty the session; the number of firings."""
        self.fired.clear()
        self.asserted.clear()
        self.findings: list[dict[str, Any]] = []
        handle = self.ruleset._handle
        sid = self.sid
        # durable_rules' own Ruleset.assert_facts raises when some fact matches no rule; the C call underneath it
        # does not (the engine uses the same call): then the queued actions run synchronously, as Host does.
        batch = [{**f, "sid": sid} for f in facts]
        _, state = self._c.assert_facts(handle, json.dumps(batch, ensure_ascii=False))
        self.ruleset.do_actions(state, _ignore)
        markers = [{**m, "sid": sid} for m in self.markers]
        for marker in markers:
            _, state = self._c.assert_fact(handle, json.dumps(marker, ensure_ascii=False))
            self.ruleset.do_actions(state, _ignore)
        if self.delete_state:
            self.ruleset.delete_state(sid)
            self.count += 1
            self.sid = f"raw{self.count}"
        else:
            # What the engine does too: delete_state corrupted durable_rules' memory with this ruleset (a segfault
            # in Python's garbage collector later), so the session is emptied by retraction, markers first.
            for group in (markers[::-1], self.findings[::-1], batch):
                if group:
                    self._c.retract_facts(handle, json.dumps(group, ensure_ascii=False))
        return len(self.fired)


def _ignore(error: Any, state: Any) -> None:
    if error is not None:
        raise RuntimeError(f"raw durable_rules failed while firing: {error}")


# --- the figures ---------------------------------------------------------------------------------------------


def measure_throughput(engine: Any, quick: bool) -> dict[str, Any]:
    from nea_policy.model.facts import load_scenario

    out: dict[str, Any] = {}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        scenario = load_scenario(path)
        seconds = 1.0 if quick else 3.0
        out[path.stem] = {
            "from_scenario": round(_rate(lambda: engine.evaluate(scenario), seconds, 5), 1),
            "from_file": round(_rate(lambda: engine.evaluate(path), seconds, 5), 1),
        }
    return out


def measure_overhead(engine: Any, quick: bool, delete_state: bool = False) -> dict[str, Any]:
    from nea_policy.model.fact_types import encode_scenario
    from nea_policy.model.facts import load_scenario

    scenario = load_scenario(REGION)
    facts = [f for f in encode_scenario(scenario) if f["t"] in engine.asserted_types]
    raw = RawDurable(engine, delete_state=delete_state)
    raw_firings = raw.run(facts)
    ours_firings = _firings_of(engine, facts)
    if sorted(name for name, _ in raw.fired) != sorted(ours_firings):
        raise SystemExit("benchmark error: raw durable_rules and the engine fired different rules")
    rounds = 9 if quick else 21
    per_round = 40 if quick else 100
    ours_t, raw_t, ratios = [], [], []
    for _ in range(rounds):
        # Alternate the two in every round so that both see the same machine load.
        start = time.perf_counter()
        for _ in range(per_round):
            raw.run(facts)
        r = (time.perf_counter() - start) / per_round
        start = time.perf_counter()
        for _ in range(per_round):
            engine.evaluate(scenario)
        o = (time.perf_counter() - start) / per_round
        raw_t.append(r)
        ours_t.append(o)
        ratios.append(o / r)
    return {
        "overhead_vs_raw": round(statistics.median(ratios), 3),
        "ours_ms": round(statistics.median(ours_t) * 1e3, 3),
        "raw_ms": round(statistics.median(raw_t) * 1e3, 3),
        "firings": raw_firings,
    }


def _firings_of(engine: Any, facts: list[dict[str, Any]]) -> list[str]:
    firings = engine.fire([dict(f) for f in facts])
    return sorted(f.compiled.name for f in firings)


def measure_latency(engine: Any, quick: bool) -> dict[str, Any]:
    from nea_policy.model.facts import load_scenario

    scenario = load_scenario(REGION)
    for _ in range(50):
        engine.evaluate(scenario)
    samples = []
    for _ in range(500 if quick else 3000):
        start = time.perf_counter()
        engine.evaluate(scenario)
        samples.append(time.perf_counter() - start)
    samples.sort()
    return {
        "p50_ms": round(samples[len(samples) // 2] * 1e3, 3),
        "p99_ms": round(samples[int(len(samples) * 0.99)] * 1e3, 3),
        "samples": len(samples),
    }


def measure_compile(quick: bool) -> dict[str, Any]:
    from nea_policy import Engine
    from nea_policy.language.compiler import compile_ruleset
    from nea_policy.language.rules import load_ruleset

    load, comp, total = [], [], []
    for _ in range(5 if quick else 9):
        start = time.perf_counter()
        ruleset = load_ruleset()
        load.append(time.perf_counter() - start)
        start = time.perf_counter()
        compile_ruleset(ruleset)
        comp.append(time.perf_counter() - start)
        # Every Engine registers a ruleset on a new durable_rules host, which is never freed: keep the count small.
        start = time.perf_counter()
        Engine()
        total.append(time.perf_counter() - start)
    return {
        "compile_ms": round(statistics.median(total) * 1e3, 2),
        "load_rules_ms": round(statistics.median(load) * 1e3, 2),
        "compile_only_ms": round(statistics.median(comp) * 1e3, 2),
    }


def _command() -> list[str]:
    script = Path(sys.executable).parent / "nea-policy"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from nea_policy.cli import main; main()"]


def measure_cold_start(quick: bool) -> dict[str, Any]:
    command = [*_command(), "evaluate", str(REGION), "--format", "json"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    subprocess.run(command, capture_output=True, check=True, env=env)  # bytecode caches written, files in page cache
    times, floor = [], []
    for _ in range(5 if quick else 11):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"benchmark error: {' '.join(command)} failed: {done.stderr.decode()[-500:]}")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, env=env)
        floor.append(time.perf_counter() - start)
    return {"cold_start_s": round(statistics.median(times), 3), "python_startup_s": round(statistics.median(floor), 3), "command": " ".join(command[-4:])}


def measure_rss(engine: Any, evaluations: int) -> dict[str, Any]:
    from nea_policy.model.facts import load_scenario

    scenarios = [load_scenario(p) for p in sorted(EXAMPLES.glob("*.yaml"))]
    warm = min(2000, evaluations // 10)
    for i in range(warm):
        engine.evaluate(scenarios[i % len(scenarios)])
    gc.collect()
    before = _rss_mb()
    trail = []
    step = max(1, evaluations // 10)
    for i in range(evaluations):
        engine.evaluate(scenarios[i % len(scenarios)])
        if (i + 1) % step == 0:
            trail.append(round(_rss_mb() - before, 2))
    gc.collect()
    after = _rss_mb()
    return {"rss_growth_mb": round(after - before, 2), "rss_after_warmup_mb": round(before, 1), "rss_end_mb": round(after, 1), "evaluations": evaluations, "warmup": warm, "growth_trail_mb": trail}


def measure_scaling(engine: Any, quick: bool) -> dict[str, Any]:
    from nea_policy.errors import NeaPolicyError
    from nea_policy.model.facts import load_scenario

    out: dict[str, Any] = {}
    for n in (10, 50, 200, 500):
        data = generate_scenario(n, seed=1)
        start = time.perf_counter()
        scenario = load_scenario(data)
        validate = time.perf_counter() - start
        entry: dict[str, Any] = {"countries": len(data["countries"]), "regions": len(data["regions"]), "relations": len(data["relations"]), "flows": len(data["flows"])}
        try:
            runs = []
            for _ in range(3 if quick or n >= 200 else 5):
                start = time.perf_counter()
                report = engine.evaluate(scenario)
                runs.append(time.perf_counter() - start)
            entry.update(seconds=round(statistics.median(runs), 4), validate_seconds=round(validate, 4), recommendations=len(report.recommendations), findings=len(report.findings))
        except NeaPolicyError as error:
            entry.update(seconds=None, error=str(error))
        out[str(n)] = entry
    small, big = out["10"].get("seconds"), out["500"].get("seconds")
    out["ratio_500_vs_10"] = round(big / small, 1) if small and big else None
    return out


def measure_sweep(engine: Any, quick: bool) -> dict[str, Any]:
    from nea_policy.model.facts import load_scenario
    from nea_policy.model.paths import apply_assignments, parse_assignment

    scenario = load_scenario(REGION)
    result = engine.sweep(scenario, SWEEP_VARY)  # warm-up, and the grid points
    data = scenario.model_dump(mode="json", exclude_none=True)
    points = [
        load_scenario(apply_assignments(data, [parse_assignment(f"{p}={str(v).lower() if isinstance(v, bool) else v}") for p, v in point.values.items()]))
        for point in result.points
    ]
    n = len(points)
    sweep_t, isolated_t = [], []
    for _ in range(3 if quick else 7):
        start = time.perf_counter()
        engine.sweep(scenario, SWEEP_VARY)
        sweep_t.append((time.perf_counter() - start) / n)
        start = time.perf_counter()
        for point in points:
            engine.evaluate(point)
        isolated_t.append((time.perf_counter() - start) / n)
    s, i = statistics.median(sweep_t), statistics.median(isolated_t)
    return {"sweep_speedup": round(i / s, 2), "points": n, "isolated_ms_per_point": round(i * 1e3, 3), "sweep_ms_per_point": round(s * 1e3, 3)}


def measure_peers(engine: Any, quick: bool) -> dict[str, Any]:
    """The Engine beside the same rules in CLIPS and in hand-written Python (benchmarks/peers.py), interleaved."""
    import peers

    from nea_policy.model.facts import load_scenario

    out: dict[str, Any] = {"what_is_timed": peers.TIMING_NOTE}
    if not peers.clips_available():
        out["clips"] = "not measured: clipspy is not installed (pip install clipspy)"
    cases = [
        ("northeast-asia", load_scenario(REGION), 9 if quick else 21, 0.1 if quick else 0.3),
        ("scaling N=200", load_scenario(generate_scenario(200, seed=1)), 3 if quick else 7, 0.5 if quick else 1.5),
    ]
    for name, scenario, rounds, seconds in cases:
        out[name] = peers.time_peers(engine, scenario, rounds=rounds, seconds=seconds)
    return out


SECTIONS = ("throughput", "overhead", "latency", "compile", "cold_start", "rss", "scaling", "sweep", "peers", "service", "page")


def _overhead_with_delete_state(quick: bool) -> dict[str, Any]:
    """The ratio against a raw side that ends each session with delete_state, in a process of its own (it can crash)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--json", "--only", "overhead", "--raw-delete-state", *(["--quick"] if quick else [])]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return {"overhead_vs_raw": None, "reason": f"the process ended with code {done.returncode}" + (" (segmentation fault)" if done.returncode == -11 else "")}
    figures = json.loads(done.stdout)
    return {"overhead_vs_raw": figures["overhead_vs_raw"], "raw_ms": figures["overhead_detail"]["raw_ms"], "ours_ms": figures["overhead_detail"]["ours_ms"]}


def run(quick: bool, only: set[str], rss_evaluations: int, raw_delete_state: bool = False) -> dict[str, Any]:
    """Every figure, as one JSON-ready dict."""
    from nea_policy import Engine

    engine = Engine()
    result: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "quick": quick,
        "targets": TARGETS,
    }
    if "throughput" in only:
        result["evals_per_s"] = measure_throughput(engine, quick)
        result["evals_per_s_note"] = "repeated isolated engine.evaluate in one thread; from_scenario: a parsed Scenario, from_file: the path (read, parse, validate, evaluate)"
    if "overhead" in only:
        overhead = measure_overhead(engine, quick, delete_state=raw_delete_state)
        result["overhead_vs_raw"] = overhead.pop("overhead_vs_raw")
        result["overhead_detail"] = overhead
        if not raw_delete_state:
            result["overhead_detail"]["raw_with_delete_state"] = _overhead_with_delete_state(quick)
    if "latency" in only:
        latency = measure_latency(engine, quick)
        result["p50_ms"], result["p99_ms"] = latency["p50_ms"], latency["p99_ms"]
        result["latency_samples"] = latency["samples"]
    if "compile" in only:
        compiled = measure_compile(quick)
        result["compile_ms"] = compiled.pop("compile_ms")
        result["compile_detail"] = compiled
    if "cold_start" in only:
        cold = measure_cold_start(quick)
        result["cold_start_s"] = cold.pop("cold_start_s")
        result["cold_start_detail"] = cold
    if "rss" in only:
        rss = measure_rss(engine, rss_evaluations)
        result["rss_growth_mb"] = rss.pop("rss_growth_mb")
        result["rss_detail"] = rss
    if "scaling" in only:
        result["scaling"] = measure_scaling(engine, quick)
    if "peers" in only:
        result["peers"] = measure_peers(engine, quick)
    if "sweep" in only:
        sweep = measure_sweep(engine, quick)
        result["sweep_speedup"] = sweep.pop("sweep_speedup")
        result["sweep_detail"] = sweep
    if "service" in only:
        result["service"] = measure_service(quick)
    if "page" in only:
        result["page"] = measure_page(quick)
    return result


def table(result: dict[str, Any]) -> str:
    """The figures as a plain-text table, with the targets beside them."""
    rows: list[tuple[str, str, str]] = []
    for name, rates in result.get("evals_per_s", {}).items():
        rows.append((f"evals/s {name}", f"{rates['from_scenario']:,.0f} from Scenario, {rates['from_file']:,.0f} from file", ""))
    if "overhead_vs_raw" in result:
        d = result["overhead_detail"]
        rows.append(("overhead_vs_raw", f"{result['overhead_vs_raw']:.2f} ({d['ours_ms']:.2f} ms vs {d['raw_ms']:.2f} ms raw, {d['firings']} firings)", TARGETS["overhead_vs_raw"]))
        other = d.get("raw_with_delete_state")
        if other is not None:
            value = f"{other['overhead_vs_raw']:.2f} ({other['ours_ms']:.2f} ms vs {other['raw_ms']:.2f} ms raw)" if other["overhead_vs_raw"] is not None else f"n/a: {other['reason']}"
            rows.append(("  raw ending with delete_state", value, ""))
    if "p50_ms" in result:
        rows.append(("latency p50 / p99", f"{result['p50_ms']:.2f} ms / {result['p99_ms']:.2f} ms", ""))
    if "compile_ms" in result:
        d = result["compile_detail"]
        rows.append(("compile_ms (Engine())", f"{result['compile_ms']:.1f} ms (load {d['load_rules_ms']:.1f}, compile {d['compile_only_ms']:.1f})", ""))
    if "cold_start_s" in result:
        rows.append(("cold_start_s", f"{result['cold_start_s']:.3f} s (python alone {result['cold_start_detail']['python_startup_s']:.3f} s)", TARGETS["cold_start_s"]))
    if "rss_growth_mb" in result:
        d = result["rss_detail"]
        rows.append(("rss_growth_mb", f"{result['rss_growth_mb']:+.2f} MB over {d['evaluations']:,} evaluations", TARGETS["rss_growth_mb"]))
    for n, entry in result.get("scaling", {}).items():
        if n == "ratio_500_vs_10":
            rows.append(("scaling N=500 / N=10", f"{entry}x" if entry is not None else "n/a", TARGETS["scaling_ratio_500_vs_10"]))
        elif entry.get("seconds") is not None:
            rows.append((f"scaling N={n}", f"{entry['seconds']:.3f} s ({entry['flows']} flows, {entry['countries']} countries, {entry['regions']} regions)", ""))
        else:
            rows.append((f"scaling N={n}", f"failed: {entry.get('error', '')[:80]}", ""))
    if "sweep_speedup" in result:
        d = result["sweep_detail"]
        value = f"{result['sweep_speedup']:.1f}x ({d['isolated_ms_per_point']:.2f} vs {d['sweep_ms_per_point']:.2f} ms/point)" if result["sweep_speedup"] is not None else f"n/a: {d.get('reason')}"
        rows.append(("sweep_speedup", value, TARGETS["sweep_speedup"]))
    for name, entry in result.get("peers", {}).items():
        if not isinstance(entry, dict) or "evals_per_s" not in entry:
            continue
        rates = {k: (f"{v:,.0f}" if v >= 100 else f"{v:.2f}") for k, v in entry["evals_per_s"].items()}
        value = f"Engine {rates['engine']}/s, " + (f"CLIPS {rates['clips']}/s, " if "clips" in rates else "CLIPS n/a, ") + f"Python {rates['python']}/s"
        rows.append((f"peers {name}", value + f" ({entry['facts']} facts, {entry['results']} results, equal)", ""))
        ratio = f"Engine/CLIPS {entry['engine_vs_clips']:.2f}x, " if entry.get("engine_vs_clips") is not None else ""
        rows.append(("  ratio (evals/s)", ratio + f"Engine/Python {entry['engine_vs_python']:.4f}x", f"{TARGETS['engine_vs_clips']} vs CLIPS" if ratio else ""))
        if "clips_parts_ms" in entry:
            parts = entry["clips_parts_ms"]
            rows.append(("  CLIPS per evaluation", ", ".join(f"{k} {v:.3f} ms" for k, v in parts.items()) + f"; encode (Engine.facts_of) {1e3 / entry['evals_per_s']['encode']:.3f} ms", ""))
    if "service" in result:
        rows += service_rows(result["service"])
    if "page" in result:
        rows += page_rows(result["page"])
    width = max(len(r[0]) for r in rows) if rows else 10
    lines = [f"nea-policy benchmark ({'quick' if result['quick'] else 'full'}) on {result['machine']['cpus']} CPUs, Python {result['machine']['python']}"]
    lines += [f"{name:<{width}}  {value}" + (f"   [target {target}]" if target else "") for name, value, target in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions; 5,000 evaluations for the memory figure")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this section (repeatable)")
    parser.add_argument("--rss-evaluations", type=int, default=None, help="evaluations for the memory figure (default 100,000; 5,000 with --quick)")
    parser.add_argument("--raw-delete-state", action="store_true", help="raw durable_rules ends each session with delete_state instead of retraction")
    args = parser.parse_args(argv)
    evaluations = args.rss_evaluations or (5_000 if args.quick else 100_000)
    result = run(args.quick, set(args.only or SECTIONS), evaluations, raw_delete_state=args.raw_delete_state)
    print(json.dumps(result, indent=2) if args.json else table(result))


if __name__ == "__main__":
    main()
