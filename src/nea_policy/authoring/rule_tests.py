"""Scenario tests as data: load `*.rules-test.yaml` files, run their cases against an Engine, explain each failure.

A test file is a mapping:

    scenario: scenarios/base.yaml        # optional default for every case (a path relative to this file, or inline)
    extra_rules: [..]                    # optional rule packs (paths relative to this file) added to the rules
    rules: [..]                          # optional rule folders that replace the bundled rules
    cases:
      - name: cultural friction when the gap is wide
        scenario: {...} | path           # optional when the file has a default
        changes:                         # optional: one decisive fact changed, by path
          relations.JP-RU.cultural_gap: moderate
        expect:
          must_recommend: [rule-id, {rule: rule-id, subject: KEY, actors: [JP]}]
          must_not_recommend: [rule-id, {rule: rule-id, subject: KEY}]
          must_find: [finding-id, {finding: finding-id, subject: KEY}]
          must_not_find: [finding-id]

A change path is dot-separated; a segment after a list picks the item whose id, code or sorted pair ('A-B') matches
(or a number, its index); a final `+` appends the value to the list. A null value removes the field or list item.
"""

from __future__ import annotations

import copy
import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from nea_policy.authoring.coverage import CoverageResult
from nea_policy.engine.engine import Engine
from nea_policy.language.rules import holds_rules
from nea_policy.errors import NeaPolicyError, Problem
from nea_policy.model.display import flat, visible
from nea_policy.model.documents import Document, load_document
from nea_policy.model.facts import Scenario, pair_key, scenario_from_document
from nea_policy.model.report import FindingNode, Report

TEST_FILE_PATTERNS: tuple[str, ...] = ("*.rules-test.yaml", "*.rules-test.yml", "*.rules-test.json")


def is_test_file(path: str | Path) -> bool:
    """Whether a file is a rule test file by its name (`*.rules-test.yaml`, `.yml` or `.json`)."""
    name = Path(path).name
    return any(fnmatch.fnmatch(name, pattern) for pattern in TEST_FILE_PATTERNS)


def bundled_tests_dir() -> Path:
    """The folder of rule tests shipped with the bundled rules."""
    from nea_policy.language.rules import bundled_rules_dir

    return bundled_rules_dir() / "tests"


class TestError(NeaPolicyError):
    """A rule test file cannot be read or does not describe valid test cases."""

    __test__ = False  # not a pytest test class
    default_code = "bad_rule_test"


# --- the file format -----------------------------------------------------------------------------


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecommendationExpectation(_Spec):
    """A recommendation that must (or must not) appear, optionally about one subject and addressed to given actors."""

    rule: str = Field(min_length=1)
    subject: str | None = Field(None, description="the subject's key: flow or region id, country code, 'A-B' pair")
    actors: list[str] | None = Field(None, description="exactly these governments are addressed (must_recommend only)")

    def describe(self) -> str:
        """e.g. `citizen-exchanges about JP-RU to JP, RU`."""
        text = self.rule
        if self.subject is not None:
            text += f" about {self.subject}"
        if self.actors is not None:
            text += f" to {', '.join(sorted(self.actors)) or 'nobody'}"
        return text


class FindingExpectation(_Spec):
    """A finding that must (or must not) hold, optionally about one subject."""

    finding: str = Field(min_length=1)
    subject: str | None = None
    rule: str | None = Field(None, description="the id of the rule that concluded it, when several rules conclude one finding")

    def describe(self) -> str:
        """e.g. `cultural-friction about ru-to-jp`."""
        text = self.finding + (f" about {self.subject}" if self.subject is not None else "")
        return text + (f" by rule {self.rule}" if self.rule is not None else "")

    def matches(self, node: FindingNode) -> bool:
        """Whether a finding of the report is this one."""
        return (
            node.finding == self.finding
            and (self.subject is None or node.subject.key == self.subject)
            and (self.rule is None or node.rule == self.rule)
        )


