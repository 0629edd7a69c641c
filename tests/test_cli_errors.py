"""Bad input on the command line: a clear message, exit code 1, no traceback; usage errors exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nea_policy.cli import main

ROOT = Path(__file__).resolve().parent.parent
NK = str(ROOT / "examples" / "north-koreans-in-china.yaml")


def fails(*args: str, input: str | bytes | None = None) -> str:
    """Run the CLI, expect exit code 1 and no traceback; return standard error."""
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert result.stderr.startswith("error: ")
    return result.stderr


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


@pytest.fixture(params=["evaluate", "check"])
def command(request: pytest.FixtureRequest) -> str:
    """Both commands that read fact files give the same errors."""
    return str(request.param)


def test_missing_file(command: str, tmp_path: Path) -> None:
    path = str(tmp_path / "nope.yaml")
    err = fails(command, path)
    assert f"error: {path}: file_not_found: no such file; check the path" in err


def test_directory_instead_of_file(command: str, tmp_path: Path) -> None:
    err = fails(command, str(tmp_path))
    assert f"{tmp_path}: is_a_directory: is a directory, not a file" in err


def test_empty_file(command: str, tmp_path: Path) -> None:
    path = write(tmp_path, "empty.yaml", "")
    err = fails(command, path)
    assert f"{path}: empty_file: file is empty" in err and "nea-policy new" in err


def test_yaml_syntax_error_names_line_column_and_shows_the_line(command: str, tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "countries:\n  - code: CN\n    name: China\n  bad: : x\n")
    err = fails(command, path)
    assert f"{path}:4:3: yaml_syntax: YAML syntax error" in err
    assert "\n      bad: : x\n      ^" in err


def test_yaml_error_at_the_end_shows_where_the_unclosed_part_began(command: str, tmp_path: Path) -> None:
    path = write(tmp_path, "unclosed.yaml", 'countries:\n  - code: CN\n    name: "China\n  - code: JP\n')
    err = fails(command, path)
    assert f"{path}:5:1: yaml_syntax: YAML syntax error: found unexpected end of stream" in err
    assert 'while scanning a quoted scalar, which starts at line 3:\n        name: "China\n              ^' in err


def test_top_level_not_a_mapping(command: str, tmp_path: Path) -> None:
    path = write(tmp_path, "list.yaml", "- CN\n- JP\n")
    err = fails(command, path)
    assert f"{path}:1:1: not_a_mapping: the top level must be a mapping (countries:, flows: ...), not a list" in err


def test_unknown_field_suggests_the_closest_name(command: str, tmp_path: Path) -> None:
    path = write(tmp_path, "typo.yaml", "countries:\n  - code: CN\n    name: China\n    labour_shortage: high\n")
    err = fails(command, path)
    assert f"{path}:4:5: unknown_field: countries[0].labour_shortage: unknown field 'labour_shortage' (did you mean 'labor_shortage'?)" in err


def test_wrong_level_names_path_value_allowed_and_line(command: str, tmp_path: Path) -> None:
    path = write(tmp_path, "level.yaml", "countries:\n  - code: CN\n    name: China\n    labor_shortage: very high\n")
    err = fails(command, path)
    assert f"{path}:4:5: bad_value: countries[0].labor_shortage: 'very high' is not allowed; allowed: 'none', 'low', 'moderate', 'high' or 'severe'" in err


def test_wrong_type_names_path_value_and_line(command: str, tmp_path: Path) -> None:
    content = "countries:\n  - code: CN\n    name: China\n  - code: JP\n    name: Japan\nflows:\n  - id: f\n    name: F\n    origin: CN\n    destination: JP\n    unskilled: maybe\n"
    path = write(tmp_path, "type.yaml", content)
    err = fails(command, path)
    assert f"{path}:11:5: wrong_type: flows[0].unskilled:" in err and "boolean" in err and "(given: 'maybe')" in err


def test_duplicate_keys_are_an_error(command: str, tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", "countries:\n  - code: CN\n    name: China\n    name: PRC\n")
    err = fails(command, path)
    assert f"{path}:4:5: duplicate_key: key 'name' appears twice in the same mapping" in err


def test_flow_naming_an_undeclared_country(command: str, tmp_path: Path) -> None:
    content = "countries:\n  - code: CN\n    name: China\nflows:\n  - id: f\n    name: F\n    origin: CN\n    destination: JP\n"
    path = write(tmp_path, "undeclared.yaml", content)
    err = fails(command, path)
    assert f"{path}:8:5: undeclared_country: flows[0].destination: flow 'f': destination 'JP' is not a declared country; declared: CN" in err


def test_non_utf8_bytes(command: str, tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.yaml", b"countries:\n  - code: CN\n    name: Chin\xe9\n")
    err = fails(command, path)
    assert f"{path}:3: not_utf8: byte 0xe9 at offset 38 is not valid UTF-8; save the file as UTF-8" in err


def test_json_syntax_error(command: str, tmp_path: Path) -> None:
    # A missing comma: Python 3.11 to 3.13 word this error alike (a trailing comma is worded anew in 3.13).
    path = write(tmp_path, "bad.json", '{"countries": [{"code": "CN", "name": "China"} "JP"]}')
    err = fails(command, path)
    assert f"{path}:1:48: json_syntax: JSON syntax error: Expecting ',' delimiter" in err
    assert '\n    {"countries": [{"code": "CN", "name": "China"} "JP"]}\n' in err


def test_bad_standard_input(command: str) -> None:
    err = fails(command, "-", input="countries: [")
    assert err.startswith("error: <stdin>:") and "yaml_syntax" in err


def test_every_problem_of_a_file_at_once(tmp_path: Path) -> None:
    content = "countries:\n  - code: CN\n    name: China\n    labour_shortage: high\n    food_insecurity: awful\n    restrictive_migration_policy: 3\n"
    path = write(tmp_path, "many.yaml", content)
    err = fails("check", path)
    assert err.count("error: ") == 3
    assert ":4:5: unknown_field" in err and ":5:5: bad_value" in err and ":6:5: wrong_type" in err


def test_evaluate_reports_every_bad_file_before_evaluating_any(tmp_path: Path) -> None:
    empty = write(tmp_path, "empty.yaml", "")
    missing = str(tmp_path / "missing.yaml")
    result = CliRunner().invoke(main, ["evaluate", NK, empty, missing])
    assert result.exit_code == 1 and result.stdout == ""
    assert f"{empty}: empty_file" in result.stderr and f"{missing}: file_not_found" in result.stderr


# --- usage errors exit 2, as click does ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", NK, "--bogus"], "No such option '--bogus'"),
        (["evaluate"], "Missing argument 'FILES...'"),
        (["evaluate", NK, "--format", "pdf"], "Invalid value for '--format'"),
        (["evaluate", NK, "--actor", "China"], "'China' is not a country code (or a party's)"),
        (["evaluate", NK, "--max-bytes", "0"], "Invalid value for '--max-bytes'"),
        (["compare", NK], "Missing argument 'VARIANT'"),
        (["what-if", NK], "Missing option '--set'"),
        (["rules", "graph", "--format", "svg"], "Invalid value for '--format'"),
        (["schema", "rules"], "Invalid value for '{facts|report}'"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# --- other commands' bad input ------------------------------------------------------------------------------------


def test_actor_not_in_the_scenario() -> None:
    err = fails("evaluate", NK, "--actor", "JP")
    assert "error: --actor: unknown_actor: JP is not a country or party of the scenario; declared: CN, KP" in err


def test_what_if_bad_paths_all_reported_with_suggestions() -> None:
    err = fails("what-if", NK, "--set", "flows.kp-to-c.abuse=low", "--set", "countrys.CN.name=x", "--set", "flows.kp-to-cn.abus=low", "--set", "nothing")
    assert "'flows.kp-to-c.abuse=low': no entry in flows has the id 'kp-to-c' (did you mean 'kp-to-cn'?)" in err
    assert "'countrys' is not a part of a scenario" in err and "did you mean 'countries'?" in err
    assert "a flow has no field 'abus' (did you mean 'abuse'?)" in err
    assert "'nothing': expected PATH=VALUE" in err


def test_what_if_value_not_allowed() -> None:
    err = fails("what-if", NK, "--set", "flows.kp-to-cn.legal_status=legalish", "--set", "relations.KP-CN.proximity=maybe")
    assert (
        "error: --set flows.kp-to-cn.legal_status=legalish: bad_value: flows[0].legal_status: 'legalish' is not allowed; "
        "allowed: 'regular', 'irregular', 'unclear', 'mixed', 'temporary-protection' or 'pending-asylum'"
    ) in err
    assert "error: --set relations.KP-CN.proximity=maybe: wrong_type: relations[0].proximity:" in err and "(given: 'maybe')" in err


def test_what_if_unknown_relation_pair_lists_the_pairs() -> None:
    err = fails("what-if", NK, "--set", "relations.CN-JP.proximity=true")
    assert "no entry in relations has the pair of codes (e.g. CN-RU) 'CN-JP'" in err and "CN-KP" in err


def test_compare_with_a_bad_variant(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", json.dumps({"countries": "CN"}))
    err = fails("compare", NK, bad)
    assert f"{bad}" in err and "countries" in err


def test_rules_folder_missing(tmp_path: Path) -> None:
    err = fails("evaluate", NK, "--rules", str(tmp_path / "no-rules"))
    assert "rules_not_found" in err and "no-rules" in err


def test_new_refuses_a_directory_and_a_missing_folder(tmp_path: Path) -> None:
    assert "is a directory" in fails("new", str(tmp_path))
    assert "does not exist" in fails("new", str(tmp_path / "a" / "b.yaml"))
