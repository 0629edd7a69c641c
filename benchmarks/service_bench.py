"""The service against the library: latency and throughput of POST /v1/evaluate and of the library call it makes.

The server is the installed `nea-policy serve` on loopback (access log off), started once per worker count. The
library call is what the endpoint does on the same JSON text: parse, validate, evaluate, serialize the report.
Rounds of the two alternate so that both see the same load; latency is one request (or call) at a time on a
keep-alive connection; throughput per worker drives one worker with several client threads. The machine is shared
(other work, and the benchmark's own client threads, take CPU from the server), so beside requests per second it
gives the CPU time the worker process spent per request against the library's CPU time per call (from /proc): the
throughput one worker has on a core of its own, which other load changes much less.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("northeast-asia", "north-koreans-in-china")
CLIENT_THREADS = 4
HEADERS = {"Content-Type": "application/json"}


def _command() -> list[str]:
    script = Path(sys.executable).parent / "nea-policy"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from nea_policy.cli import main; main()"]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(workers: int) -> Iterator[tuple[int, int]]:
    """A `nea-policy serve` with this many workers on a free loopback port, until the block ends: (port, pid)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [*_command(), "serve", "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/v1/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"benchmark error: the server did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.1)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _client(port: int) -> Callable[[bytes], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(body: bytes) -> bytes:
        connection.request("POST", "/v1/evaluate", body=body, headers=HEADERS)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise SystemExit(f"benchmark error: /v1/evaluate answered {response.status}: {answer[:300]!r}")
        return answer

    return post


def _times(call: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _library_rate(call: Callable[[], Any], seconds: float) -> tuple[float, float]:
    """Calls per second, and CPU seconds per call."""
    done, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        call()
        done += 1
    return done / (time.perf_counter() - start), (time.process_time() - cpu) / done


def _service_rate(port: int, body: bytes, seconds: float, threads: int = CLIENT_THREADS, pid: int | None = None) -> tuple[float, float]:
    """Requests per second from `threads` clients, and the server's CPU seconds per request (when its pid is given)."""
    counts = [0] * threads
    stop_at = time.perf_counter() + seconds

    def run(index: int) -> None:
        post = _client(port)
        while time.perf_counter() < stop_at:
            post(body)
            counts[index] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    start, cpu = time.perf_counter(), cpu_seconds(pid) if pid else 0.0
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed, done = time.perf_counter() - start, sum(counts)
    return done / elapsed, ((cpu_seconds(pid) - cpu) / done if pid else 0.0)


def measure_service(quick: bool) -> dict[str, Any]:
    """Latency (p50/p99) and throughput of /v1/evaluate against the library call, per scenario; 1 and 2 workers."""
    import yaml

    from nea_policy.api import make_engine
    from nea_policy.model.documents import parse_document
    from nea_policy.model.facts import scenario_from_document

    engine = make_engine()
    rounds, per_round, seconds = (3, 100, 0.5) if quick else (7, 300, 1.5)
    out: dict[str, Any] = {"client_threads": CLIENT_THREADS, "rounds": rounds}
    bodies = {name: json.dumps(yaml.safe_load((ROOT / "examples" / f"{name}.yaml").read_text(encoding="utf-8"))).encode() for name in SCENARIOS}
    with serving(1) as (port, pid):
        post = _client(port)
        for name, body in bodies.items():
            text = body.decode()

            def library(text: str = text) -> str:
                return engine.evaluate(scenario_from_document(parse_document(text, "body", fmt="json"))).to_json()

            if post(body).decode() != library():
                raise SystemExit(f"benchmark error: the service's report of {name} is not the library's")
            for _ in range(50):
                library()
                post(body)
            lib_t: list[float] = []
            svc_t: list[float] = []
            lib_rates: list[tuple[float, float]] = []
            svc_rates: list[tuple[float, float]] = []
            for _ in range(rounds):
                lib_t += _times(library, per_round)
                post = _client(port)  # a fresh connection: uvicorn closes one idle for 5 s
                post(body)
                svc_t += _times(lambda body=body, post=post: post(body), per_round)
                lib_rates.append(_library_rate(library, seconds))
                svc_rates.append(_service_rate(port, body, seconds, pid=pid))
            lib_p50, svc_p50 = _percentile(lib_t, 0.5) * 1e3, _percentile(svc_t, 0.5) * 1e3
            lib_rate, svc_rate = statistics.median(r for r, _ in lib_rates), statistics.median(r for r, _ in svc_rates)
            lib_cpu, svc_cpu = statistics.median(c for _, c in lib_rates), statistics.median(c for _, c in svc_rates)
            out[name] = {
                "library_p50_ms": round(lib_p50, 3),
                "library_p99_ms": round(_percentile(lib_t, 0.99) * 1e3, 3),
                "service_p50_ms": round(svc_p50, 3),
                "service_p99_ms": round(_percentile(svc_t, 0.99) * 1e3, 3),
                "p50_overhead_ms": round(svc_p50 - lib_p50, 3),
                "library_calls_per_s": round(lib_rate, 1),
                "service_requests_per_s": round(svc_rate, 1),
                "throughput_ratio": round(svc_rate / lib_rate, 3),
                "library_cpu_ms_per_call": round(lib_cpu * 1e3, 3),
                "service_cpu_ms_per_request": round(svc_cpu * 1e3, 3),
                "cpu_throughput_ratio": round(lib_cpu / svc_cpu, 3),
                "request_bytes": len(body),
                "report_bytes": len(library().encode()),
            }
    with serving(2) as (port, _):
        body = bodies[SCENARIOS[0]]
        _service_rate(port, body, 0.5)
        out["two_workers_requests_per_s"] = round(statistics.median(_service_rate(port, body, seconds)[0] for _ in range(rounds)), 1)
    return out


def rows(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Table rows (name, value, target) for run.py's table."""
    found = []
    for name in SCENARIOS:
        f = figures[name]
        found.append(
            (
                f"service p50/p99 {name}",
                f"{f['service_p50_ms']:.2f} / {f['service_p99_ms']:.2f} ms vs library {f['library_p50_ms']:.2f} / {f['library_p99_ms']:.2f} ms (+{f['p50_overhead_ms']:.2f} ms)",
                "p50 <= library + 1 ms",
            )
        )
        found.append(
            (
                f"service req/s {name}",
                f"{f['service_requests_per_s']:,.0f} /s, 1 worker, vs library {f['library_calls_per_s']:,.0f} /s ({f['throughput_ratio']:.0%})",
                ">= 80% per worker",
            )
        )
        found.append(
            (
                f"  CPU per request {name}",
                f"{f['service_cpu_ms_per_request']:.2f} ms in the worker vs {f['library_cpu_ms_per_call']:.2f} ms per library call ({f['cpu_throughput_ratio']:.0%})",
                ">= 80% per worker",
            )
        )
    found.append(("service req/s, 2 workers", f"{figures['two_workers_requests_per_s']:,.0f} /s ({SCENARIOS[0]}, {figures['client_threads']} client threads)", ""))
    return found
