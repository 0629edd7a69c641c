"""The reproducers of issue 15 (hostile inputs), each as a test: a located, coded error or a correct result, no
"unexpected", in bounded time and memory, and nothing raw from the input in any output.

Cases that could hang, exhaust memory or crash the process run in a subprocess with a timeout and, where memory is
the question, under an address-space limit (as a container would impose), so that a regression fails the test
instead of taking the suite down with it.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from nea_policy.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NK = EXAMPLES / "north-koreans-in-china.yaml"
RU_JP = EXAMPLES / "russians-in-japan.yaml"

# `error: LOCATION: CODE: MESSAGE (HINT)`, the format of every error line.
ERROR_LINE = re.compile(r"^error: (?P<location>\S.*?): (?P<code>[a-z][a-z0-9_]*): \S")
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
GIB = 1024**3
# Until the commit that fixes its class, each reproducer is expected to fail (strict: it must fail).
REPRODUCED = pytest.mark.xfail(strict=True, reason="issue 15 reproducer; fixed by a later commit")


def cli(*args: str | Path, input: str | bytes | None = None) -> tuple[int, str, str]:
    """Run the CLI in-process; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def process(*args: str | Path, timeout: float = 60, address_space: int | None = None, stdin: Any = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a process of its own, optionally under an address-space limit (bytes); a hang fails the test."""

    def limit() -> None:
        if address_space is not None:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    command = [sys.executable, "-c", "from nea_policy.cli import main; main()", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, preexec_fn=limit, stdin=stdin, env={**os.environ, "NO_COLOR": "1"}, check=False)


def located_errors(err: str, *, where: str | None = None, codes: set[str] | None = None) -> list[re.Match[str]]:
    """Every `error:` line of stderr, each checked: located, coded, not "unexpected"; optionally where and which codes."""
    assert "unexpected" not in err and "Traceback" not in err, err[-2000:]
    found = [ERROR_LINE.match(line) for line in err.splitlines() if line.startswith("error: ")]
    assert found and all(found), err[-2000:]
    for match in found:
        assert match is not None
        if where is not None:
            assert match["location"].startswith(where), match.group(0)
        if codes is not None:
            assert match["code"] in codes, match.group(0)
    return found  # type: ignore[return-value]


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def check_json(path: Path, *extra: str) -> list[dict[str, Any]]:
    """`check --format json` prints JSON whatever the file holds; exit 1 with the file's problems, each located."""
    code, out, _ = cli("check", path, "--format", "json", *extra)
    results = json.loads(out)
    assert code == 1 and results[0]["ok"] is False
    for problem in results[0]["problems"]:
        assert problem["code"] != "internal_error" and problem["location"].startswith(str(path)), problem
    return results[0]["problems"]


def test_check_json_prints_json_even_when_something_unexpected_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import nea_policy.api

    def broken(sources: list[str], **_: Any) -> Any:
        if sources == [str(NK)]:
            raise RuntimeError("a bug")
        return real(sources, **_)

    real = nea_policy.api.check_sources
    monkeypatch.setattr(nea_policy.api, "check_sources", broken)
    code, out, _ = cli("check", NK, RU_JP, "--format", "json")
    first, second = json.loads(out)
    assert code == 1 and first["problems"][0]["code"] == "internal_error" and "RuntimeError: a bug" in first["problems"][0]["message"]
    assert second["ok"] is True


# --- numbers and merge keys: the 2% of mutated files that ended in "unexpected" ------------------------------


def test_a_merge_key_of_a_scalar_is_a_located_error(tmp_path: Path) -> None:
    path = write(tmp_path / "merge.yaml", "countries:\n  - {<<: 1, code: CN, name: China}\n")
    for command in ("check", "evaluate"):
        code, out, err = cli(command, path)
        assert code == 1 and out == ""
        located_errors(err, where=f"{path}:2:", codes={"bad_merge"})
    assert check_json(path)[0]["code"] == "bad_merge"


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_an_integer_of_thousands_of_digits_is_a_located_error(tmp_path: Path, fmt: str) -> None:
    digits = "9" * 5000
    if fmt == "json":
        text = '{"countries": [{"code": "CN", "name": "China"}, {"code": "KP", "name": "North Korea"}],\n "flows": [{"id": "f", "name": "f", "origin": "KP", "destination": "CN",\n  "estimates": [{"low": 0, "high": DIGITS, "kind": "careful"}]}]}\n'.replace("DIGITS", digits)
    else:
        text = "countries: [{code: CN, name: China}, {code: KP, name: North Korea}]\nflows:\n  - {id: f, name: f, origin: KP, destination: CN, estimates: [{low: 0, high: DIGITS, kind: careful}]}\n".replace("DIGITS", digits)
    path = write(tmp_path / f"digits.{fmt}", text)
    for command in ("check", "evaluate"):
        code, _, err = cli(command, path)
        assert code == 1
        located_errors(err, where=f"{path}:3:", codes={"number_too_long"})
    assert len(err) < 2000, "the message must not echo the number"
    check_json(path)


@pytest.mark.parametrize("high", ["1" + "0" * 400, "1" + "0" * 20, "10000000001"])
def test_check_and_evaluate_agree_on_an_alarmist_estimate_far_beyond_a_careful_one(tmp_path: Path, high: str) -> None:
    data = yaml.safe_load(NK.read_text(encoding="utf-8"))
    data["flows"][0]["estimates"] = [{"low": 0, "high": "HIGH", "kind": "alarmist"}, {"low": 0, "high": 1, "kind": "careful"}]
    path = write(tmp_path / "estimates.json", json.dumps(data).replace('"HIGH"', high))
    outcomes = []
    for command in ("check", "evaluate"):
        code, _, err = cli(command, path)
        outcomes.append(code)
        if code:
            located_errors(err, where=f"{path}:1:")
    assert outcomes == [1, 1], "check accepted what evaluate rejected (or the reverse)"
    check_json(path)


# --- positions in JSON files ------------------------------------------------------------------------------------


def test_problems_in_json_files_carry_line_and_column(tmp_path: Path) -> None:
    text = """{
  "countries": [
    {"code": "CN", "name": "China", "labour_shortage": "high"},
    {"code": "KP", "name": 7}
  ],
  "x[0]": 1,
  "flows": [
    {"id": "f", "name": "f", "origin": "KP", "destination": "CN", "abuse": "awful"}
  ]
}
"""
    path = write(tmp_path / "problems.json", text)
    lines = text.splitlines()

    def at(line: int, key: str) -> str:
        return f"{path}:{line}:{lines[line - 1].index(json.dumps(key)) + 1}"

    code, _, err = cli("check", path)
    assert code == 1
    found = {(m["code"], m["location"]) for m in located_errors(err)}
    assert found == {
        ("unknown_field", at(3, "labour_shortage")),
        ("wrong_type", at(4, "name")),
        ("unknown_field", at(6, "x[0]")),
        ("bad_value", at(8, "abuse")),
    }, err
    assert "unknown field 'x[0]'" in err, "a key holding [ is one key, not an index"
    references = write(tmp_path / "references.json", text.replace('"labour_shortage": "high"', '"labor_shortage": "high"').replace('"name": 7', '"name": "North Korea"')
                       .replace('  "x[0]": 1,\n', "").replace('"abuse": "awful"', '"abuse": "high"').replace('"destination": "CN"', '"destination": "JP"'))
    code, _, err = cli("check", references)
    lines = references.read_text(encoding="utf-8").splitlines()
    assert code == 1
    column = lines[6].index('"destination"') + 1
    assert [m["location"] for m in located_errors(err, codes={"undeclared_country"})] == [f"{references}:7:{column}"]


# --- special files ------------------------------------------------------------------------------------------------


def test_dev_zero_is_refused_without_reading_it() -> None:
    result = process("check", "/dev/zero", "--max-bytes", "1000", timeout=30, address_space=2 * GIB)
    assert result.returncode == 1
    located_errors(result.stderr, where="/dev/zero", codes={"not_a_regular_file"})


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "facts.yaml"
    os.mkfifo(fifo)
    result = process("evaluate", fifo, timeout=30)
    assert result.returncode == 1
    located_errors(result.stderr, where=str(fifo), codes={"not_a_regular_file"})


# --- scenario size: the native core must never see what it cannot hold --------------------------------------------


def _many_flows(path: Path, count: int) -> Path:
    flows = [{"id": f"f{i}", "name": "f", "origin": "KP", "destination": "CN", "legal_status": "unclear", "abuse": "high"} for i in range(count)]
    data = {
        "countries": [{"code": "CN", "name": "China"}, {"code": "KP", "name": "North Korea", "food_insecurity": "severe"}],
        "relations": [{"between": ["CN", "KP"], "proximity": True}],
        "flows": flows,
    }
    return write(path, json.dumps(data, separators=(",", ":")))


def test_100000_flows_under_a_2_gb_address_space_are_a_clear_error_not_a_signal(tmp_path: Path) -> None:
    path = _many_flows(tmp_path / "flows.json", 100_000)
    assert path.stat().st_size < 10 * 1024 * 1024, "the file is under the default size cap"
    result = process("evaluate", path, "--format", "json", timeout=120, address_space=2 * GIB)
    assert result.returncode == 1, f"exit {result.returncode} (a negative code is a signal)"
    located_errors(result.stderr, where=f"{path}:1:", codes={"too_many_nodes", "too_many_flows"})


def test_the_densest_flows_within_the_value_limit_under_a_2_gb_address_space_are_a_clear_error(tmp_path: Path) -> None:
    """4,000 flows with every level at severe and every flag true pass every input limit and fire some 120,000 rules."""
    from nea_policy.model.fact_types import FACT_TYPES

    data = yaml.safe_load(NK.read_text(encoding="utf-8"))
    for kind, items in (("flow", data["flows"]), ("country", data["countries"])):
        for item in items:
            item.update({n: "severe" if s.kind == "level" else True for n, s in FACT_TYPES[kind].fields.items() if not s.derived and s.kind in ("level", "bool")})
    flow = data["flows"][0]
    flow.pop("labels", None)
    data["flows"] = [{**flow, "id": f"f{i}", "name": "f"} for i in range(4000)]
    path = write(tmp_path / "dense.json", json.dumps(data, separators=(",", ":")))
    assert cli("check", path)[0] == 0, "within every input limit"
    result = process("evaluate", path, "--format", "json", timeout=180, address_space=2 * GIB)
    assert result.returncode == 1, f"exit {result.returncode} (a negative code is a signal)"
    located_errors(result.stderr, where=str(path), codes={"too_many_firings"})


def test_explain_on_20000_flows_is_refused_at_the_flow_limit(tmp_path: Path) -> None:
    path = _many_flows(tmp_path / "flows.json", 20_000)
    result = process("explain", path, "identify-refugees", timeout=120)
    assert result.returncode == 1
    located_errors(result.stderr, where=f"{path}:1:", codes={"too_many_flows"})


# --- --set values and sweep grids ----------------------------------------------------------------------------------

SET_BOMB = "title=" + "[" + ", ".join(
    ["&a [x, x, x, x, x, x, x, x, x]"] + [f"&{b} [{', '.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi")]
) + "]"


