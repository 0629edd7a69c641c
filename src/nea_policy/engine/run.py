"""What one evaluation (or incremental session) has seen: its firings, the facts it asserted, the ids it issued."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from nea_policy.errors import EvaluationError
from nea_policy.language.compiler import CompiledRule

# durable_rules finds a session's facts by a 32-bit FNV-1a hash of their id and compares nothing else: two
# facts whose ids collide are "the same fact" (readable ids like 'flow:bqeacx' and 'flow:pukvlgvgj' do). The
# engine numbers its facts instead: the decimal strings 0 .. FACT_IDS-1 have pairwise different hashes, none
# equal to that of a session's own state fact ('sid-s1' .. 'sid-s100000'); checked exhaustively, and again by
# tests/test_isolation.py.
FACT_IDS = 797_186



@dataclass(slots=True)
class Firing:
    """One firing of a compiled rule: the rule, and the facts it matched by alias (stratum markers left out)."""

    compiled: CompiledRule
    matched: dict[str, dict[str, Any]]


@dataclass
class Run:
    """What one evaluation has seen so far (the engine holds its lock while this is live)."""

    sid: str
    firings: list[Firing] = field(default_factory=list)
    asserted_findings: set[tuple[str, str]] = field(default_factory=set)
    asserted: list[dict[str, Any]] = field(default_factory=list)
    markers: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    # Each batch asserted (base facts, findings of a round, a marker) as (its JSON text, its facts), in order: the
    # same text retracts it, with no second serialization.
    batches: list[tuple[str, str, list[dict[str, Any]]]] = field(default_factory=list)
    # Every fact in the session by its engine id (base facts, markers and findings), as asserted: the core reports
    # a firing's matched facts by id.
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: Any = field(default_factory=itertools.count)

    def new_id(self) -> str:
        """A fact id whose durable_rules hash no other fact of this evaluation shares (see FACT_IDS)."""
        number = next(self.ids)
        if number >= FACT_IDS:
            raise EvaluationError(
                f"the scenario needs more than {FACT_IDS:,} engine facts (facts and findings); split it into smaller scenarios",
                code="too_many_facts",
            )
        return str(number)
