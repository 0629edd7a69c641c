"""Shared fixtures: one compiled engine for the session (compiling is done once per Engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nea_policy.api import Engine

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine with the bundled rules."""
    return Engine()


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    """The examples folder of the repository."""
    return EXAMPLES


def live_facts(engine: Engine) -> list[Any]:
    """The facts left in the engine's durable_rules session (none when the session was never started)."""
    try:
        return engine._host.facts(engine._sid)
    except Exception as error:  # noqa: BLE001 - durable_rules' own error type; 309: no such session
        assert "309" in str(error), error
        return []
