"""The bundled rule tests: complete (every rule fires and is held back somewhere), 100% coverage, and sharp enough
that breaking any one condition of any rule makes a case fail with a message naming that rule.

The cases themselves run as pytest items through the nea_policy plugin (testpaths), not here.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nea_policy.authoring.rule_tests import (
    TestCase,
    TestError,
    bundled_tests_dir,
    find_test_files,
    load_test_file,
    run_case,
    run_tests,
)
from nea_policy.engine.engine import Engine
from nea_policy.language.conditions import Comparison, Condition, FieldRef
from nea_policy.language.rules import Rule, RuleSet, bundled_rules_dir, load_ruleset
from nea_policy.model.fact_types import FACT_TYPES

ROOT = Path(__file__).resolve().parent.parent
_NEGATE = {"==": "!=", "!=": "==", ">": "<=", "<=": ">", ">=": "<", "<": ">=", "in": "not in", "not in": "in",
           "contains": "not contains", "not contains": "contains", "is set": "is not set", "is not set": "is set"}


@pytest.fixture(scope="module")
def bundled_cases() -> list[TestCase]:
    return [case for path in find_test_files() for case in load_test_file(path)]


def test_the_bundled_suite_fires_every_rule_and_challenges_every_condition_but_one() -> None:
    result = run_tests(coverage=True, min_coverage=100)
    assert result.ok, "\n".join(c.failure_text() for c in result.failed)
    assert result.coverage is not None and result.coverage.fired_share == 100.0
    unchallenged = {(r.rule, c) for r in result.coverage.rules for c in r.never_false}
    # flow.recruiter_exploitation >= moderate implies the finding, so that join can never be the only false one.
    assert unchallenged == {("enforce-against-exploitative-recruitment", "exploited.subject == flow.key")}


def test_every_rule_has_a_case_where_it_concludes_and_one_where_it_does_not(bundled_cases: list[TestCase]) -> None:
    expected: set[str] = set()
    held_back: set[str] = set()
    for case in bundled_cases:
        expected |= {e.rule for e in case.expect.recommendations(False)} | {e.finding for e in case.expect.findings(False)}
        held_back |= {e.rule for e in case.expect.recommendations(True)} | {e.finding for e in case.expect.findings(True)}
    conclusions = {rule.concludes for rule in load_ruleset().rules}
    assert conclusions - expected == set()
    assert conclusions - held_back == set()


def test_the_bundled_tests_ship_inside_the_rules_folder_and_are_not_read_as_rules() -> None:
    assert bundled_tests_dir().parent == bundled_rules_dir()
    assert len(find_test_files()) == 6
    assert all(rule.file.endswith(("findings.yaml", "recommendations.yaml")) for rule in load_ruleset().rules)


# --- mutation: break one condition of one rule, a case must fail and name the rule ---------------------------


def _negate(condition: Condition) -> list[Condition] | None:
    if isinstance(condition, Comparison):
        op = _NEGATE[condition.op]
        right = condition.right
        shown = "" if right is None else " " + (str(right) if isinstance(right, FieldRef) else repr(right))
        return [Comparison(condition.left, op, right, f"{condition.left} {op}{shown}")]
    if all(len(branch) == 1 for branch in condition.branches):
        negated: list[Condition] = []
        for (inner,) in condition.branches:
            part = _negate(inner)
            if part is None:
                return None
            negated.extend(part)
        return negated
    return None


def _unnegatable_join(rule: Rule, condition: Condition) -> bool:
    if not (isinstance(condition, Comparison) and isinstance(condition.right, FieldRef)):
        return False
    kinds = {FACT_TYPES[rule.aliases[ref.alias]].fields[ref.field].kind for ref in (condition.left, condition.right)}
    return not kinds <= {"level", "bool"} and not (len(kinds) == 1 and kinds == {"enum"})


def _mutants(rule: Rule) -> list[tuple[str, Rule]]:
    mutants = []
    for index, condition in enumerate(rule.conditions):
        rest = list(rule.conditions[:index]), list(rule.conditions[index + 1 :])
        mutants.append((f"drop {condition}", dataclasses.replace(rule, conditions=tuple(rest[0] + rest[1]))))
        if _unnegatable_join(rule, condition):
            # `!=` between two facts' keys is not in the rule language (durable_rules 2.0.28 segfaults on it).
            continue
        negated = _negate(condition)
        assert negated is not None, f"{rule.id}: cannot negate {condition}"
        mutants.append((f"negate {condition}", dataclasses.replace(rule, conditions=tuple(rest[0] + negated + rest[1]))))
    for index, absence in enumerate(rule.absences):
        kept = rule.absences[:index] + rule.absences[index + 1 :]
        mutants.append((f"drop absent {absence.finding or absence.fact_type}", dataclasses.replace(rule, absences=kept)))
    return mutants


def _first_failure_naming(rule: Rule, engine: Engine, cases: list[TestCase]) -> str | None:
    # Cases that expect something of this rule's conclusion first: a broken rule is caught there soonest.
    def about(case: TestCase) -> bool:
        e = case.expect
        ids = {x.rule for x in e.recommendations(False) + e.recommendations(True)} | {x.finding for x in e.findings(False) + e.findings(True)}
        return rule.concludes in ids

    for case in sorted(cases, key=lambda c: not about(c)):
        result, _ = run_case(case, engine)
        if not result.passed and rule.id in result.failure_text():
            return result.failure_text()
    return None


def test_breaking_any_condition_of_any_bundled_rule_fails_a_case_that_names_the_rule(bundled_cases: list[TestCase]) -> None:
    ruleset = load_ruleset()
    survivors = []
    killed = 0
    for position, rule in enumerate(ruleset.rules):
        for label, mutant in _mutants(rule):
            rules = ruleset.rules[:position] + (mutant,) + ruleset.rules[position + 1 :]
            engine = Engine(ruleset=RuleSet(rules, ruleset.packs, ruleset.digest))
            if _first_failure_naming(rule, engine, bundled_cases) is None:
                survivors.append(f"{rule.id}: {label}")
            else:
                killed += 1
    # Every condition is dropped, and negated unless it joins two facts' keys; every absent block is dropped.
    key_joins = sum(1 for r in ruleset.rules for c in r.conditions if _unnegatable_join(r, c))
    expected = sum(2 * len(r.conditions) + len(r.absences) for r in ruleset.rules) - key_joins
    assert killed + len(survivors) == expected > 100
    # Dropping the join to a finding the rule's own test implies changes nothing: the one equivalent mutant.
    assert survivors == ["enforce-against-exploitative-recruitment: drop exploited.subject == flow.key"]


def test_a_rule_broken_in_its_file_fails_a_case_that_points_at_its_file_and_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(bundled_rules_dir(), rules, ignore=shutil.ignore_patterns("tests"))
    text = (rules / "recommendations.yaml").read_text(encoding="utf-8")
    assert text.count("flow.has_work_and_shelter == true") == 1
    (rules / "recommendations.yaml").write_text(text.replace("flow.has_work_and_shelter == true", "flow.has_work_and_shelter == false"), encoding="utf-8")
    result = run_tests(rules=[rules])
    failures = "\n".join(c.failure_text() for c in result.failed)
    assert not result.ok
    line = next(r.line for r in load_ruleset([rules]).rules if r.id == "semi-resident-status")
    assert f"semi-resident-status ({rules / 'recommendations.yaml'}:{line})" in failures
    assert "north-koreans-in-china.rules-test.yaml" in failures
    assert "- expected recommendation semi-resident-status about kp-to-cn to CN" in failures


# --- the runner and the file format ----------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


SCENARIO = """
countries:
  - {code: JP, name: Japan}
  - {code: RU, name: Russia}
