"""Fact files: strict model, every problem at once, each located by file:line and field path."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from nea_policy.cli import main
from nea_policy.errors import InputError, NeaPolicyError, ScenarioError
from nea_policy.model.facts import load_scenario

MINIMAL = """\
countries:
  - code: CN
    name: China
  - code: JP
    name: Japan
flows:
  - id: cn-jp
    name: Chinese workers in Japan
    origin: CN
    destination: JP
"""


def errors_of(tmp_path: Path, text: str, name: str = "facts.yaml") -> list[tuple[str, str, str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NeaPolicyError) as caught:
        load_scenario(path)
    return [(p.code, p.location, p.message + (" " + p.hint if p.hint else "")) for p in caught.value.problems]


def test_minimal_file_is_valid(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(MINIMAL, encoding="utf-8")
    assert load_scenario(tmp_path / "ok.yaml").flows[0].id == "cn-jp"


def test_flow_naming_an_undeclared_country(tmp_path: Path) -> None:
    [(code, location, message)] = errors_of(tmp_path, MINIMAL.replace("destination: JP", "destination: KR"))
    assert code == "undeclared_country"
    assert location.endswith("facts.yaml:10:5")
    assert "flow 'cn-jp'" in message and "'KR'" in message and "CN, JP" in message


def test_unknown_field_suggests_the_closest(tmp_path: Path) -> None:
    [(code, location, message)] = errors_of(tmp_path, MINIMAL + "    legal_statu: unclear\n")
    assert code == "unknown_field"
    assert location.endswith("facts.yaml:11:5")
    assert "did you mean 'legal_status'?" in message


def test_wrong_level_names_path_value_and_allowed(tmp_path: Path) -> None:
    [(code, location, message)] = errors_of(tmp_path, MINIMAL + "    abuse: hgh\n")
    assert code == "bad_value"
    assert location.endswith("facts.yaml:11:5")
    assert "flows[0].abuse" in message and "'hgh'" in message and "'moderate'" in message


def test_wrong_type(tmp_path: Path) -> None:
    [(code, _, message)] = errors_of(tmp_path, MINIMAL + "    unskilled: 'yes'\n")
    assert code == "wrong_type" and "flows[0].unskilled" in message


def test_not_an_iso_code(tmp_path: Path) -> None:
    problems = errors_of(tmp_path, MINIMAL.replace("code: JP", "code: UK").replace("destination: JP", "destination: UK"))
    assert problems[0][0] == "bad_value" and "ISO 3166-1" in problems[0][2]


def test_all_problems_at_once(tmp_path: Path) -> None:
    text = MINIMAL + "    abuse: hgh\n    unskilled: 3\n    legal_statu: x\n"
    assert [p[0] for p in errors_of(tmp_path, text)] == ["bad_value", "wrong_type", "unknown_field"]


def test_field_errors_and_reference_errors_come_in_one_round_in_file_order(tmp_path: Path) -> None:
    text = MINIMAL.replace("    name: Japan\n", "    name: Japan\n    labour_shortage: high\n").replace("destination: JP", "destination: KR") + "    abuse: awful\n"
    problems = errors_of(tmp_path, text)
    assert [(code, location.rsplit("facts.yaml:", 1)[1]) for code, location, _ in problems] == [
        ("unknown_field", "6:5"),
        ("undeclared_country", "11:5"),
        ("bad_value", "12:5"),
    ]
    assert "flows[0].destination: flow 'cn-jp': destination 'KR' is not a declared country; declared: CN, JP" in problems[1][2]


def test_reference_errors_of_entries_with_field_errors_too(tmp_path: Path) -> None:
    # A region with a bad field still has its country checked; a malformed code is one error, not two.
    text = MINIMAL.replace("flows:", "regions:\n  - {id: kanto, name: Kanto, country: KR, labor_shortage: lots}\nflows:").replace("origin: CN", "origin: cn")
    problems = errors_of(tmp_path, text)
    assert [code for code, _, _ in problems] == ["undeclared_country", "bad_value", "bad_value"]
    assert "regions[0].country" in problems[0][2] and "regions[0].labor_shortage" in problems[1][2] and "flows[0].origin" in problems[2][2]


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    [(code, location, _)] = errors_of(tmp_path, MINIMAL + "    origin: JP\n")
    assert code == "duplicate_key" and location.endswith("facts.yaml:11:5")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    [(code, _, message)] = errors_of(tmp_path, "- a\n- b\n")
    assert code == "not_a_mapping" and "a list" in message


def test_json_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    [(code, location, _)] = errors_of(tmp_path, '{"countries": [}', name="facts.json")
    assert code == "json_syntax" and location.endswith("facts.json:1:16")


def test_region_must_belong_to_the_destination(tmp_path: Path) -> None:
    text = MINIMAL.replace("flows:", "regions:\n  - {id: far-east, name: Far East, country: CN}\nflows:") + "    destination_region: far-east\n"
    [(code, _, message)] = errors_of(tmp_path, text)
    assert code == "region_outside_destination" and "far-east" in message


def test_evaluate_a_bad_file_exits_1_with_one_line_per_problem(tmp_path: Path) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text(MINIMAL.replace("destination: JP", "destination: KR"), encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"{path}:10:5: undeclared_country:" in result.output


def test_evaluate_a_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "file_not_found" in result.output


def test_errors_are_of_the_project_tree(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_scenario(tmp_path / "missing.yaml")
    with pytest.raises(ScenarioError):
        load_scenario({"countries": []})
