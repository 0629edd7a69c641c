"""Decisions and the decision log: every decision gets an id, and with --decision-log one JSON line of its own.

A line holds the time, the endpoint, the decision id, the ruleset (version and digest), the sha256 of the input
(its canonical JSON: keys sorted, no spaces, UTF-8, so a JSON and a YAML body with the same content hash the
same), the recommendation ids of the answer, the HTTP status and the duration. Lines are appended with one write
each to a file opened in append mode, so several worker processes can share one log.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from nea_policy.errors import InputError, NeaPolicyError
from nea_policy.model.report import RulesetInfo
from nea_policy.service.problems import InternalError, report_failure

T = TypeVar("T")

DECISION_HEADER = "NEA-Decision-Id"
DIGEST_HEADER = "NEA-Ruleset-Digest"
VERSION_HEADER = "NEA-Ruleset-Version"


def input_sha256(data: Any) -> str:
    """sha256 of the canonical JSON of an input (YAML dates and other non-JSON scalars as their text)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DecisionLog:
    """Where decision lines go: a file (appended to), standard output ('-'), or nowhere."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()
        if path is not None and path != "-":
            try:
                self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError as exc:
                raise InputError(f"cannot open the decision log: {exc.strerror}; name a file in a folder that exists", code="cannot_open_log", location=path) from None

    @property
    def enabled(self) -> bool:
        """Whether decisions are logged at all (hashing the input costs time only then)."""
        return self.path is not None

    def write(self, record: dict[str, Any]) -> None:
        """Append one line."""
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str) + "\n").encode("utf-8")
        with self._lock:
            if self._fd is not None:
                os.write(self._fd, line)
            elif self.path == "-":
                sys.stdout.buffer.write(line)
                sys.stdout.flush()

    def close(self) -> None:
        """Close the file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def decision_headers(decision_id: str, ruleset: RulesetInfo) -> dict[str, str]:
    """The headers every decision answer carries."""
    return {DECISION_HEADER: decision_id, VERSION_HEADER: ruleset.version, DIGEST_HEADER: ruleset.digest}


def decide(log: DecisionLog, ruleset: RulesetInfo, endpoint: str, data: Any, call: Callable[[], T], conclusions: Callable[[T], list[str]]) -> tuple[T, str]:
    """Run one decision: its answer and its id, logged when the log is on.

    A NeaPolicyError (a problem of the input) is no decision and passes through; any other failure is logged here
    with its traceback under the decision's id, and becomes an InternalError carrying that id.
    """
    decision_id = str(uuid.uuid4())
    started = time.perf_counter()
    try:
        result = call()
    except NeaPolicyError:
        raise
    except Exception as exc:  # noqa: BLE001 - an unexpected failure: logged under the id the client gets
        report_failure(decision_id, endpoint)
        if log.enabled:
            log.write(_record(endpoint, decision_id, ruleset, data, None, started, status=500, error=type(exc).__name__))
        raise InternalError(decision_id) from exc
    if log.enabled:
        log.write(_record(endpoint, decision_id, ruleset, data, conclusions(result), started))
    return result, decision_id


def _record(endpoint: str, decision_id: str, ruleset: RulesetInfo, data: Any, recommendations: list[str] | None, started: float, status: int = 200, error: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "time": _now(),
        "endpoint": endpoint,
        "decision_id": decision_id,
        "status": status,
        "ruleset": {"version": ruleset.version, "digest": ruleset.digest},
        "input_sha256": input_sha256(data),
        "recommendations": recommendations,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
    }
    if error is not None:
        record["error"] = error
    return record