relations:
  - {between: [JP, RU], cultural_gap: high}
flows:
  - {id: ru-to-jp, name: Russians in Japan, origin: RU, destination: JP, stereotypes: high, media_tone: negative}
"""


def test_a_failing_case_shows_file_case_diff_and_why_the_unexpected_was_concluded(tmp_path: Path) -> None:
    _write(tmp_path / "base.yaml", SCENARIO)
    test_file = _write(
        tmp_path / "mine.rules-test.yaml",
        """
scenario: base.yaml
cases:
  - name: wrong on purpose
    expect:
      must_recommend: [{rule: fair-media-coverage, subject: ru-to-jp, actors: [RU]}]
      must_not_find: [cultural-friction]
""",
    )
    result = run_tests([test_file])
    assert not result.ok and len(result.failed) == 1
    text = result.failed[0].failure_text()
    assert text.startswith(f"{test_file}:4: case 'wrong on purpose' failed")
    assert "- expected recommendation fair-media-coverage about ru-to-jp to RU" in text
    assert "+ actual: fair-media-coverage about ru-to-jp to JP" in text
    assert "- expected no finding cultural-friction" in text
    (friction,) = [f for f in Engine().evaluate(tmp_path / "base.yaml").findings if f.finding == "cultural-friction"]
    assert f"because: {friction.justification}" in text and "Russians in Japan" in friction.justification
    assert "rule: cultural-friction (" in text


def test_changes_select_list_items_by_id_code_pair_or_index_and_can_append_or_remove(tmp_path: Path) -> None:
    _write(tmp_path / "base.yaml", SCENARIO)
    test_file = _write(
        tmp_path / "c.rules-test.yaml",
        """
