"""What may enter durable_rules' C core: the size limits of an engine, checked before any fact of an evaluation is asserted.

A scenario too large for the memory at hand once ended in SIGSEGV inside the C core (100,000 flows under a 2 GB
address-space limit); the core now fails such allocations cleanly (vendor/durable_rules/PATCHES.md), but a
scenario that size is better refused before anything is asserted, with a limit that says what to do. Every
evaluation and incremental session therefore passes `admit` first: the flows and entries are counted against the engine's `SizeLimits`, and the run is given
the limit of engine facts that its fact ids are counted against (base facts before the core sees any, findings as
they are derived) and the limit of firings its report may hold.
"""

from __future__ import annotations

from typing import Any

from nea_policy.engine.run import Run
from nea_policy.errors import Problem, ScenarioError
from nea_policy.model.limits import DEFAULT_LIMITS, SizeLimits


# The engine is typed Any: engine.py calls admit, and the import checker counts TYPE_CHECKING imports as cycles.
def engine_limits(engine: Any) -> SizeLimits:
    """The size limits an engine runs under: its `limits` attribute (set by `nea_policy.Engine(limits=...)`), or the defaults."""
    limits = getattr(engine, "limits", None)
    return limits if isinstance(limits, SizeLimits) else DEFAULT_LIMITS


def admit(engine: Any, run: Run, facts: list[dict[str, Any]]) -> None:
    """Refuse facts over the engine's limits before they reach durable_rules; give the run its limit of engine facts."""
    limits = engine_limits(engine)
    run.limit = limits.max_facts
    run.firing_limit = limits.max_firings
    problems: list[Problem] = []
    flows = sum(1 for fact in facts if fact.get("t") == "flow")
    if flows > limits.max_flows:
        problems.append(Problem("too_many_flows", f"the scenario has {flows:,} flows, over the limit of {limits.max_flows:,}", "scenario", "split it into smaller scenarios, or raise the limit with --limit flows=N"))
    if len(facts) > limits.max_entries:
        problems.append(Problem("too_many_entries", f"the scenario has {len(facts):,} entries, over the limit of {limits.max_entries:,}", "scenario", "split it into smaller scenarios, or raise the limit with --limit entries=N"))
    if problems:
        raise ScenarioError(problems)


__all__ = ["admit", "engine_limits"]
