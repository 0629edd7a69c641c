"""The rule linter: one bad rules folder per kind of problem, each reported with file, rule id, code and line."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from nea_policy.cli import main
from nea_policy.language.lint import LintResult, lint_rules

SOURCE = "Neighbours should cooperate on labor migration when their economies complement each other. Hosts should help."


def _finding() -> dict[str, Any]:
    return {
        "id": "complementary",
        "kind": "finding",
        "title": "Complementary economies",
        "subject": "flow",
        "facts": {"flow": "flow", "host": "country"},
        "when": ["host.code == flow.destination", "host.labor_shortage >= moderate"],
        "justification": "{host.name} is short of labor ({host.labor_shortage}).",
        "source": {"section": "One", "quote": "when their economies complement each other"},
    }


def _recommendation() -> dict[str, Any]:
    return {
        "id": "cooperate",
        "kind": "recommendation",
        "title": "Cooperate on labor migration",
        "subject": "flow",
        "facts": {"flow": "flow", "complementary": "finding:complementary"},
        "when": ["complementary.subject == flow.key", "flow.illegal_work >= moderate"],
        "actors": ["flow.origin", "flow.destination"],
        "justification": "{flow.name} works illegally ({flow.illegal_work}).",
        "source": {"section": "One", "quote": "Neighbours should   cooperate\non labor migration"},
    }


def _folder(tmp_path: Path, rules: list[dict[str, Any]], name: str = "rules") -> tuple[Path, str]:
    folder = tmp_path / name
    folder.mkdir()
    text = yaml.safe_dump({"rules": rules}, sort_keys=False, width=200)
    (folder / "rules.yaml").write_text(text, encoding="utf-8")
    return folder, text


def _line_of(text: str, rule_id: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() in (f"- id: {rule_id}", f"id: {rule_id}"):
            return number
    raise AssertionError(f"no rule {rule_id} in the file")


def _one(result: LintResult, code: str) -> Any:
    found = [p for p in result.problems if p.code == code]
    assert len(found) == 1, result.render()
    return found[0]


def _lint(tmp_path: Path, finding: dict[str, Any] | None = None, recommendation: dict[str, Any] | None = None, **kwargs: Any) -> tuple[LintResult, Path, str]:
    folder, text = _folder(tmp_path, [finding or _finding(), recommendation or _recommendation()])
    return lint_rules([folder], **kwargs), folder, text


def test_a_clean_folder_has_no_problem(tmp_path: Path) -> None:
    source = tmp_path / "source.txt"
    source.write_text(SOURCE, encoding="utf-8")
    result, _, _ = _lint(tmp_path, source=source)
    assert result.problems == [] and result.rules_checked == 2


def test_the_bundled_rules_are_clean() -> None:
    assert lint_rules().problems == []


@pytest.mark.parametrize(
    ("condition", "code", "says"),
    [
        ("flow.ilegal_work >= moderate", "unknown_field", "did you mean 'illegal_work'?"),
        ("flow.illegal_work >= extreme", "bad_value", "'extreme' is not a level"),
        ("flow.illegal_work >= 3", "bad_value", "3 is not a level"),
        ("flow.unskilled == yes", "bad_value", "unskilled is true or false, not 'yes'"),
        ("flow.legal_status == illegal", "bad_value", "allowed: regular, irregular, unclear, mixed"),
        ("flow.legal_status >= irregular", "bad_operator", "needs a level or a number"),
    ],
)
def test_a_condition_on_a_missing_field_or_with_a_wrong_value(tmp_path: Path, condition: str, code: str, says: str) -> None:
    recommendation = _recommendation()
    recommendation["when"][1] = condition
    result, folder, text = _lint(tmp_path, recommendation=recommendation)
    problem = _one(result, code)
    assert problem.severity == "error" and problem.rule == "cooperate"
    assert problem.location == f"{folder / 'rules.yaml'}:{_line_of(text, 'cooperate')}"
    assert says in str(problem)


def test_a_finding_no_rule_uses_is_a_warning(tmp_path: Path) -> None:
    extra = _finding()
    extra.update(id="lonely", when=["host.code == flow.destination", "host.surplus_labor >= high"])
    folder, text = _folder(tmp_path, [_finding(), extra, _recommendation()])
    result = lint_rules([folder])
    problem = _one(result, "unused_finding")
    assert problem.severity == "warning" and problem.rule == "lonely"
    assert problem.location == f"{folder / 'rules.yaml'}:{_line_of(text, 'lonely')}"
    assert result.errors == []


def test_a_rule_that_needs_a_finding_nothing_produces(tmp_path: Path) -> None:
    recommendation = _recommendation()
    recommendation["facts"]["complementary"] = "finding:complementry"
    result, folder, text = _lint(tmp_path, recommendation=recommendation)
    problem = _one(result, "unknown_finding")
    assert problem.rule == "cooperate" and "did you mean 'complementary'?" in str(problem)
    assert problem.location == f"{folder / 'rules.yaml'}:{_line_of(text, 'cooperate')}"


@pytest.mark.parametrize(
    "conditions",
    [
        ["flow.illegal_work >= high", "flow.illegal_work <= low"],
        ["flow.legal_status == irregular", "flow.legal_status == unclear"],
        ["flow.legal_status in [irregular, unclear]", "flow.legal_status not in [unclear, irregular]"],
        ["flow.illegal_work is not set", "flow.illegal_work >= low"],
        ["flow.estimate_exaggeration > 3", "flow.estimate_exaggeration < 2"],
        ["flow.kinds contains traders", "flow.kinds not contains traders"],
        ["flow.unskilled == true", "flow.unskilled != true"],
    ],
)
def test_conditions_that_cannot_all_hold(tmp_path: Path, conditions: list[str]) -> None:
    recommendation = _recommendation()
    recommendation["when"] = ["complementary.subject == flow.key", *conditions]
    result, folder, text = _lint(tmp_path, recommendation=recommendation)
    problem = _one(result, "unsatisfiable_conditions")
    assert problem.rule == "cooperate" and problem.severity == "error"
    assert problem.location == f"{folder / 'rules.yaml'}:{_line_of(text, 'cooperate')}"
    assert all(c in problem.message for c in conditions)


@pytest.mark.parametrize(
    "conditions",
    [
        ["flow.illegal_work >= moderate", "flow.illegal_work <= high"],
        ["flow.legal_status != irregular", "flow.legal_status != unclear"],
        ["flow.estimate_exaggeration > 2", "flow.estimate_exaggeration < 3"],
        ["flow.kinds contains traders", "flow.kinds not contains students"],
    ],
)
def test_conditions_that_can_hold_together_are_not_reported(tmp_path: Path, conditions: list[str]) -> None:
    recommendation = _recommendation()
    recommendation["when"] = ["complementary.subject == flow.key", *conditions]
    result, _, _ = _lint(tmp_path, recommendation=recommendation)
    assert result.problems == [], result.render()


def test_a_contradictory_absent_block_is_a_warning(tmp_path: Path) -> None:
    recommendation = _recommendation()
    recommendation["absent"] = [{"fact": "agreement", "when": ["agreement.pair == flow.pair", "agreement.kind == trade-agreement", "agreement.kind == visa-agreement"]}]
    result, _, _ = _lint(tmp_path, recommendation=recommendation)
    problem = _one(result, "vacuous_absence")
    assert problem.severity == "warning" and problem.rule == "cooperate"


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("{host.name} works illegally.", "'host' is not an alias in facts"),
        ("{flow.ilegal_work} works illegally.", "a flow has no field 'ilegal_work'"),
    ],
)
def test_a_justification_naming_a_field_not_matched(tmp_path: Path, template: str, says: str) -> None:
    recommendation = _recommendation()
    recommendation["justification"] = template
    result, folder, text = _lint(tmp_path, recommendation=recommendation)
    problem = _one(result, "template_field")
    assert problem.rule == "cooperate" and says in problem.message
    assert problem.location == f"{folder / 'rules.yaml'}:{_line_of(text, 'cooperate')}"


@pytest.mark.parametrize("quote", [None, "", "   "])
def test_a_missing_or_empty_quote(tmp_path: Path, quote: str | None) -> None:
    recommendation = _recommendation()
    if quote is None:
        del recommendation["source"]["quote"]
    else:
        recommendation["source"]["quote"] = quote
    result, folder, _ = _lint(tmp_path, recommendation=recommendation)
    problem = _one(result, "missing_quote")
    assert problem.rule == "cooperate" and problem.location.startswith(f"{folder / 'rules.yaml'}:")
    assert "quote the article verbatim" in problem.hint


def test_a_quote_not_verbatim_in_the_source(tmp_path: Path) -> None:
    source = tmp_path / "source.txt"
    source.write_text(SOURCE, encoding="utf-8")
    recommendation = _recommendation()
    recommendation["source"]["quote"] = "Neighbours should cooperate on labour migration"
    result, folder, text = _lint(tmp_path, recommendation=recommendation, source=source)
    problem = _one(result, "quote_not_in_source")
    assert problem.rule == "cooperate"
    assert problem.location == f"{folder / 'rules.yaml'}:{_line_of(text, 'cooperate')}"
    assert "matches up to 'Neighbours should cooperate on', then differs" in problem.hint
    # Without a source text, quotes are not compared with anything.
    assert lint_rules([folder]).problems == []


def test_a_pack_names_its_own_source_text(tmp_path: Path) -> None:
    folder, _ = _folder(tmp_path, [_finding(), _recommendation()])
    (folder / "pack.yaml").write_text("name: mine\nversion: 1.0.0\nsource_text: source.txt\n", encoding="utf-8")
    (folder / "source.txt").write_text("Hosts should help.", encoding="utf-8")
    codes = sorted(p.code for p in lint_rules([folder]).problems)
    assert codes == ["quote_not_in_source", "quote_not_in_source"]
    (folder / "source.txt").unlink()
    assert [p.code for p in lint_rules([folder]).problems] == ["source_not_found"]


def test_every_problem_of_a_folder_is_reported_at_once(tmp_path: Path) -> None:
    source = tmp_path / "source.txt"
    source.write_text(SOURCE, encoding="utf-8")
    bad_field = _recommendation()
    bad_field.update(id="bad-field", when=["complementary.subject == flow.key", "flow.ilegal_work >= moderate"])
    contradiction = _recommendation()
    contradiction.update(id="contradiction", when=["complementary.subject == flow.key", "flow.abuse >= high", "flow.abuse <= low"])
    template = _recommendation()
    template.update(id="template", justification="{host.name}")
    no_quote = _recommendation()
    no_quote.update(id="no-quote", source={"section": "One", "quote": ""})
    not_verbatim = _recommendation()
    not_verbatim.update(id="not-verbatim", source={"section": "One", "quote": "Hosts must help."})
    needs = _recommendation()
    needs.update(id="needs", facts={"flow": "flow", "complementary": "finding:nothing"})
    lonely = copy.deepcopy(_finding())
    lonely.update(id="lonely")
    folder, _ = _folder(tmp_path, [_finding(), lonely, bad_field, contradiction, template, no_quote, not_verbatim, needs])
    result = lint_rules([folder], source=source)
    by_rule = {(p.rule, p.code) for p in result.problems}
    assert by_rule == {
        ("bad-field", "unknown_field"),
        ("contradiction", "unsatisfiable_conditions"),
        ("template", "template_field"),
        ("no-quote", "missing_quote"),
        ("not-verbatim", "quote_not_in_source"),
        ("needs", "unknown_finding"),
        ("lonely", "unused_finding"),
    }
    # errors first, then warnings
    assert [p.severity for p in result.problems] == sorted((p.severity for p in result.problems), key=lambda s: s != "error")


def test_cli_rules_check(tmp_path: Path) -> None:
    runner = CliRunner()
    clean = runner.invoke(main, ["rules", "check"])
    assert clean.exit_code == 0, clean.output
    assert "27 rules checked: 0 errors, 0 warnings" in clean.output
    recommendation = _recommendation()
    recommendation["when"][1] = "flow.illegal_work >= extreme"
    folder, text = _folder(tmp_path, [_finding(), recommendation])
    bad = runner.invoke(main, ["rules", "check", str(folder)])
    assert bad.exit_code == 1
    assert f"{folder / 'rules.yaml'}:{_line_of(text, 'cooperate')}: error: bad_value: rule cooperate: 'flow.illegal_work >= extreme'" in bad.output
    as_json = runner.invoke(main, ["rules", "check", str(folder), "--format", "json"])
    assert as_json.exit_code == 1 and '"code": "bad_value"' in as_json.output
    lonely = _finding()
    lonely.update(id="lonely")
    warned, _ = _folder(tmp_path, [_finding(), lonely, _recommendation()], name="warned")
    only_warnings = runner.invoke(main, ["rules", "check", str(warned)])
    assert only_warnings.exit_code == 0 and "warning: unused_finding" in only_warnings.output
