"""Rule packs: added to or replacing the bundled rules, id clashes refused unless marked override, the pack recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from nea_policy.authoring.rule_tests import run_tests
from nea_policy.cli import main
from nea_policy.engine.engine import Engine
from nea_policy.errors import RuleError
from nea_policy.language.lint import lint_rules
from nea_policy.language.rules import bundled_rules_dir, load_ruleset

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "examples" / "packs" / "trafficking-protocol"
NK = ROOT / "examples" / "north-koreans-in-china.yaml"
ARTICLE = ROOT.parent / "shared" / "source" / "cross-border-human-flows-in-northeast-asia.txt"

REFUGEES = """
rules:
  - id: identify-refugees
    kind: recommendation{override}
    title: Identify refugees even where the legal status is clear
    subject: flow
    facts:
      flow: flow
      host: country
    when:
      - host.code == flow.destination
      - flow.persecution_risk_on_return >= moderate
    actors: [host.code]
    justification: Those returned from {{flow.name}} risk persecution ({{flow.persecution_risk_on_return}}).
    source:
      section: North Korean Migration to China
      quote: the Chinese government will need to identify who among these migrants are actually refugees
"""


def _pack(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "pack.yaml").write_text(f"name: {name}\nversion: 2.0.0\n", encoding="utf-8")
    (folder / "rules.yaml").write_text(text, encoding="utf-8")
    return folder


def test_the_example_pack_adds_a_rule_and_the_report_names_its_pack() -> None:
    report = Engine(extra_rules=[PACK]).evaluate(NK)
    packs = {r.rule: r.pack for r in report.recommendations}
    assert packs["accept-trafficking-protocol"] == "trafficking-protocol"
    assert packs["identify-refugees"] == "nea-policy-rules"
    assert "trafficking-protocol 0.1.0" in report.ruleset.version
    assert "accept-trafficking-protocol" not in Engine().evaluate(NK).recommendation_ids()


def test_the_example_pack_ships_its_own_tests_and_they_pass_with_full_coverage_of_its_rule() -> None:
    result = run_tests([PACK / "tests"], coverage=True)
    assert result.ok, "\n".join(c.failure_text() for c in result.failed)
    assert result.coverage is not None
    mine = [r for r in result.coverage.rules if r.pack == "trafficking-protocol"]
    assert [r.rule for r in mine] == ["accept-trafficking-protocol"]
    assert mine[0].firings > 0 and mine[0].never_false == []


def test_the_example_pack_lints_clean_with_its_quote_checked_against_its_own_source_text() -> None:
    result = lint_rules(extra=[PACK], source=ARTICLE if ARTICLE.exists() else None)
    assert result.problems == [], result.render()
    assert lint_rules(extra=[PACK]).problems == []


def test_a_pack_quote_that_is_not_in_its_source_text_is_reported(tmp_path: Path) -> None:
    copy = tmp_path / "pack"
    shutil.copytree(PACK, copy)
    (copy / "source.txt").write_text("Some other text.", encoding="utf-8")
    codes = [(p.code, p.rule) for p in lint_rules(extra=[copy]).problems]
    assert codes == [("quote_not_in_source", "accept-trafficking-protocol")]


def test_an_id_clash_without_override_is_an_error_naming_both_places(tmp_path: Path) -> None:
    pack = _pack(tmp_path, "mine", REFUGEES.format(override=""))
    with pytest.raises(RuleError) as caught:
        load_ruleset(extra=[pack])
    (problem,) = [p for p in caught.value.problems if p.code == "duplicate_rule_id"]
    original = next(r for r in load_ruleset().rules if r.id == "identify-refugees")
    assert problem.location.startswith(str(pack / "rules.yaml") + ":")
    assert original.location in problem.message
    assert "override: true" in problem.hint


def test_an_override_replaces_the_bundled_rule_and_the_report_names_the_pack(tmp_path: Path) -> None:
    pack = _pack(tmp_path, "mine", REFUGEES.format(override="\n    override: true"))
    ruleset = load_ruleset(extra=[pack])
    assert [r.pack for r in ruleset.rules if r.id == "identify-refugees"] == ["mine"]
    assert len(ruleset.rules) == len(load_ruleset().rules)
    # The bundled rule needs the legal-status limbo; the override does not.
    irregular = _irregular(tmp_path)
    (refugees,) = [r for r in Engine(extra_rules=[pack]).evaluate(irregular).recommendations if r.rule == "identify-refugees"]
    assert refugees.pack == "mine" and refugees.title == "Identify refugees even where the legal status is clear"
    assert "identify-refugees" not in Engine().evaluate(irregular).recommendation_ids()


def _irregular(tmp_path: Path) -> Path:
    path = tmp_path / "irregular.yaml"
    text = NK.read_text(encoding="utf-8")
    assert "legal_status: unclear" in text
    path.write_text(text.replace("legal_status: unclear", "legal_status: irregular"), encoding="utf-8")
    return path


def test_an_override_within_one_pack_is_still_a_clash(tmp_path: Path) -> None:
    rule = REFUGEES.format(override="\n    override: true").split("rules:\n", 1)[1]
    pack = _pack(tmp_path, "twice", "rules:\n" + rule + rule)
    with pytest.raises(RuleError) as caught:
        load_ruleset(extra=[pack])
    assert [p.code for p in caught.value.problems] == ["duplicate_rule_id"]
    assert "rename one" in caught.value.problems[0].hint


def test_a_pack_alone_cannot_use_findings_of_the_bundled_rules_but_with_them_it_can() -> None:
    with pytest.raises(RuleError) as caught:
        Engine(rules=[PACK])
    assert [p.code for p in caught.value.problems] == ["unknown_finding"]
    report = Engine(rules=[bundled_rules_dir(), PACK]).evaluate(NK)
    assert "accept-trafficking-protocol" in report.recommendation_ids()


def test_cli_runs_and_checks_a_pack() -> None:
    runner = CliRunner()
    tested = runner.invoke(main, ["test", str(PACK / "tests")])
    assert tested.exit_code == 0, tested.output
    assert "7 of 7 cases passed" in tested.output
    checked = runner.invoke(main, ["rules", "check", "--extra-rules", str(PACK)])
    assert checked.exit_code == 0 and "28 rules checked: 0 errors" in checked.output
    evaluated = runner.invoke(main, ["evaluate", "--extra-rules", str(PACK), str(NK), "--format", "json"])
    assert evaluated.exit_code == 0 and '"pack": "trafficking-protocol"' in evaluated.output
