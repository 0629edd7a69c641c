"""The command line: every command and format, asserting what the output says."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nea_policy import __version__
from nea_policy.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NK = str(EXAMPLES / "north-koreans-in-china.yaml")
RU_JP = str(EXAMPLES / "russians-in-japan.yaml")
FAR_EAST = str(EXAMPLES / "chinese-in-the-russian-far-east.yaml")


def run(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Invoke the CLI in-process; returns (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# --- evaluate ------------------------------------------------------------------------------------------------


def test_evaluate_text_groups_by_actor_with_reasons_tree_and_quote() -> None:
    code, out, _ = run("evaluate", NK)
    assert code == 0
    assert out.startswith("North Koreans in China\n======================\n")
    assert "Recommendations to China (CN)" in out
    assert "* Identify who among the migrants are refugees [identify-refugees]" in out
    assert "Why: North Korean migrants in China are in legal-status limbo" in out
    # the proof tree: the finding indented under "Rests on", its evidence indented further
    block = out[out.index("[identify-refugees]") :]
    assert re.search(r"\n  Rests on:\n    - Legal-status limbo \[legal-status-limbo\]", block)
    assert "\n      flow kp-to-cn (North Korean migrants in China): legal_status=unclear" in block
    assert 'Source (North Korean Migration to China): "the Chinese government will need to' in block
    assert "\x1b[" not in out  # piped: no colour codes


def test_evaluate_plain_width_follows_columns() -> None:
    _, narrow, _ = run("evaluate", NK, env={"COLUMNS": "50"})
    _, wide, _ = run("evaluate", NK, env={"COLUMNS": "140"})
    assert max(len(line) for line in narrow.splitlines()) <= 50
    assert max(len(line) for line in wide.splitlines()) > 88


def test_evaluate_no_findings_drops_trees_and_findings_section() -> None:
    _, out, _ = run("evaluate", NK, "--no-findings")
    assert "Identify who among the migrants are refugees" in out
    assert "Rests on:" not in out
    assert "\nFindings\n" not in out
    _, full, _ = run("evaluate", NK)
    assert "Rests on:" in full and "\nFindings\n" in full


def test_evaluate_actor_keeps_only_that_government() -> None:
    _, out, _ = run("evaluate", str(EXAMPLES / "northeast-asia.yaml"), "--actor", "jp")
    headings = re.findall(r"^Recommendations to .*$", out, flags=re.M)
    assert headings == ["Recommendations to Japan (JP)"]


def test_evaluate_actor_with_nothing_addressed_says_so() -> None:
    code, out, _ = run("evaluate", NK, "--actor", "KP")
    assert code == 0
    assert "No recommendation is addressed to KP." in out


def test_evaluate_json_is_the_report_and_filters() -> None:
    code, out, _ = run("evaluate", NK, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["scenario"]["title"] == "North Koreans in China"
    assert "identify-refugees" in [r["rule"] for r in report["recommendations"]]
    assert report["findings"]
    _, narrowed, _ = run("evaluate", RU_JP, "--format", "json", "--actor", "RU", "--no-findings")
    data = json.loads(narrowed)
    assert [r["rule"] for r in data["recommendations"]] == ["citizen-exchanges"]
    assert data["findings"] == [] and data["recommendations"][0]["because"] == []


def test_evaluate_several_files_json_is_a_list_text_is_one_report_each() -> None:
    _, out, _ = run("evaluate", NK, RU_JP, "--format", "json")
    titles = [r["scenario"]["title"] for r in json.loads(out)]
    assert titles == ["North Koreans in China", "Russians in Japan"]
    _, text, _ = run("evaluate", NK, RU_JP)
    assert text.count("Rules: nea-policy-rules") == 2
    assert text.index("North Koreans in China") < text.index("Russians in Japan\n=================")


def test_evaluate_reads_standard_input_yaml_and_json() -> None:
    text = Path(RU_JP).read_text(encoding="utf-8")
    code, out, _ = run("evaluate", "-", input=text)
    assert code == 0 and out.startswith("Russians in Japan\n")
    as_json = json.dumps({"countries": [{"code": "JP", "name": "Japan"}], "title": "From JSON"})
    code, out, _ = run("evaluate", "-", "--format", "json", input=as_json)
    assert code == 0 and json.loads(out)["scenario"]["title"] == "From JSON"


def test_evaluate_markdown_document() -> None:
    code, out, _ = run("evaluate", RU_JP, "--format", "markdown")
    assert code == 0
    assert out.startswith("# Russians in Japan\n")
    assert "| Actor | Recommendation | Concerns | Source section |" in out
    assert "| Japan (JP) | Watch that media coverage of foreigners is fair and balanced |" in out
    assert "#### Expand public and private citizens' exchanges" in out
    assert "> Japan and Russia could break down these harmful stereotypes" in out
    assert "## References" in out and "migrationpolicy.org/article/cross-border-human-flows-northeast-asia" in out


def test_evaluate_html_is_self_contained(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    code, out, _ = run("evaluate", RU_JP, "--format", "html", "-o", str(target))
    assert code == 0 and out == ""
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<style>" in page and "<script" not in page
    assert not re.search(r'(src|href)="(?!https://www\.migrationpolicy\.org/)', page)  # nothing loaded from elsewhere
    assert "<th>Actor</th>" in page and "<td>Japan (JP)</td>" in page
    assert "<blockquote><p>Japan and Russia could break down these harmful stereotypes" in page
    assert "<h2>References</h2>" in page


HOSTILE = {
    "title": "<script>alert(1)</script> & co",
    "description": "evil \u202etxt.exe and an escape \x1b[31mred",
    "countries": [
        {"code": "CN", "name": "China <b>", "surplus_labor": "high"},
        {"code": "JP", "name": "Japan | *x* [a](b)", "labor_shortage": "high"},
    ],
    "relations": [{"between": ["CN", "JP"], "proximity": True}],
    "flows": [
        {
            "id": "f",
            "name": "Workers \u200f<img src=x onerror=alert(1)>",
            "origin": "CN",
            "destination": "JP",
            "recruiter_exploitation": "high",
            "illegal_work": "high",
        }
    ],
}


def test_html_escapes_every_value_including_controls_and_bidi_marks() -> None:
    code, page, _ = run("evaluate", "-", "--format", "html", input=json.dumps(HOSTILE))
    assert code == 0
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\u202e" not in page and "\u200f" not in page and "\x1b" not in page
    assert "\\u202e" in page and "\\u200f" in page and "\\u001b" in page


def test_markdown_escapes_values() -> None:
    _, doc, _ = run("evaluate", "-", "--format", "markdown", input=json.dumps(HOSTILE))
    assert not re.search(r"(?<!\\)<(script|img|b>)", doc)  # every < of a value is escaped
    assert "\\<script\\>" in doc
    assert "Japan \\| \\*x\\* \\[a\\](b)" in doc  # no table cell split, no emphasis, no link
    assert "\u202e" not in doc and "\x1b" not in doc


def test_text_output_cannot_carry_terminal_escapes() -> None:
    _, out, _ = run("evaluate", "-", input=json.dumps(HOSTILE))
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\u001b[31mred" in out


COLOUR = r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])[;m]"  # an SGR foreground colour (3 alone is italic, not a colour)


def test_rich_layout_when_forced_and_no_color_honoured() -> None:
    _, coloured, _ = run("evaluate", RU_JP, "--color", "always", env={"COLUMNS": "100"})
    assert "\x1b[" in coloured
    assert "Recommendations to Japan (JP)" in coloured and "├──" in coloured
    _, plain, _ = run("evaluate", RU_JP, "--color", "always", env={"NO_COLOR": "1", "COLUMNS": "100"})
    assert re.search(COLOUR, coloured) and not re.search(COLOUR, plain)  # no colours (NO_COLOR) ...
    assert "├──" in plain  # ... but the rich layout stays
    assert max(len(re.sub(r"\x1b\[[0-9;]*m", "", line)) for line in plain.splitlines()) <= 100


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pseudo-terminal")
@pytest.mark.parametrize(("no_color", "columns"), [(False, 70), (True, 120)])
def test_in_a_real_terminal_rich_follows_its_width_and_no_color(no_color: bool, columns: int) -> None:
    import fcntl
    import os
    import pty
    import struct
    import termios

    script = shutil.which("nea-policy") or str(Path(sys.executable).parent / "nea-policy")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm-256color"
    if no_color:
        env["NO_COLOR"] = "1"
    process = subprocess.Popen([script, "evaluate", RU_JP, "--actor", "RU"], stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.wait(timeout=60) == 0
    out = b"".join(chunks).decode()
    text = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert "Recommendations to Russia (RU) ─" in text and "├── Why:" in text
    assert max(len(line.rstrip("\r")) for line in text.splitlines()) == columns  # the rule line spans the terminal
    assert bool(re.search(COLOUR, out)) is not no_color


def test_rich_does_not_interpret_markup_in_facts() -> None:
    data = dict(HOSTILE, title="[bold red]not markup[/]")
    _, out, _ = run("evaluate", "-", "--color", "always", input=json.dumps(data), env={"NO_COLOR": "1"})
    assert "[bold red]not markup[/]" in out


def test_output_file_in_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run("evaluate", NK, "-o", str(tmp_path / "nope" / "r.txt"))
    assert code == 1
    assert "does not exist" in err and "Traceback" not in err


def test_max_bytes_limits_and_raises_the_input_size() -> None:
    size = Path(NK).stat().st_size
    code, _, err = run("evaluate", NK, "--max-bytes", "100")
    assert code == 1
    assert f"file is {size:,} bytes, over the limit of 100" in err and "--max-bytes" in err
    code, _, err = run("evaluate", "-", "--max-bytes", "100", input=Path(NK).read_bytes())
    assert code == 1 and "standard input is over the limit of 100 bytes" in err
    code, out, _ = run("evaluate", NK, "--max-bytes", str(size))
    assert code == 0 and "identify-refugees" in out


def test_custom_and_extra_rules(tmp_path: Path) -> None:
    pack = tmp_path / "mine"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: my-pack\nversion: 0.1.0\n", encoding="utf-8")
    (pack / "r.yaml").write_text(
        """