scenario: base.yaml
cases:
  - name: gap narrowed by pair key
    changes: {relations.JP-RU.cultural_gap: low}
    expect: {must_not_find: [cultural-friction]}
  - name: stereotypes removed by flow id
    changes: {flows.ru-to-jp.stereotypes: null}
    expect: {must_not_find: [cultural-friction]}
  - name: a flow appended, the first removed by index
    changes:
      flows.+: {id: other, name: Others, origin: RU, destination: JP, stereotypes: high, media_tone: hostile}
      relations.0.cultural_gap: severe
    expect: {must_find: [{finding: cultural-friction, subject: other}, {finding: cultural-friction, subject: ru-to-jp}]}
""",
    )
    result = run_tests([test_file])
    assert result.ok, "\n".join(c.failure_text() for c in result.failed)


def test_problems_in_a_test_file_are_reported_all_at_once_with_their_lines(tmp_path: Path) -> None:
    test_file = _write(
        tmp_path / "bad.rules-test.yaml",
        """
cases:
  - name: no scenario
    expect: {must_find: [cultural-friction]}
  - name: expects nothing
    scenario: {countries: [{code: JP, name: Japan}]}
    expect: {}
  - name: bad inline scenario
    scenario:
      countries: [{code: JP, name: Japan, surplus_labour: high}]
    expect: {must_find: [x]}
  - name: bad change
    scenario: {countries: [{code: JP, name: Japan}]}
    changes: {countries.XX.surplus_labor: high}
    expect: {must_find: [x]}
  - name: unknown key
    expectations: {}