class Expectations(_Spec):
    """What a case expects of the report."""

    must_recommend: list[Union[str, RecommendationExpectation]] = Field(default_factory=list)
    must_not_recommend: list[Union[str, RecommendationExpectation]] = Field(default_factory=list)
    must_find: list[Union[str, FindingExpectation]] = Field(default_factory=list)
    must_not_find: list[Union[str, FindingExpectation]] = Field(default_factory=list)

    def recommendations(self, negative: bool) -> list[RecommendationExpectation]:
        """The recommendation expectations as models."""
        items = self.must_not_recommend if negative else self.must_recommend
        return [RecommendationExpectation(rule=i) if isinstance(i, str) else i for i in items]

    def findings(self, negative: bool) -> list[FindingExpectation]:
        """The finding expectations as models."""
        items = self.must_not_find if negative else self.must_find
        return [FindingExpectation(finding=i) if isinstance(i, str) else i for i in items]

    def is_empty(self) -> bool:
        """Whether the case expects nothing at all (a case that cannot fail)."""
        return not (self.must_recommend or self.must_not_recommend or self.must_find or self.must_not_find)


class CaseSpec(_Spec):
    """One test case as written."""

    name: str = Field(min_length=1)
    description: str | None = None
    scenario: Union[str, dict[str, Any], None] = None
    changes: dict[str, Any] = Field(default_factory=dict)
    expect: Expectations


class TestFileSpec(_Spec):
    """A rule test file as written."""

    __test__ = False
    scenario: Union[str, dict[str, Any], None] = None
    rules: list[str] | None = None
    extra_rules: list[str] = Field(default_factory=list)
    cases: list[CaseSpec] = Field(min_length=1)


@dataclass
class TestCase:
    """A loaded case: where it is written, its scenario (validated, changes applied) and its expectations."""

    __test__ = False
    file: str
    line: int
    name: str
    scenario: Scenario
    expect: Expectations
    rules: tuple[str, ...] | None
    extra_rules: tuple[str, ...]

    @property
    def location(self) -> str:
        """`file:line` of the case's name."""
        return f"{self.file}:{self.line}"


# --- results -------------------------------------------------------------------------------------


class Mismatch(BaseModel):
    """One expectation the report did not meet: what was expected, what came out instead, and why."""

    model_config = ConfigDict(frozen=True)
    kind: str = Field(description="missing_recommendation, unexpected_recommendation, missing_finding or unexpected_finding")
    expected: str
    actual: list[str] = Field(description="what the report holds for the same id (subject, actors)")
    justification: list[str] = Field(default_factory=list, description="why the engine concluded what was not expected")
    rules: list[str] = Field(default_factory=list, description="id and file:line of the rules that conclude this id")

    def text(self) -> str:
        """Readable expected-vs-actual lines."""
        lines = []
        if self.kind.startswith("missing"):
            what = self.kind.removeprefix("missing_")
            lines.append(f"- expected {what} {self.expected}")
            lines.append(f"+ actual: {'; '.join(self.actual) if self.actual else 'not concluded'}")
        else:
            what = self.kind.removeprefix("unexpected_")
            lines.append(f"- expected no {what} {self.expected}")
            lines.append(f"+ actual: {'; '.join(self.actual)}")
            for because in self.justification:
                lines.append(f"  because: {because}")
        if self.rules:
            lines.append(f"  rule: {', '.join(self.rules)}")
        return "\n".join(lines)


