"""pytest plugin: every case of a rule test file (`*.rules-test.yaml`, `.yml`, `.json`) becomes a test item.

Installed with nea-policy through the `pytest11` entry point, so `pytest` in a project with rule tests runs them
wherever it collects (e.g. `testpaths`), with the same failure text as `nea-policy test`. Test files that share
rule folders share one compiled engine for the whole session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from nea_policy.authoring.rule_tests import (
    CaseResult,
    EngineCache,
    TestCase,
    is_test_file,
    load_test_file,
    run_case,
)
from nea_policy.errors import NeaPolicyError

_ENGINES = pytest.StashKey[EngineCache]()


class RuleCaseFailed(Exception):
    """A rule test case whose report did not meet its expectations."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.failure_text())
        self.result = result


def pytest_configure(config: pytest.Config) -> None:
    """Silence durable_rules' per-firing DeprecationWarning (Python 3.12+) in rule test runs: it is not the user's."""
    config.addinivalue_line("filterwarnings", "ignore:datetime.datetime.utcfromtimestamp:DeprecationWarning:durable.engine")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect rule test files by their name."""
    if is_test_file(file_path):
        return RuleTestFile.from_parent(parent, path=file_path)
    return None


class RuleTestFile(pytest.File):
    """A rule test file: one item per case."""

    def collect(self) -> Iterator[pytest.Item]:
        """Load the file (all its problems at once) and yield its cases."""
        for case in load_test_file(self.path):
            yield RuleTestItem.from_parent(self, name=case.name, case=case)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:  # type: ignore[override]
        """A test file that cannot be loaded: its problems, each with file:line, without a traceback."""
        if isinstance(excinfo.value, NeaPolicyError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))


class RuleTestItem(pytest.Item):
    """One case of a rule test file."""

    def __init__(self, *, case: TestCase, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        """Evaluate the case's scenario and compare the report with its expectations."""
        config = self.config
        if _ENGINES not in config.stash:
            config.stash[_ENGINES] = EngineCache()
        result, _ = run_case(self.case, config.stash[_ENGINES].for_case(self.case))
        if not result.passed:
            raise RuleCaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:  # type: ignore[override]
        """The file, the case and the expected-vs-actual diff, as `nea-policy test` prints it."""
        if isinstance(excinfo.value, (RuleCaseFailed, NeaPolicyError)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the case is written, for pytest's headers."""
        return self.path, self.case.line - 1, f"rule test case: {self.case.name}"
