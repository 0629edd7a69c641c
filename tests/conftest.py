"""Shared fixtures: one compiled engine for the session (compiling is done once per Engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nea_policy.engine import Engine

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
