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



@dataclass
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
    errors: list[BaseException] = field(default_factory=list)
    asserted: list[dict[str, Any]] = field(default_factory=list)
    markers: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    ids: Any = field(default_factory=itertools.count)
    #: The configured limit of engine facts (`SizeLimits.max_facts`, set by `admission.admit`); FACT_IDS bounds it.
    limit: int | None = None

    def new_id(self) -> str:
        """A fact id whose durable_rules hash no other fact of this evaluation shares (see FACT_IDS)."""
        number = next(self.ids)
        bound = FACT_IDS if self.limit is None else min(self.limit, FACT_IDS)
        if number >= bound:
            raise EvaluationError(
                f"the scenario needs more than {bound:,} engine facts (its facts, the findings derived and stratum markers)",
                code="too_many_facts",
                hint="split it into smaller scenarios" + (f", or raise the limit with --limit facts=N (at most {FACT_IDS:,})" if bound < FACT_IDS else ""),
            )
        return str(number)
