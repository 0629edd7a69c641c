"""A real `nea-policy serve` on loopback for the tests: started as the installed command, stopped by SIGTERM."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def command() -> list[str]:
    """The installed console script (what a user runs), else the module through this Python."""
    script = Path(sys.executable).parent / "nea-policy"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from nea_policy.cli import main; main()"]


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running server: where it listens, its process, and what it wrote to standard error."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    stderr_path: Path

    @property
    def url(self) -> str:
        """http://host:port."""
        return f"http://{self.host}:{self.port}"

    def connection(self, timeout: float = 30) -> http.client.HTTPConnection:
        """A keep-alive connection to it."""
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request on a fresh connection: status, headers (lower-cased names), body."""
        connection = self.connection()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def stderr(self) -> str:
        """What the server has written to standard error so far."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def worker_pids(self) -> list[int]:
        """Processes whose parent is the server (its uvicorn workers, when there are several)."""
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:
                    children.append(int(entry.name))
        return children


@contextmanager
def running(*args: str, startup_seconds: float = 60, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`nea-policy serve --port <free> --no-access-log ARGS` until /v1/health answers; SIGTERM (then SIGKILL) after."""
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        stderr_path = Path(folder) / "stderr.txt"
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                [*command(), "serve", "--port", str(port), "--no-access-log", *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr, env={**os.environ, **(env or {})}
            )
        server = Server("127.0.0.1", port, process, stderr_path)
        try:
            deadline = time.monotonic() + startup_seconds
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"the server exited with {process.returncode}: {server.stderr()}")
                try:
                    if server.request("GET", "/v1/health")[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"the server did not answer within {startup_seconds} s: {server.stderr()}")
                time.sleep(0.1)
            yield server
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], seconds: float = 20) -> int:
    """Stop gracefully (SIGTERM), or kill it if it does not stop in time; its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(seconds)
    return process.returncode