""",
    )
    from nea_policy.authoring.rule_tests import TestError

    with pytest.raises(TestError) as caught:
        load_test_file(test_file)
    codes = {p.code for p in caught.value.problems}
    assert "bad_rule_test" in codes  # the unknown `expectations:` key is refused first, by the file model
    with pytest.raises(TestError) as caught:
        load_test_file(_write(tmp_path / "bad2.rules-test.yaml", test_file.read_text().split("  - name: unknown key")[0]))
    by_code = {p.code: p for p in caught.value.problems}
    assert by_code["no_scenario"].location == f"{tmp_path / 'bad2.rules-test.yaml'}:3"
    assert by_code["empty_case"].location.endswith(":5")
    assert ":14:" in by_code["bad_change"].location
    # An inline scenario's own errors point into the test file, at the offending field.
    assert any(p.location.startswith(f"{tmp_path / 'bad2.rules-test.yaml'}:10") for p in caught.value.problems), caught.value.problems


def test_cli_test_exit_codes_and_coverage(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from nea_policy.cli import main

    runner = CliRunner()
    ok = runner.invoke(main, ["test", "--coverage", "--min-coverage", "100"])
    assert ok.exit_code == 0, ok.output
    assert "27 of 27 rules fired (100%)" in ok.output
    one = str(bundled_tests_dir() / "russians-in-japan.rules-test.yaml")
    short = runner.invoke(main, ["test", one, "--min-coverage", "50"])
    assert short.exit_code == 1
    assert "FAIL coverage:" in short.output and "never fired: complementary-economies" in short.output
    _write(tmp_path / "base.yaml", SCENARIO)
    bad = _write(tmp_path / "x.rules-test.yaml", "scenario: base.yaml\ncases:\n  - name: n\n    expect: {must_recommend: [citizen-exchanges]}\n")
    failing = runner.invoke(main, ["test", str(bad)])
    assert failing.exit_code == 1
    assert f"FAIL {bad}:3: case 'n' failed" in failing.output


def test_pytest_collects_rule_test_files_with_the_same_failure_text(tmp_path: Path) -> None:
    _write(tmp_path / "base.yaml", SCENARIO)
    _write(
        tmp_path / "p.rules-test.yaml",
        "scenario: base.yaml\ncases:\n  - name: passes\n    expect: {must_find: [cultural-friction]}\n"
        "  - name: fails\n    expect: {must_recommend: [citizen-exchanges]}\n",
    )
    _write(tmp_path / "broken.rules-test.yaml", "cases:\n  - name: nothing\n    scenario: base.yaml\n    expect: {}\n")
    _write(tmp_path / "not-a-rule-test.yaml", "cases: 1\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert "1 failed, 1 passed, 1 error" in run.stdout, run.stdout + run.stderr
    assert "- expected recommendation citizen-exchanges" in run.stdout
    assert "p.rules-test.yaml:5: case 'fails' failed" in run.stdout
    assert "broken.rules-test.yaml:2: empty_case: case 'nothing' expects nothing, so it cannot fail" in run.stdout
    assert "Traceback" not in run.stdout


def test_pytest_collects_the_bundled_rule_tests_once() -> None:
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"], capture_output=True, text=True, timeout=120, cwd=root)
    items = [line for line in run.stdout.splitlines() if ".rules-test.yaml::" in line]
    total = sum(len(load_test_file(p)) for p in find_test_files())
    assert len(items) == total == len(set(items)), run.stdout[-2000:]


def test_extra_rules_naming_a_folder_without_rule_files_says_which_line_and_what_to_do(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "tests").mkdir(parents=True)
    (pack / "pack.yaml").write_text("name: mine\nversion: 1.0.0\n", encoding="utf-8")
    (pack / "rules.yaml").write_text((ROOT / "examples" / "packs" / "trafficking-protocol" / "recommendations.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    test_file = pack / "tests" / "mine.rules-test.yaml"
    scenario = (ROOT / "examples" / "north-koreans-in-china.yaml").as_posix()
    test_file.write_text(
        f"scenario: {scenario}\nextra_rules: [.]\ncases:\n  - name: a case\n    expect:\n      must_recommend: [accept-trafficking-protocol]\n", encoding="utf-8"
    )
    with pytest.raises(TestError) as caught:
        load_test_file(test_file)
    [problem] = caught.value.problems
    assert problem.code == "no_rule_files" and problem.location == f"{test_file}:2:15"
    assert f"extra_rules[0]: '.' ({pack / 'tests'}) holds no rule files" in problem.message
    assert problem.hint == "did you mean '..'? paths are relative to the test file"
    # a folder that does not exist, and one of fact files, say so too
    test_file.write_text(test_file.read_text(encoding="utf-8").replace("extra_rules: [.]", f"extra_rules: [nowhere, {(ROOT / 'examples').as_posix()}]"), encoding="utf-8")
    with pytest.raises(TestError) as caught:
        load_test_file(test_file)
    assert [p.message.split(") ", 1)[1] for p in caught.value.problems] == ["is not a folder", "holds no rule files (*.yaml with a `rules:` list)"]
    assert "name the folder that holds the pack's *.yaml rule files" in caught.value.problems[0].hint
    # fixed, it runs
    test_file.write_text(test_file.read_text(encoding="utf-8").replace(f"extra_rules: [nowhere, {(ROOT / 'examples').as_posix()}]", "extra_rules: [..]"), encoding="utf-8")
    assert run_tests([test_file]).ok