def test_a_set_value_of_aliases_is_bounded_like_a_file() -> None:
    assert len(SET_BOMB) < 600
    result = process("what-if", NK, "--set", SET_BOMB, timeout=60, address_space=2 * GIB)
    assert result.returncode == 1
    located_errors(result.stderr, where="--set", codes={"too_many_nodes"})


def test_a_set_path_with_a_superscript_digit_is_a_located_error() -> None:
    code, _, err = cli("what-if", NK, "--set", "flows.kp-to-cn.estimates.\u00b2=1")
    assert code == 1
    located_errors(err, where="--set", codes={"bad_set_path"})


def test_sweep_max_of_10_to_the_40_does_not_build_the_grid() -> None:
    fields = ["name", "legal_status", "abuse", "fear_of_exposure", "unskilled", "count_reliability", "recruiter_exploitation", "employer_exploitation",
              "illegal_work", "indentured_servitude", "forced_prostitution", "under_reporting", "persecution_risk_on_return", "back_and_forth_trips",
              "has_work_and_shelter", "host_fear", "nationalist_framing", "media_tone", "stereotypes", "public_ignorance", "superficial_interaction",
              "cheap_labor_as_training", "illegal_work_by_students", "destination_region"]
    paths = [f"flows.kp-to-cn.{f}" for f in fields] + [f"countries.{c}.{f}" for c in ("KP", "CN") for f in ("name", "food_insecurity", "economic_collapse", "international_isolation", "labor_shortage", "surplus_labor", "rural_unemployment", "population_decline")]
    assert len(paths) == 40
    vary = [arg for p in paths for arg in ("--vary", f"{p}=" + ",".join(f"v{i}" for i in range(10)))]
    result = process("sweep", NK, *vary, "--max", "1" + "0" * 40, "--jobs", "1", timeout=60, address_space=2 * GIB)
    assert result.returncode == 1
    located_errors(result.stderr, codes={"grid_too_large"})


