"""Size limits of what nea-policy reads and evaluates: values in a document, flows and entries of a scenario, engine facts
and firings.

They keep time and memory bounded for any input: durable_rules' C core does not check all of its allocations, so
a scenario too large for the memory at hand must be refused before it reaches the core, not crash inside it. The
defaults fit a 2 GB address space with room to spare. Measured: 10,000 flows of the examples' density (115,000
firings) take about 1.2 GB and 7 s to evaluate; 4,600 flows with every level at severe (138,000 firings) took 1.7 GB,
which the firing limit now stops at 100,000. Raise them with `SizeLimits(...)` in Python or `--limit NAME=N`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nea_policy.errors import InputError, Problem

#: Collections of a scenario, whose entries count against max_entries.
ENTRY_KINDS = ("countries", "regions", "relations", "agreements", "flows")


class SizeLimits(BaseModel):
    """How large an input may be: values in one document, flows and entries of a scenario, facts and firings in the engine."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_nodes: int = Field(200_000, ge=1, description="values in one parsed document, YAML aliases and merges expanded")
    max_flows: int = Field(10_000, ge=1, description="flows in one scenario")
    max_entries: int = Field(30_000, ge=1, description="entries of one scenario: countries, regions, relations, agreements and flows")
    max_facts: int = Field(200_000, ge=1, description="facts durable_rules holds in one evaluation: the scenario's, the findings derived and stratum markers")
    max_firings: int = Field(100_000, ge=1, description="rule firings one evaluation may make (the report holds each: about 10 KB)")


DEFAULT_LIMITS = SizeLimits()

#: `--limit NAME=N`: the names and the field each sets.
LIMIT_NAMES: dict[str, str] = {"nodes": "max_nodes", "flows": "max_flows", "entries": "max_entries", "facts": "max_facts", "firings": "max_firings"}


def parse_limits(items: Iterable[str], base: SizeLimits = DEFAULT_LIMITS) -> SizeLimits:
    """`NAME=N` settings (from `--limit`) over base; every bad one reported at once."""
    values: dict[str, int] = {}
    problems: list[Problem] = []
    for item in items:
        name, _, number = item.partition("=")
        name = name.strip().lower()
        field = LIMIT_NAMES.get(name)
        digits = number.strip().replace("_", "").replace(",", "")
        if field is None:
            problems.append(Problem("bad_limit", f"{item!r}: no limit named {name!r}; limits: {', '.join(LIMIT_NAMES)}", "--limit", "write e.g. --limit flows=50000"))
        elif not (digits.isascii() and digits.isdigit()) or len(digits) > 12 or int(digits) < 1:
            problems.append(Problem("bad_limit", f"{item!r}: {number.strip()[:40]!r} is not a whole number from 1 to 999,999,999,999", "--limit", "write e.g. --limit flows=50000"))
        else:
            values[field] = int(digits)
    if problems:
        raise InputError(problems)
    return base.model_copy(update=values)


def size_problems(data: Any, limits: SizeLimits, locate: Callable[[tuple[str | int, ...]], str]) -> list[Problem]:
    """Problems with the size of a scenario's data (before it is validated, so that a huge one costs little)."""
    if not isinstance(data, dict):
        return []
    problems: list[Problem] = []
    counts = {kind: len(data[kind]) for kind in ENTRY_KINDS if isinstance(data.get(kind), list)}
    flows = counts.get("flows", 0)
    if flows > limits.max_flows:
        problems.append(
            Problem(
                "too_many_flows",
                f"the scenario has {flows:,} flows, over the limit of {limits.max_flows:,}",
                locate(("flows",)),
                "split it into smaller scenarios, or raise the limit with --limit flows=N",
            )
        )
    entries = sum(counts.values())
    if entries > limits.max_entries:
        problems.append(
            Problem(
                "too_many_entries",
                f"the scenario has {entries:,} entries ({', '.join(f'{n:,} {k}' for k, n in counts.items() if n)}), over the limit of {limits.max_entries:,}",
                locate(()),
                "split it into smaller scenarios, or raise the limit with --limit entries=N",
            )
        )
    return problems


__all__ = ["DEFAULT_LIMITS", "ENTRY_KINDS", "LIMIT_NAMES", "SizeLimits", "parse_limits", "size_problems"]
