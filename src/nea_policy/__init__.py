"""nea-policy: policy recommendations for cross-border human flows in Northeast Asia, with their reasons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .engine import Engine
    from .errors import EvaluationError, InputError, NeaPolicyError, RuleError, ScenarioError
    from .facts import Scenario, load_scenario
    from .report import Report

_LAZY = {
    "Engine": "engine",
    "Scenario": "facts",
    "load_scenario": "facts",
    "Report": "report",
    "NeaPolicyError": "errors",
    "InputError": "errors",
    "ScenarioError": "errors",
    "RuleError": "errors",
    "EvaluationError": "errors",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that `nea-policy --help` does not pay for durable_rules and pydantic.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
