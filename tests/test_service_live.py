"""The service as users run it: `nea-policy serve` on loopback, with worker processes, under load, and stopped.

The load test is bounded (8 client threads x 200 requests, each with a timeout) and stops by itself; every answer
must equal what the library (or, for an error, the same app in-process) answers.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from live_server import Server, running, stop

from nea_policy.api import Engine, check_document, what_if_document
from nea_policy.analysis.compare import compare_scenarios
from nea_policy.language.rule_docs import list_rules
from nea_policy.model.documents import parse_document
from nea_policy.model.facts import load_scenario
from nea_policy.service.app import create_app
from nea_policy.service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
JSON = {"Content-Type": "application/json"}
YAML = {"Content-Type": "application/yaml"}
CLIENTS, PER_CLIENT = 8, 200


def _data(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _mix(engine: Engine) -> list[tuple[str, str, bytes | None, dict[str, str], int, Any]]:
    """(method, path, body, headers, status, expected JSON) of each kind of request the load test sends."""
    mix: list[tuple[str, str, bytes | None, dict[str, str], int, Any]] = []
    for path in EXAMPLES:
        report = json.loads(engine.evaluate(load_scenario(path)).to_json())
        mix.append(("POST", "/v1/evaluate", path.read_bytes(), YAML, 200, report))
        mix.append(("POST", "/v1/evaluate", json.dumps(_data(path)).encode(), JSON, 200, report))
    nk, ru, region = (ROOT / "examples" / f"{n}.yaml" for n in ("north-koreans-in-china", "russians-in-japan", "northeast-asia"))
    narrowed = engine.evaluate(load_scenario(ru))
    narrowed = narrowed.model_copy(update={"recommendations": [r.model_copy(update={"because": []}) for r in narrowed.for_actor("RU")], "findings": []})
    mix.append(("POST", "/v1/evaluate?actor=RU&findings=false", ru.read_bytes(), YAML, 200, json.loads(narrowed.to_json())))
    checked = check_document(parse_document(region.read_text(encoding="utf-8"), "body"), ruleset=engine.ruleset)
    assert checked.scenario is not None
    unread = [dataclasses.asdict(note) for note in checked.unread]
    mix.append(("POST", "/v1/check", region.read_bytes(), YAML, 200, {"ok": True, "title": checked.scenario.title, "counts": checked.counts, "unread": unread}))
    changed = what_if_document(engine, parse_document(nk.read_text(encoding="utf-8"), "body"), ["flows.kp-to-cn.legal_status=regular"])
    mix.append(("POST", "/v1/what-if", json.dumps({"scenario": _data(nk), "set": {"flows.kp-to-cn.legal_status": "regular"}}).encode(), JSON, 200, json.loads(changed.model_dump_json())))
    comparison = compare_scenarios(load_scenario(nk), load_scenario(region), engine)
    mix.append(("POST", "/v1/compare", json.dumps({"before": _data(nk), "after": _data(region)}).encode(), JSON, 200, json.loads(comparison.to_json())))
    mix.append(("GET", "/v1/rules", None, {}, 200, [rule.__dict__ for rule in list_rules(engine.ruleset)]))
    typo = b"countries:\n  - code: CN\n    name: China\n    labour_shortage: high\n"
    with TestClient(create_app(Settings())) as in_process:
        expected_problem = in_process.post("/v1/evaluate", content=typo, headers=YAML).json()
    mix.append(("POST", "/v1/evaluate", typo, YAML, 422, expected_problem))
    return mix


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("live") / "decisions.jsonl"


@pytest.fixture(scope="module")
def server(log_file: Path) -> Any:
    with running("--workers", "2", "--decision-log", str(log_file)) as live:
        yield live


def test_it_starts_as_installed_and_says_where_the_docs_are(server: Server, engine: Engine) -> None:
    banner = server.stderr().splitlines()[0]
    assert banner == f"nea-policy serve: rules {engine.ruleset.version} ({engine.ruleset.digest}), 2 workers; the page at {server.url}/, API docs at {server.url}/docs"
    status, headers, page = server.request("GET", "/docs")
    assert status == 200 and headers["content-type"].startswith("text/html") and b"/docs/assets/swagger-ui-bundle.js" in page


def test_each_worker_is_a_process_of_its_own(server: Server) -> None:
    assert len(server.worker_pids()) >= 2


def test_load_8_clients_200_mixed_requests_each_no_error_every_answer_the_librarys(server: Server, engine: Engine, log_file: Path) -> None:
    mix = _mix(engine)
    failures: list[str] = []
    decisions: list[str] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def client(number: int) -> None:
        connection = server.connection(timeout=30)
        try:
            for i in range(PER_CLIENT):
                method, path, body, headers, status, expected = mix[(number * 7 + i) % len(mix)]
                try:
                    connection.request(method, path, body=body, headers=headers)
                    response = connection.getresponse()
                    text = response.read()
                    decision = response.getheader("NEA-Decision-Id")
                except OSError as error:
                    with lock:
                        failures.append(f"client {number} request {i}: {method} {path}: {error!r}")
                    connection.close()
                    connection = server.connection(timeout=30)
                    continue
                with lock:
                    statuses[response.status] += 1
                    if decision:
                        decisions.append(decision)
                    if response.status != status or json.loads(text) != expected:
                        failures.append(f"client {number} request {i}: {method} {path}: {response.status} {text[:200]!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads), "the load test did not finish in time"
    assert failures == [], failures[:5]
    assert sum(statuses.values()) == CLIENTS * PER_CLIENT
    assert set(statuses) == {200, 422}
    assert len(decisions) == len(set(decisions)) > CLIENTS * PER_CLIENT // 2
    # Both workers append to one decision log: one whole JSON line per decision, none torn or lost.
    logged = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    assert set(decisions) <= {entry["decision_id"] for entry in logged}


def test_a_20_mb_body_is_413_before_it_is_sent(server: Server) -> None:
    """The declared length is refused at once: the client need not send 20 MB to hear it (curl waits for 100-continue)."""
    with socket.create_connection((server.host, server.port), timeout=30) as raw:
        raw.sendall(f"POST /v1/evaluate HTTP/1.1\r\nHost: {server.host}\r\nContent-Type: application/json\r\nContent-Length: {20 * 1024 * 1024}\r\n\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = raw.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(body)["code"] == "body_too_large"


def test_a_20_mb_body_sent_in_full_is_413(server: Server, tmp_path: Path) -> None:
    curl = shutil.which("curl")
    assert curl, "curl is part of the machine image; the README's examples use it"
    big = tmp_path / "big.json"
    big.write_bytes(b'{"countries": [' + b'{"code": "CN", "name": "China"},' * 660_000 + b'{"code": "CN", "name": "China"}]}')
    assert big.stat().st_size > 20 * 1024 * 1024
    done = subprocess.run([curl, "-s", "-o", "-", "-w", "\n%{http_code}", "-H", "Content-Type: application/json", "--data-binary", f"@{big}", f"{server.url}/v1/evaluate"], capture_output=True, timeout=60)
    body, _, status = done.stdout.rpartition(b"\n")
    assert status == b"413" and json.loads(body)["code"] == "body_too_large"


def test_sigterm_stops_it_gracefully() -> None:
    with running() as live:
        assert live.request("GET", "/v1/health")[0] == 200
        # uvicorn shuts down (requests in flight finish), then ends by the signal it was sent, as a signalled process does.
        assert stop(live.process) in (0, -signal.SIGTERM)
        assert "Shutting down" in live.stderr() and "Finished server process" in live.stderr()


def test_port_0_listens_on_a_free_port_that_the_banner_names(tmp_path: Path) -> None:
    from live_server import command

    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as stderr:
        process = subprocess.Popen([*command(), "serve", "--port", "0", "--no-access-log"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        while "Application startup complete" not in errors.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        match = re.search(r"API docs at http://127\.0\.0\.1:(\d+)/docs", errors.read_text())
        assert match, errors.read_text()
        port = int(match.group(1))
        assert port != 0 and f"Uvicorn running on http://127.0.0.1:{port}" in errors.read_text()
        assert Server("127.0.0.1", port, process, errors).request("GET", "/v1/health")[0] == 200
    finally:
        stop(process)


def test_open_opens_the_page_in_the_browser_once_the_server_answers(tmp_path: Path) -> None:
    """`--open` hands the page's address to the user's browser (here the one $BROWSER names: a script that writes it down)."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n', encoding="utf-8")
    browser.chmod(0o755)
    with running("--open", env={"BROWSER": str(browser)}) as live:
        deadline = time.monotonic() + 30
        while not (opened.exists() and opened.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert opened.read_text().strip() == f"{live.url}/"
        assert live.request("GET", "/")[0] == 200
