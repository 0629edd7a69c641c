"""The README's Service examples are what a real server on loopback answers to the commands shown (run with bash and
the real curl, in the order shown, against one `nea-policy serve`).

After an intended change of the answers, refresh them with `NEA_UPDATE_README=1 pytest tests/test_service_readme.py`
and review the diff.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from live_server import Server, running

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SHOWN_ADDRESS = "127.0.0.1:8000"
SHOWN_LOG = "decisions.jsonl"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Service")
    return text[start : text.index("\n## ", start + 1)]


def examples() -> list[tuple[str, str]]:
    """(command line, output shown under it) for each `$ ...` line of the Service section's text blocks."""
    found = []
    for block in re.findall(r"```text\n(.*?)```", _section(), flags=re.S):
        parts = re.split(r"^\$ (.*)$", block, flags=re.M)
        found += [(command, output.removeprefix("\n")) for command, output in zip(parts[1::2], parts[2::2])]
    return found


def normal(text: str) -> str:
    """What changes from run to run (ids, times, durations) and with every edit of the rules (the digest) masked."""
    text = re.sub(r"sha256:[0-9a-f]{16}", "sha256:<digest>", text)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", "<uuid>", text)
    text = re.sub(r'"time":"[^"]+"', '"time":"<time>"', text)
    return re.sub(r'"duration_ms":[0-9.]+', '"duration_ms":<ms>', text).rstrip("\n")


def test_the_service_section_has_examples_to_check() -> None:
    commands = [command for command, _ in examples()]
    assert commands[0].startswith("nea-policy serve ") and sum(c.count("curl ") for c in commands) >= 6, commands


@pytest.fixture(scope="module")
def shown_server(tmp_path_factory: pytest.TempPathFactory) -> tuple[Server, Path]:
    command = examples()[0][0]
    assert command.endswith(" &") and f"--decision-log {SHOWN_LOG}" in command
    log = tmp_path_factory.mktemp("readme") / SHOWN_LOG
    args = command.removeprefix("nea-policy serve").removesuffix("&").replace(SHOWN_LOG, str(log)).split()
    with running(*args) as server:
        yield server, log


def test_the_readme_examples_are_what_the_server_answers(shown_server: tuple[Server, Path]) -> None:
    server, log = shown_server
    assert shutil.which("curl") and shutil.which("bash"), "the examples run with bash and curl (both in the machine image)"
    (first, banner), *rest = examples()
    actual = [(first, server.stderr().splitlines()[0].replace(f"{server.host}:{server.port}", SHOWN_ADDRESS))]
    for command, _ in rest:
        line = command.replace(SHOWN_ADDRESS, f"{server.host}:{server.port}").replace(SHOWN_LOG, str(log))
        done = subprocess.run(["bash", "-c", f"set -o pipefail; {line}"], cwd=ROOT, capture_output=True, text=True, timeout=60)
        # head closing the pipe early is fine (curl then ends with SIGPIPE or code 23); anything else is a failure.
        assert done.returncode in (0, 23, 141) or "| head" in line, (command, done.returncode, done.stderr)
        actual.append((command, done.stdout))
    stale = [(command, shown, output) for (command, shown), (_, output) in zip(examples(), actual) if normal(shown) != normal(output)]
    if stale and os.environ.get("NEA_UPDATE_README"):
        text = README.read_text(encoding="utf-8")
        for command, shown, output in stale:
            old = f"$ {command}\n{shown}"
            assert text.count(old) == 1, command
            text = text.replace(old, f"$ {command}\n{output.rstrip(chr(10))}\n")
        README.write_text(text, encoding="utf-8")
        return
    assert not stale, f"README output of `{stale[0][0]}` is stale; refresh it with NEA_UPDATE_README=1 pytest tests/test_service_readme.py\n{stale[0][2]}"
