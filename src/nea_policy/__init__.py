"""nea-policy: policy recommendations for cross-border human flows in Northeast Asia, with their reasons.

The package is layered (each layer imports only those below it): `model` (facts, documents, reports), `language`
(rules and their compiler), `engine` (durable_rules' Rete core and report building), `analysis` (explain, why-not,
counterfactuals, what-if, compare, sweep), `render` and `authoring`, then `api` (the public functions), `cli`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from nea_policy.api import (
        Engine,
        EvaluationError,
        InputError,
        NeaPolicyError,
        Report,
        RuleError,
        Scenario,
        ScenarioError,
        SizeLimits,
        load_scenario,
    )

_PUBLIC = ("Engine", "Scenario", "load_scenario", "Report", "NeaPolicyError", "InputError", "ScenarioError", "RuleError", "EvaluationError", "SizeLimits")

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that `nea-policy --help` does not pay for durable_rules and pydantic.
    if name in _PUBLIC:
        from nea_policy import api

        return getattr(api, name)
    raise AttributeError(name)