rules:
  - id: tell-the-host
    kind: recommendation
    title: Tell the host about the flow
    subject: flow
    facts: {flow: flow, host: country}
    when:
      - host.code == flow.destination
    actors: [host.code]
    justification: "{flow.name} arrives in {host.name}."
    source: {section: Test, quote: a test quote}
""",
        encoding="utf-8",
    )
    _, only, _ = run("evaluate", NK, "--rules", str(pack), "--format", "json")
    assert [r["rule"] for r in json.loads(only)["recommendations"]] == ["tell-the-host"]
    _, both, _ = run("evaluate", NK, "--extra-rules", str(pack), "--format", "json")
    rules = [r["rule"] for r in json.loads(both)["recommendations"]]
    assert "tell-the-host" in rules and "identify-refugees" in rules
    _, listed, _ = run("rules", "list", "--rules", str(pack))
    assert "tell-the-host" in listed and "identify-refugees" not in listed


# --- check, schema, new -----------------------------------------------------------------------------------------


def test_check_reports_ok_for_every_example() -> None:
    files = sorted(str(p) for p in EXAMPLES.glob("*.yaml"))
    code, out, _ = run("check", *files)
    assert code == 0
    assert out.count("ok: ") == len(files)
    assert f"ok: {NK} (2 countries, 0 regions, 1 relation, 0 agreements, 1 flow)" in out
    assert f"note: {NK}: no rule reads these facts, so they change no result: countries[0].international_isolation (line 13)," in out


def test_check_reports_every_error_of_every_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("countries:\n  - code: CN\n    name: China\n    labour_shortage: high\n    food_insecurity: awful\n", encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    code, out, err = run("check", NK, str(bad), str(missing))
    assert code == 1
    assert f"ok: {NK}" in out
    assert f"{bad}:4:5: unknown_field" in err and f"{bad}:5:5: bad_value" in err
    assert f"{missing}: file_not_found" in err
    assert "2 of 3 file(s) have errors" in err


def test_check_json_for_tools(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("countries:\n  - code: CN\n    name: China\n    labour_shortage: high\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", NK, str(bad), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [(d["source"], d["ok"]) for d in data] == [(NK, True), (str(bad), False)]
    assert data[1]["problems"] == [
        {
            "code": "unknown_field",
            "message": "countries[0].labour_shortage: unknown field 'labour_shortage'",
            "location": f"{bad}:4:5",
            "hint": "did you mean 'labor_shortage'?",
        }
    ]


def test_schema_facts_and_report() -> None:
    code, out, _ = run("schema", "facts")
    assert code == 0
    facts = json.loads(out)
    assert facts["$schema"].startswith("https://json-schema.org/")
    assert "countries" in facts["properties"] and "flows" in facts["properties"]
    assert facts["additionalProperties"] is False
    _, out, _ = run("schema", "report")
    report = json.loads(out)
    assert {"scenario", "recommendations", "findings", "ruleset"} <= set(report["properties"])


def test_new_writes_a_template_that_passes_check_and_evaluates(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    code, out, _ = run("new", str(target))
    assert code == 0 and f"wrote {target}" in out
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# A nea-policy scenario.") and "# Levels, everywhere below: none < low < moderate < high < severe." in text
    code, out, _ = run("check", str(target))
    assert code == 0 and "ok: " in out
    _, report, _ = run("evaluate", str(target), "--format", "json")
    assert json.loads(report)["recommendations"]
    code, _, err = run("new", str(target))
    assert code == 1 and "already exists" in err and "--force" in err
    assert run("new", str(target), "--force")[0] == 0


# --- compare and what-if ------------------------------------------------------------------------------------


def test_compare_two_files_names_the_fact_differences_behind_each_change(tmp_path: Path) -> None:
    variant = tmp_path / "variant.yaml"
    variant.write_text(Path(RU_JP).read_text(encoding="utf-8").replace("cultural_gap: high", "cultural_gap: low"), encoding="utf-8")
    assert variant.read_text(encoding="utf-8") != Path(RU_JP).read_text(encoding="utf-8")
    code, out, _ = run("compare", RU_JP, str(variant))
    assert code == 0
    assert "relations.JP-RU.cultural_gap: high -> low" in out
    assert "- disappeared: Expand public and private citizens' exchanges [citizen-exchanges]" in out
    assert "because of: relations.JP-RU.cultural_gap" in out
    code, out, _ = run("compare", RU_JP, str(variant), "--format", "json")
    data = json.loads(out)
    assert {c["id"] for c in data["recommendations"]} >= {"citizen-exchanges", "cultural-orientation"}
    assert all(c["because"] == ["relations.JP-RU.cultural_gap"] for c in data["recommendations"])


def test_compare_same_file_has_no_changes() -> None:
    code, out, _ = run("compare", NK, NK)
    assert code == 0
    assert "Fact differences\n----------------\n\n(none)" in out
    assert "Recommendations\n---------------\n\n(no change)" in out


def test_what_if_sets_paths_by_id_code_and_pair() -> None:
    code, out, _ = run(
        "what-if", NK, "--set", "flows.kp-to-cn.legal_status=regular", "--set", "relations.CN-KP.proximity=false", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert [c["path"] for c in data["fact_changes"]] == ["relations.CN-KP.proximity", "flows.kp-to-cn.legal_status"]
    gone = {c["id"]: c for c in data["recommendations"]}
    assert gone["identify-refugees"]["change"] == "disappeared"
    assert gone["identify-refugees"]["because"] == ["flows.kp-to-cn.legal_status"]
    assert "legal-status-limbo" in [f["id"] for f in data["findings"]]


def test_what_if_relation_pair_in_either_order_and_country_by_code() -> None:
    code, out, _ = run("what-if", FAR_EAST, "--set", "countries.CN.surplus_labor=low", "--set", "countries.CN.rural_unemployment=none")
    assert code == 0
    assert "- disappeared: Cooperate on a stable and orderly cross-border migration and trade regime" in out
    assert "because of: countries.CN.surplus_labor, countries.CN.rural_unemployment" in out
    code, out, _ = run("what-if", RU_JP, "--set", "relations.RU-JP.cultural_gap=low")
    assert code == 0 and "relations.JP-RU.cultural_gap: high -> low" in out


def test_what_if_makes_a_recommendation_appear() -> None:
    code, out, _ = run("what-if", RU_JP, "--set", "flows.ru-to-jp.legal_status=unclear", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert any(c["change"] == "appeared" and c["id"] == "legal-status-limbo" and c["because"] == ["flows.ru-to-jp.legal_status"] for c in data["findings"])


# --- rules ----------------------------------------------------------------------------------------------------


def test_rules_list_shows_id_kind_title() -> None:
    code, out, _ = run("rules", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "KIND", "TITLE"]
    assert re.search(r"^identify-refugees\s+recommendation\s+Identify who among the migrants are refugees$", out, flags=re.M)
    assert re.search(r"^legal-status-limbo\s+finding\s+Legal-status limbo$", out, flags=re.M)
    _, as_json, _ = run("rules", "list", "--format", "json")
    assert {"id": "legal-status-limbo", "kind": "finding", "title": "Legal-status limbo", "concludes": "legal-status-limbo"} in json.loads(as_json)


def test_rules_show_explains_conditions_needs_and_needed_by() -> None:
    code, out, _ = run("rules", "show", "cooperative-migration-and-trade-regime")
    assert code == 0
    assert "- the relation's proximity is true [relation.proximity == true]" in out
    assert "- the finding complementary-economies holds for the flow [complementary.subject ==" in out
    assert "- there is no agreement where the agreement is between the relation's two sides and" in out
    assert "Source (The Case of China):" in out and "cooperate more closely" in out
    assert "Needs findings: alarmist-threat-perception, complementary-economies" in out
    _, finding, _ = run("rules", "show", "legal-status-limbo")
    assert "- the flow's legal status is unclear [flow.legal_status == unclear]" in finding
    assert "Needed by: identify-refugees, semi-resident-status" in finding


def test_rules_show_unknown_id_suggests() -> None:
    code, _, err = run("rules", "show", "identify-refugee")
    assert code == 1
    assert "no rule 'identify-refugee'" in err and "did you mean identify-refugees?" in err


def test_rules_graph_mermaid_and_dot() -> None:
    code, out, _ = run("rules", "graph")
    assert code == 0 and out.startswith("flowchart LR\n")
    assert "legal_status_limbo --> identify_refugees" in out
    assert "human_security_challenge -. not .-> cultural_friction_short_of_security" in out
    _, dot, _ = run("rules", "graph", "--format", "dot")
    assert dot.startswith("digraph rules {") and dot.rstrip().endswith("}")
    assert '"legal-status-limbo" -> "identify-refugees";' in dot
    assert '"national-security-concern" -> "cultural-friction-short-of-security" [style=dashed, label="not"];' in dot


# --- version, debug, help, README, console script ---------------------------------------------------------------


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"nea-policy, version {__version__}"


def test_debug_shows_the_traceback_and_nothing_else_does() -> None:
    result = CliRunner().invoke(main, ["evaluate", "no-such-file.yaml"])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    result = CliRunner().invoke(main, ["--debug", "evaluate", "no-such-file.yaml"])
    from nea_policy.errors import InputError

    assert isinstance(result.exception, InputError)


def _all_commands() -> list[tuple[str, ...]]:
    import click

    found: list[tuple[str, ...]] = []

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            found.append((*prefix, name))
            if isinstance(command, click.Group):
                walk(command, (*prefix, name))

    walk(main, ())
    return found


@pytest.mark.parametrize("path", _all_commands(), ids=" ".join)
def test_every_command_has_help_with_an_example_and_a_readme_mention(path: tuple[str, ...]) -> None:
    code, out, _ = run(*path, "--help")
    assert code == 0
    assert re.search(r"^\s+Examples?:\s*$", out, flags=re.M), f"`nea-policy {' '.join(path)} --help` has no example"
    assert re.search(rf"^\s+nea-policy {re.escape(' '.join(path))}\b", out, flags=re.M), "the example does not run the command"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"nea-policy {' '.join(path)}" in readme, f"README.md does not name `nea-policy {' '.join(path)}`"


def test_installed_console_script_runs_in_a_subprocess() -> None:
    script = shutil.which("nea-policy") or str(Path(sys.executable).parent / "nea-policy")
    assert Path(script).exists(), "the nea-policy console script is not installed"
    done = subprocess.run([script, "evaluate", RU_JP, "--actor", "RU"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Recommendations to Russia (RU)" in done.stdout and "\x1b[" not in done.stdout
    failed = subprocess.run([script, "check", "no-such-file.yaml"], capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: no-such-file.yaml: file_not_found") and "Traceback" not in failed.stderr


def _unbalanced_tags(page: str) -> list[str]:
    """Tags of an HTML page that are not closed in order (void elements aside)."""
    from html.parser import HTMLParser

    void = {"meta", "br", "hr", "img", "link", "input"}
    problems: list[str] = []
    stack: list[str] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag not in void:
                stack.append(tag)

        def handle_endtag(self, tag: str) -> None:
            if not stack or stack[-1] != tag:
                problems.append(f"</{tag}> closes {stack[-1] if stack else 'nothing'}")
            else:
                stack.pop()

    Parser().feed(page)
    return problems + [f"<{tag}> never closed" for tag in stack]


@pytest.mark.parametrize("source", [str(EXAMPLES / "northeast-asia.yaml"), "-"])
def test_html_is_well_formed(source: str) -> None:
    code, page, _ = run("evaluate", source, "--format", "html", input=json.dumps(HOSTILE))
    assert code == 0
    assert _unbalanced_tags(page) == []


def test_an_unexpected_failure_is_one_line_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from nea_policy import api

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(api, "evaluate_sources", broken)
    result = CliRunner().invoke(main, ["evaluate", NK])
    assert result.exit_code == 1
    assert result.stderr == "error: unexpected RuntimeError: simulated bug (rerun with --debug for the traceback, and report it)\n"
    result = CliRunner().invoke(main, ["--debug", "evaluate", NK])
    assert isinstance(result.exception, RuntimeError)
