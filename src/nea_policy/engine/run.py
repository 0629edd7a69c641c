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
    # The finding facts asserted since a session last took them over (see Session._sync_findings).
    findings: list[dict[str, Any]] = field(default_factory=list)
    # Each batch asserted (base facts, findings of a round, a marker) as (its JSON text, its facts), in order: the
    # same text retracts it, with no second serialization.
    batches: list[tuple[str, str, list[dict[str, Any]]]] = field(default_factory=list)
    # Every fact in the session by its engine id (base facts, markers and findings), as asserted: the core reports
    # a firing's matched facts by id.
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: Any = field(default_factory=itertools.count)
    #: The configured limit of engine facts (`SizeLimits.max_facts`, set by `admission.admit`); FACT_IDS bounds it.
    limit: int | None = None
    #: The configured limit of rule firings (`SizeLimits.max_firings`, set by `admission.admit`): the report holds every
    #: firing with the facts it matched, so memory grows with them (about 10 KB each, measured: 115,000 firings of
    #: 10,000 flows took 1.2 GB).
    firing_limit: int | None = None

    def admit_firings(self, more: int) -> None:
        """Refuse `more` firings when they would take the run past its limit (checked per round, before any is kept)."""
        if self.firing_limit is not None and len(self.firings) + more > self.firing_limit:
            raise EvaluationError(
                f"the evaluation needs more than {self.firing_limit:,} rule firings (each is kept for the report)",
                code="too_many_firings",
                hint="split the scenario into smaller ones, or raise the limit with --limit firings=N",
            )

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