class CaseResult(BaseModel):
    """The outcome of one case."""

    file: str
    line: int
    name: str
    passed: bool
    mismatches: list[Mismatch] = Field(default_factory=list)
    error: str | None = Field(None, description="why the case could not run (e.g. the rules failed to load)")
    recommendations: list[str] = Field(default_factory=list, description="'rule about subject' the report holds")
    findings: list[str] = Field(default_factory=list, description="'finding about subject' the report holds")

    @property
    def location(self) -> str:
        """`file:line` of the case."""
        return f"{self.file}:{self.line}"

    def failure_text(self) -> str:
        """The file, the case name and the diff of expected against actual."""
        head = f"{self.location}: case {self.name!r} failed"
        if self.error:
            return f"{head}\n  {self.error}"
        body = "\n".join(m.text() for m in self.mismatches)
        recommended = ", ".join(self.recommendations) or "nothing"
        return f"{head}\n{body}\n  (recommended: {recommended})"


class SuiteResult(BaseModel):
    """The outcome of a run of test files, with coverage when asked."""

    cases: list[CaseResult]
    coverage: CoverageResult | None = None
    min_coverage: float | None = Field(None, description="the share of rules (percent) that must fire, when required")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def coverage_shortfall(self) -> str | None:
        """Why coverage is below the required share, or None when it is enough (or not required)."""
        if self.min_coverage is None or self.coverage is None:
            return None
        share = self.coverage.fired_share
        if share + 1e-9 >= self.min_coverage:
            return None
        return f"{share:.1f}% of the rules fired, below the required {self.min_coverage:g}%; never fired: {', '.join(self.coverage.never_fired)}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> int:
        """How many cases passed."""
        return sum(1 for c in self.cases if c.passed)

    @property
    def failed(self) -> list[CaseResult]:
        """The cases that failed."""
        return [c for c in self.cases if not c.passed]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """Whether every case passed (there was at least one) and coverage is what was required."""
        return bool(self.cases) and not self.failed and self.coverage_shortfall is None


# --- loading -------------------------------------------------------------------------------------


def find_test_files(paths: Iterable[str | Path] | None = None) -> list[Path]:
    """Test files named by paths (files, or folders searched recursively); default the bundled tests."""
    targets = [Path(p) for p in paths] if paths else [bundled_tests_dir()]
    found: list[Path] = []
    problems: list[Problem] = []
    for target in targets:
        if target.is_dir():
            found.extend(sorted(p for p in target.rglob("*") if p.is_file() and is_test_file(p)))
        elif target.is_file():
            found.append(target)
        else:
            problems.append(Problem("tests_not_found", "no such file or folder", str(target), "name a *.rules-test.yaml file or a folder holding some"))
    if problems:
        raise TestError(problems)
    return list(dict.fromkeys(found))


def load_test_file(path: str | Path) -> list[TestCase]:
    """Load one test file into cases; every problem at once as a TestError with file:line."""
    document = load_document(path)
    base = Path(path).resolve().parent
    try:
        spec = TestFileSpec.model_validate(document.data)
    except ValidationError as exc:
        raise TestError(
            [
                Problem("bad_rule_test", error["msg"] + f" ({'.'.join(str(p) for p in error['loc'])})", document.locate(tuple(error["loc"])), _hint(error))
                for error in exc.errors(include_url=False)
            ]
        ) from None
    rules = tuple(str(base / r) for r in spec.rules) if spec.rules is not None else None
    extra = tuple(str(base / r) for r in spec.extra_rules)
    cases: list[TestCase] = []
    problems: list[Problem] = [
        *_rule_folder_problems(spec.rules or [], "rules", document, base),
        *_rule_folder_problems(spec.extra_rules, "extra_rules", document, base),
    ]
    names: set[str] = set()
    for index, case in enumerate(spec.cases):
        path_ = ("cases", index)
        line = document.line_of((*path_, "name")) or 0
        where = f"{document.name}:{line}"
        if case.name in names:
            problems.append(Problem("duplicate_case", f"case {case.name!r} appears twice in the file", where, "give each case its own name"))
        names.add(case.name)
        if case.expect.is_empty():
            problems.append(Problem("empty_case", f"case {case.name!r} expects nothing, so it cannot fail", where, "add must_recommend, must_not_recommend, must_find or must_not_find"))
        try:
            if case.scenario is not None:
                scenario_doc = _scenario_document(case.scenario, document, (*path_, "scenario"), base)
            elif spec.scenario is not None:
                scenario_doc = _scenario_document(spec.scenario, document, ("scenario",), base)
            else:
                problems.append(Problem("no_scenario", f"case {case.name!r} has no scenario", where, "give the case a scenario, or the file a default scenario"))
                continue
            if case.changes:
                scenario_doc = _apply_changes(scenario_doc, case.changes, document, (*path_, "changes"))
            scenario = scenario_from_document(scenario_doc)
        except NeaPolicyError as exc:
            problems.extend(Problem(p.code, f"case {case.name!r}: {p.message}", p.location or where, p.hint) for p in exc.problems)
            continue
        cases.append(TestCase(document.name, line, case.name, scenario, case.expect, rules, extra))
    if problems:
        raise TestError(problems)
    return cases


