"""Fuzzed fact files through the library and the command line: a report, or a located coded error; never "unexpected".

The normal suite runs a few hundred (seconds). The soak runs 10,000 and prints what they came to; it is marked
`soak`, deselected by default:

    pytest -m soak tests/test_fuzz.py -s
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzzing import OUTCOMES, check_file, fuzzed_file
from hypothesis import HealthCheck, given, settings

from nea_policy.engine.engine import Engine

QUICK = settings(max_examples=200, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SOAK_FILES = 10_000


@QUICK
@given(case=fuzzed_file())
def test_fuzzed_files_give_a_report_or_a_located_coded_error(engine: Engine, tmp_path: Path, case: tuple[str, str | bytes]) -> None:
    check_file(engine, tmp_path, *case)


@pytest.mark.soak
def test_soak_of_10000_fuzzed_files(engine: Engine, tmp_path: Path) -> None:
    OUTCOMES.clear()

    @settings(max_examples=SOAK_FILES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(case=fuzzed_file())
    def one(case: tuple[str, str | bytes]) -> None:
        check_file(engine, tmp_path, *case)

    one()
    total = sum(OUTCOMES.values())
    print(f"\n{total:,} fuzzed files: {OUTCOMES['report']:,} reports, {total - OUTCOMES['report']:,} located coded errors, 0 unexpected")
    for code, count in OUTCOMES.most_common():
        print(f"  {code}: {count:,}")
    assert total >= SOAK_FILES * 0.95, "hypothesis ran fewer files than asked"