# --- what reaches an output ---------------------------------------------------------------------------------------

HOSTILE_NAME = "<script>alert(1)</script> [click](javascript:alert(1)) <img src=x onerror=alert(1)>"
# Raw HTML and links a Markdown renderer would act on: `<tag`, `](javascript:`; an escaped one starts with a backslash.
MARKDOWN_ACTIVE = re.compile(r"(?<!\\)<[A-Za-z/!?]|(?<!\\)\]\((?:javascript|data|vbscript):", re.IGNORECASE)
ARTICLE_LINK = "<https://www.migrationpolicy.org/article/cross-border-human-flows-northeast-asia>"


def _hostile_scenario(tmp_path: Path, name: str = HOSTILE_NAME) -> Path:
    data = yaml.safe_load(NK.read_text(encoding="utf-8"))
    data["title"] = name
    data["flows"][0]["name"] = name
    data["countries"][0]["name"] = name
    return write(tmp_path / "hostile.yaml", yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.parametrize("command", ["explain", "sweep", "evaluate"])
def test_markdown_output_escapes_html_and_links_from_names(tmp_path: Path, command: str) -> None:
    path = _hostile_scenario(tmp_path)
    args = {
        "explain": ["explain", path, "identify-refugees"],
        "sweep": ["sweep", path, "--vary", "flows.kp-to-cn.legal_status=unclear,regular", "--vary", f"title={json.dumps(HOSTILE_NAME)}"],
        "evaluate": ["evaluate", path],
    }[command]
    code, out, _ = cli(*args, "--format", "markdown")
    assert code == 0 and "alert(1)" in out
    assert not MARKDOWN_ACTIVE.search(out.replace(ARTICLE_LINK, "")), f"raw HTML or an active link in {command} markdown"


@pytest.mark.parametrize("rule", ["legal-status-limbo", "citizen-exchanges"])
def test_explain_markdown_escapes_html_in_proofs_and_why_nots(tmp_path: Path, rule: str) -> None:
    path = _hostile_scenario(tmp_path)
    code, out, _ = cli("explain", path, rule, "--format", "markdown")
    assert code == 0 and "alert(1)" in out
    assert not MARKDOWN_ACTIVE.search(out)


FORGED = re.compile(r"^[\s│├└─┃┣┗━•*-]*error: forged", re.MULTILINE)


@pytest.mark.parametrize("layout", ["rich", "text"])
def test_newlines_in_names_do_not_forge_lines(tmp_path: Path, layout: str) -> None:
    path = _hostile_scenario(tmp_path, "North Koreans\nerror: forged line")
    # Lines wide enough that nothing is wrapped: a line can then start with the name's second line only if kept.
    result = CliRunner(env={"COLUMNS": "3000"}).invoke(main, ["evaluate", str(path), "--color", "always" if layout == "rich" else "never"], catch_exceptions=False)
    code, out = result.exit_code, result.stdout
    assert code == 0 and "North Koreans error: forged line" in out
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert not FORGED.search(plain), plain[:2000]


def test_error_messages_write_out_controls_and_cut_long_keys(tmp_path: Path) -> None:
    key = "x\x1b[2J\x07\u202e\nerror: forged"
    path = write(tmp_path / "keys.json", json.dumps({"countries": [{"code": "CN", "name": "China", key: 1}], "y" * 2_000_000: 1}))
    code, _, err = cli("check", path)
    assert code == 1
    assert not RAW_CONTROLS.search(err.replace("\n", "")), "a raw control or bidi character in an error message"
    assert not FORGED.search(err), err
    assert len(err) < 10_000, f"{len(err):,} characters of errors for two keys"
    located_errors(err, where=str(path), codes={"unknown_field"})


# --- files written --------------------------------------------------------------------------------------------------


def test_output_never_overwrites_an_input(tmp_path: Path) -> None:
    path = write(tmp_path / "in.yaml", NK.read_text(encoding="utf-8"))
    before = path.read_bytes()
    code, _, err = cli("evaluate", path, "-o", path)
    assert code == 1 and path.read_bytes() == before
    located_errors(err, where=str(path), codes={"output_is_input"})


def test_output_does_not_follow_a_symlink_without_force(tmp_path: Path) -> None:
    target = write(tmp_path / "elsewhere.txt", "keep me\n")
    link = tmp_path / "report.txt"
    link.symlink_to(target)
    code, _, err = cli("evaluate", NK, "-o", link)
    assert code == 1 and target.read_text(encoding="utf-8") == "keep me\n"
    located_errors(err, where=str(link), codes={"output_is_symlink"})
    code, _, _ = cli("evaluate", NK, "-o", link, "--force")
    assert code == 0 and "Recommendations to China" in target.read_text(encoding="utf-8")


def test_new_does_not_write_through_a_dangling_symlink(tmp_path: Path) -> None:
    target = tmp_path / "created-elsewhere.yaml"
    link = tmp_path / "my-scenario.yaml"
    link.symlink_to(target)
    code, _, err = cli("new", link)
    assert code == 1 and not target.exists()
    located_errors(err, where=str(link), codes={"output_is_symlink"})


# --- rule packs ------------------------------------------------------------------------------------------------------


def _big_pack(tmp_path: Path, rules: int, shape: str) -> Path:
    """A pack of many rules: `same` all end at one test (flow.abuse >= high), `join` each joins the host country."""
    folder = tmp_path / f"pack-{shape}-{rules}"
    folder.mkdir()
    write(folder / "pack.yaml", "name: big\nversion: 1.0.0\n")
    facts = {"flow": "flow", "host": "country"} if shape == "join" else {"flow": "flow"}
    levels = ["low", "moderate", "high", "severe"]
    specs = [
        {
            "id": f"probe-{i}",
            "kind": "recommendation",
            "title": f"Probe {i}",
            "subject": "flow",
            "facts": facts,
            "when": (["host.code == flow.destination"] if shape == "join" else [])
            + [f"flow.abuse >= {'high' if shape == 'same' else levels[i % 4]}"],
            "actors": ["flow.destination"],
            "justification": "{flow.name} probe.",
            "source": {"section": "Probe", "quote": "probe"},
        }
        for i in range(rules)
    ]
    write(folder / "rules.yaml", yaml.safe_dump({"rules": specs}))
    return folder


@pytest.mark.parametrize(("rules", "shape"), [(280, "same"), (80, "join")])
def test_a_pack_over_the_engine_limit_is_reported_by_the_linter_and_refused_before_durable_rules(tmp_path: Path, rules: int, shape: str) -> None:
    pack = _big_pack(tmp_path, rules, shape)
    code, out, _ = cli("rules", "check", "--extra-rules", pack)
    assert code == 1
    assert re.search(r"error: engine_limit: ", out), out[-2000:]
    code, _, err = cli("evaluate", NK, "--extra-rules", pack)
    assert code == 1
    located_errors(err, codes={"engine_limit"})


@pytest.mark.parametrize(("rules", "shape"), [(250, "same"), (400, "spread"), (40, "join")])
def test_a_pack_under_the_engine_limit_loads_and_runs(tmp_path: Path, rules: int, shape: str) -> None:
    pack = _big_pack(tmp_path, rules, shape)
    code, out, _ = cli("rules", "check", "--extra-rules", pack)
    assert code == 0, out[-2000:]
    code, out, err = cli("evaluate", NK, "--extra-rules", pack, "--format", "json")
    assert code == 0, err
    assert any(r["rule"].startswith("probe-") for r in json.loads(out)["recommendations"])


@pytest.mark.parametrize("source", ["/etc/passwd", "../outside.txt", "/dev/zero", "link.txt"])
def test_a_pack_source_text_must_be_inside_the_pack(tmp_path: Path, source: str) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    write(tmp_path / "outside.txt", "root:x:0:0:root:/root:/bin/bash secret words\n")
    (pack / "link.txt").symlink_to(tmp_path / "outside.txt")  # inside the pack by name, outside by what it reads
    write(pack / "pack.yaml", f"name: leaky\nversion: 1.0.0\nsource_text: {source}\n")
    rule = {"id": "leak", "kind": "recommendation", "title": "Leak", "subject": "flow", "facts": {"flow": "flow"}, "when": ["flow.abuse >= high"],
            "actors": ["flow.destination"], "justification": "{flow.name}.", "source": {"section": "S", "quote": "root:x:0:0 secret"}}
    write(pack / "rules.yaml", yaml.safe_dump({"rules": [rule]}))
    result = process("rules", "check", "--extra-rules", pack, timeout=30, address_space=2 * GIB)
    assert result.returncode == 1
    assert re.search(r"error: source_outside_pack: ", result.stdout), result.stdout
    assert "root:x" not in result.stdout.replace(rule["source"]["quote"], "") and "bash" not in result.stdout and "secret words" not in result.stdout