def _rule_folder_problems(folders: list[str], key: str, document: Document, base: Path) -> list[Problem]:
    """A problem, at its line, for each folder of `rules:` / `extra_rules:` that holds no rule files, with where they are."""
    problems = []
    for index, name in enumerate(folders):
        folder = (base / name).resolve()
        if holds_rules(folder):
            continue
        near = [c for c in (folder.parent, *sorted(p for p in folder.iterdir() if p.is_dir())) if holds_rules(c)] if folder.is_dir() else []
        if near:
            hint = f"did you mean {_relative_to(near[0], base)!r}? paths are relative to the test file"
        else:
            hint = "name the folder that holds the pack's *.yaml rule files (with its pack.yaml), relative to the test file"
        what = "holds no rule files (*.yaml with a `rules:` list)" if folder.is_dir() else "is not a folder"
        problems.append(Problem("no_rule_files", f"{key}[{index}]: {name!r} ({folder}) {what}", document.locate((key, index)), hint))
    return problems


def _relative_to(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base.resolve())) or "."
    except ValueError:
        return os.path.relpath(path, base.resolve())


def _hint(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "allowed keys: scenario, rules, extra_rules, cases; a case has name, description, scenario, changes, expect; expect has must_recommend, must_not_recommend, must_find, must_not_find"
    return ""


def _scenario_document(value: str | dict[str, Any], owner: Document, at: tuple[str | int, ...], base: Path) -> Document:
    if isinstance(value, str):
        target = base / value
        if not target.is_file():
            raise TestError(f"scenario file {value!r} not found (paths are relative to the test file)", code="scenario_not_found", location=owner.locate(at))
        return load_document(target)
    # An inline scenario keeps the test file's line numbers, so its errors point into the test file.
    positions = {p[len(at):]: pos for p, pos in owner.positions.items() if p[: len(at)] == at}
    return Document(name=owner.name, data=value, positions=positions, lines=owner.lines)


def _apply_changes(scenario: Document, changes: dict[str, Any], owner: Document, at: tuple[str | int, ...]) -> Document:
    data = copy.deepcopy(scenario.data)
    problems: list[Problem] = []
    for path_text, value in changes.items():
        where = owner.locate((*at, path_text))
        try:
            _set_path(data, path_text, value)
        except KeyError as exc:
            problems.append(Problem("bad_change", f"change {path_text!r}: {exc.args[0]}", where, "write e.g. flows.<flow id>.abuse, countries.<code>.food_insecurity, relations.<A-B>.cultural_gap"))
    if problems:
        raise TestError(problems)
    # Positions no longer match the changed data; keep the file name so errors still say where the scenario came from.
    return Document(name=f"{scenario.name} (with the changes at {owner.locate(at)})", data=data)


def _set_path(data: Any, path_text: str, value: Any) -> None:
    parts = path_text.split(".")
    node = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if part == "+" and last:
                node.append(value)
                return
            index = _list_index(node, part)
            if last:
                if value is None:
                    node.pop(index)
                else:
                    node[index] = value
                return
            node = node[index]
        elif isinstance(node, dict):
            if last:
                if value is None:
                    node.pop(part, None)
                else:
                    node[part] = value
                return
            if part not in node:
                raise KeyError(f"{'.'.join(parts[: depth + 1])} is not in the scenario")
            node = node[part]
        else:
            raise KeyError(f"{'.'.join(parts[:depth])} is a value, not a mapping or list")


def _list_index(items: list[Any], selector: str) -> int:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        keys = {str(item.get("id")), str(item.get("code"))}
        between = item.get("between")
        if isinstance(between, list) and len(between) == 2:
            keys.add(pair_key(str(between[0]), str(between[1])))
        if selector in keys:
            return index
    if selector.isascii() and selector.isdigit() and int(selector) < len(items):
        return int(selector)
    raise KeyError(f"no item {selector!r} in the list (select by id, code, 'A-B' pair or index)")


# --- running -------------------------------------------------------------------------------------


@dataclass
class EngineCache:
    """Engines by the rule folders they load, so that test files sharing rules share one compiled engine."""

    rules: tuple[str, ...] | None = None
    extra_rules: tuple[str, ...] = ()
    engine: Engine | None = None
    _engines: dict[tuple[tuple[str, ...] | None, tuple[str, ...]], Engine] = field(default_factory=dict)

    def for_case(self, case: TestCase) -> Engine:
        """The engine a case runs on: an explicit engine, else CLI/file rules plus the file's and CLI's extra packs."""
        if self.engine is not None:
            return self.engine
        rules = self.rules if self.rules is not None else case.rules
        extra = tuple(dict.fromkeys(str(Path(p).resolve()) for p in (*case.extra_rules, *self.extra_rules)))
        key = (tuple(str(Path(p).resolve()) for p in rules) if rules is not None else None, extra)
        if key not in self._engines:
            self._engines[key] = _RecordingEngine(list(key[0]) if key[0] is not None else None, list(key[1]) or None)
        return self._engines[key]


class _RecordingEngine(Engine):
    """An Engine that keeps the raw firings of its last evaluation (coverage counts every binding that fired)."""

    last_firings: list[Any]

    def _fire(self, facts: list[dict[str, Any]]) -> list[Any]:
        firings = super()._fire(facts)
        self.last_firings = list(firings)
        return firings


def run_case(case: TestCase, engine: Engine) -> tuple[CaseResult, Report | None]:
    """Evaluate one case and compare the report with its expectations."""
    try:
        report = engine.evaluate(case.scenario)
    except NeaPolicyError as exc:
        return CaseResult(file=case.file, line=case.line, name=case.name, passed=False, error=str(exc)), None
    mismatches = compare(case.expect, report, engine)
    return (
        CaseResult(
            file=case.file,
            line=case.line,
            name=case.name,
            passed=not mismatches,
            mismatches=mismatches,
            recommendations=[f"{r.rule} about {r.subject.key}" for r in report.recommendations],
            findings=[f"{f.finding} about {f.subject.key}" for f in report.findings],
        ),
        report,
    )


def compare(expect: Expectations, report: Report, engine: Engine) -> list[Mismatch]:
    """Every expectation the report does not meet, each with the actual values and the justification of the unexpected."""
    concluding: dict[str, list[str]] = {}
    for rule in engine.rules:
        concluding.setdefault(rule.concludes, []).append(f"{rule.id} ({rule.location})")
    mismatches: list[Mismatch] = []
    for want in expect.recommendations(negative=False):
        same = [r for r in report.recommendations if r.rule == want.rule]
        hits = [
            r for r in same if (want.subject is None or r.subject.key == want.subject) and (want.actors is None or sorted(r.actors) == sorted(want.actors))
        ]
        if not hits:
            actual = [f"{r.rule} about {r.subject.key} to {', '.join(r.actors)}" for r in same]
            mismatches.append(Mismatch(kind="missing_recommendation", expected=want.describe(), actual=actual, rules=concluding.get(want.rule, [f"no rule concludes {want.rule!r}"])))
    for avoid in expect.recommendations(negative=True):
        hits = [r for r in report.recommendations if r.rule == avoid.rule and (avoid.subject is None or r.subject.key == avoid.subject)]
        if hits:
            mismatches.append(
                Mismatch(
                    kind="unexpected_recommendation",
                    expected=avoid.describe(),
                    actual=[f"{r.rule} about {r.subject.key} to {', '.join(r.actors)}" for r in hits],
                    justification=[r.justification for r in hits],
                    rules=concluding.get(avoid.rule, []),
                )
            )
    for want_f in expect.findings(negative=False):
        same_f = [f for f in report.findings if f.finding == want_f.finding]
        if not [f for f in same_f if want_f.matches(f)]:
            mismatches.append(
                Mismatch(
                    kind="missing_finding",
                    expected=want_f.describe(),
                    actual=[f"{f.finding} about {f.subject.key} by rule {f.rule}" for f in same_f],
                    rules=concluding.get(want_f.finding, [f"no rule concludes {want_f.finding!r}"]),
                )
            )
    for avoid_f in expect.findings(negative=True):
        hits_f = [f for f in report.findings if avoid_f.matches(f)]
        if hits_f:
            mismatches.append(
                Mismatch(
                    kind="unexpected_finding",
                    expected=avoid_f.describe(),
                    actual=[f"{f.finding} about {f.subject.key} (by rule {f.rule})" for f in hits_f],
                    justification=[f.justification for f in hits_f],
                    rules=concluding.get(avoid_f.finding, []),
                )
            )
    return mismatches


def run_tests(
    paths: Iterable[str | Path] | None = None,
    *,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
    engine: Engine | None = None,
    coverage: bool = False,
    min_coverage: float | None = None,
) -> SuiteResult:
    """Load and run test files (default: the bundled rule tests); with coverage, also count firings and challenged conditions."""
    files = find_test_files(paths)
    problems: list[Problem] = []
    cases: list[TestCase] = []
    for path in files:
        try:
            cases.extend(load_test_file(path))
        except NeaPolicyError as exc:
            problems.extend(exc.problems)
    if problems:
        raise TestError(problems)
    cache = EngineCache(
        rules=tuple(str(r) for r in rules) if rules else None,
        extra_rules=tuple(str(r) for r in extra_rules or ()),
        engine=engine,
    )
    tracker = None
    if coverage or min_coverage is not None:
        from nea_policy.authoring.coverage import CoverageTracker

        tracker = CoverageTracker()
    results: list[CaseResult] = []
    for case in cases:
        case_engine = cache.for_case(case)
        result, report = run_case(case, case_engine)
        results.append(result)
        if tracker is not None:
            tracker.add(case_engine, case.scenario, report, getattr(case_engine, "last_firings", None))
    return SuiteResult(cases=results, coverage=tracker.result() if tracker is not None else None, min_coverage=min_coverage)


def render_results(result: SuiteResult, *, verbose: bool = False) -> str:
    """Text for the terminal: failures in full, then a one-line summary (and the coverage table when measured)."""
    lines: list[str] = []
    for case in result.cases:
        if not case.passed:
            lines.append(visible("FAIL " + case.failure_text()))
            lines.append("")
        elif verbose:
            lines.append(f"ok   {case.location}: {flat(case.name)}")
    total = len(result.cases)
    lines.append(f"{result.passed} of {total} cases passed" + (f", {len(result.failed)} failed" if result.failed else ""))
    if result.coverage is not None:
        from nea_policy.authoring.coverage import render_coverage

        lines.append("")
        lines.append(render_coverage(result.coverage))
    shortfall = result.coverage_shortfall
    if shortfall:
        lines.append(f"FAIL coverage: {shortfall}")
    return "\n".join(lines) + "\n"
