"""No output format passes raw HTML, active Markdown, terminal controls or forged lines from the input.

One scenario holds a hostile payload in every text field a fact file has (title, description, names, labels, who
made an estimate, sectors); every command renders it in every format it has, and each output is checked for what
that format must not let through. JSON must carry the payload exactly (written-out controls are the same text).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from nea_policy.cli import main

ROOT = Path(__file__).resolve().parent.parent
NK = ROOT / "examples" / "north-koreans-in-china.yaml"

PAYLOAD = "=cmd|'/C calc'!A0 <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(2)> *b* `c` \x1b[31mred\x07\u202eevil\u2066 \nerror: forged"
SHORT = "<b>s</b> [y](javascript:alert(3)) \x1b[2J\u202e\nerror: forged"  # for fields of at most 80 characters
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
MARKDOWN_ACTIVE = re.compile(r"(?<!\\)<[A-Za-z/!?]|(?<!\\)\]\((?:javascript|data|vbscript):", re.IGNORECASE)
ARTICLE_LINK = "<https://www.migrationpolicy.org/article/cross-border-human-flows-northeast-asia>"
FORGED = re.compile(r"^[\s│├└─┃┣┗━•*'\"-]*error: forged", re.MULTILINE)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = yaml.safe_load(NK.read_text(encoding="utf-8"))
    data["title"] = data["description"] = PAYLOAD
    for country in data["countries"]:
        country["name"] = PAYLOAD
    flow = data["flows"][0]
    flow["name"] = PAYLOAD
    flow["sectors"] = [SHORT]
    flow["labels"] = [{"by": PAYLOAD, "label": PAYLOAD}]
    flow["estimates"] = [{"low": 1, "high": 2, "kind": "careful", "by": PAYLOAD}]
    path = tmp_path_factory.mktemp("hostile") / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def run(*args: str | Path) -> tuple[int, str, str]:
    # Wide lines: nothing is wrapped, so a line can start with the payload's second line only if it was kept.
    result = CliRunner(env={"COLUMNS": "4000"}).invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


COMMANDS: dict[str, list[str]] = {
    "evaluate": ["evaluate", "{file}"],
    "compare": ["compare", str(NK), "{file}"],
    "what-if": ["what-if", "{file}", "--set", "flows.kp-to-cn.abuse=low"],
    "explain-holds": ["explain", "{file}", "identify-refugees"],
    "explain-why-not": ["explain", "{file}", "citizen-exchanges"],
    "explain-finding": ["explain", "{file}", "legal-status-limbo"],
    "sweep": ["sweep", "{file}", "--vary", "flows.kp-to-cn.legal_status=unclear,regular", "--vary", f"title={json.dumps(PAYLOAD)}", "--jobs", "1"],
    "check": ["check", "{file}"],
}
FORMATS: dict[str, list[str]] = {
    "evaluate": ["text", "json", "markdown", "html", "rich"],
    "compare": ["text", "json"],
    "what-if": ["text", "json"],
    "explain-holds": ["text", "json", "markdown"],
    "explain-why-not": ["text", "json", "markdown"],
    "explain-finding": ["text", "json", "markdown"],
    "sweep": ["text", "json", "markdown", "csv"],
    "check": ["text", "json"],
}
CASES = [(command, fmt) for command, formats in FORMATS.items() for fmt in formats]


@pytest.mark.parametrize(("command", "fmt"), CASES, ids=[f"{c}-{f}" for c, f in CASES])
def test_nothing_raw_reaches_an_output(hostile: Path, command: str, fmt: str) -> None:
    args = [a.replace("{file}", str(hostile)) for a in COMMANDS[command]]
    args += ["--color", "always"] if fmt == "rich" else (["--format", fmt] if fmt != "text" else [])
    code, out, err = run(*args)
    assert code == 0, err
    assert "alert(1)" in out or command == "check", "the payload should be shown (escaped), not dropped"
    assert not RAW_CONTROLS.search(out.replace("\n", "").replace("\t", "") if fmt != "rich" else re.sub(r"\x1b\[[0-9;]*m", "", out).replace("\n", ""))
    assert not RAW_CONTROLS.search(err.replace("\n", ""))
    if fmt == "json":
        assert command == "check" or PAYLOAD in set(_strings(json.loads(out))), "JSON carries the payload exactly"
    elif fmt == "markdown":
        assert not MARKDOWN_ACTIVE.search(out.replace(ARTICLE_LINK, "")), "raw HTML or an active link in Markdown"
    elif fmt == "html":
        assert "<script" not in out and "<img" not in out and "&lt;script&gt;" in out
    elif fmt == "csv":
        # CSV's own escaping: a newline stays in its quoted cell, which a reader gives back whole; no formula runs.
        rows = list(csv.reader(io.StringIO(out)))
        assert all(len(row) == len(rows[0]) for row in rows) and any("alert(1)" in cell for row in rows for cell in row)
        assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row), rows
    if fmt in ("text", "rich", "markdown"):
        plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
        assert not FORGED.search(plain), "a newline in a value started a line of its own"


def test_error_messages_from_hostile_keys_and_values(tmp_path: Path) -> None:
    data = yaml.safe_load(NK.read_text(encoding="utf-8"))
    data["flows"][0][PAYLOAD] = PAYLOAD
    data["flows"][0]["abuse"] = PAYLOAD
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    for fmt in ("text", "json"):
        code, out, err = run("check", path, "--format", fmt)
        assert code == 1
        text = err if fmt == "text" else out
        assert not RAW_CONTROLS.search(text.replace("\n", ""))
        assert not FORGED.search(text), text
        assert text.count("alert(1)") >= 2, "the key and the value are quoted, not dropped"
    code, _, err = run("evaluate", path)
    assert code == 1 and not RAW_CONTROLS.search(err.replace("\n", "")) and not FORGED.search(err)
    assert all(line.startswith(("error: ", " ")) for line in err.splitlines()), err
