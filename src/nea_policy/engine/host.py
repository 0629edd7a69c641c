"""nea-policy's own host for durable_rules' C core: one ruleset, and its sessions' facts asserted, retracted and fired.

durable_rules (MIT, 2.0.28, its newest release, from 2020) is a Python layer over a C Rete core. nea-policy keeps
only the C core, vendored with fixes (vendor/durable_rules/PATCHES.md) and built as `nea_policy.engine._durable_core`,
and talks to it here: the Python layer's hosts, timer threads, promises and per-firing JSON round trips are not
used. `RulesetHost.fire` runs every pending action of a session in one call of the core (`fire_actions`, added by
nea-policy) and answers, per firing, the rule's name and the ids of the facts it matched; the engine maps the ids
back to the facts it asserted.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from nea_policy.errors import EvaluationError

try:
    from nea_policy.engine import _durable_core as core
except ImportError as error:  # pragma: no cover - only a broken installation gets here
    raise EvaluationError(
        f"nea-policy's C extension (nea_policy.engine._durable_core, the durable_rules Rete core) could not be loaded: {error}",
        code="engine_unavailable",
        hint="reinstall nea-policy from source with a C compiler available: pip install --force-reinstall --no-cache-dir .",
    ) from None

# What the core answers for a batch of facts: all handled; some fact matched no rule (harmless: nothing reads
# it); some fact was already in the session (an id seen twice).
HANDLED, UNMATCHED, DUPLICATE = 0, 1, 2

#: A firing as the core reports it: the compiled rule's name and (alias, fact id) per matched fact.
RawFiring = tuple[str, tuple[tuple[str, str], ...]]


def dumps(payload: Any) -> str:
    """Facts as the JSON text the core reads (compact UTF-8; orjson writes it some 20 times faster than json)."""
    return orjson.dumps(payload).decode()


class RulesetHost:
    """One compiled ruleset registered with the C core, and the calls the engine makes on its sessions.

    The core never frees a ruleset (its delete_ruleset leaks), so an engine registers its ruleset once and keeps it.
    """

    def __init__(self, name: str, definition: dict[str, Any]) -> None:
        try:
            self.handle: int = core.create_ruleset(name, dumps(definition))
        except MemoryError:
            raise EvaluationError("the rules do not fit in memory", code="engine_out_of_memory") from None
        except core.error as error:
            raise EvaluationError(f"durable_rules could not create the ruleset: {error}", code="engine_refused") from None

    def assert_facts(self, facts: list[dict[str, Any]]) -> int:
        """Assert facts into their session (their `sid`) without firing; the session's state offset, for `fire`."""
        return self._submit(core.assert_facts, dumps(facts))

    def assert_text(self, text: str) -> int:
        """Assert facts given as their JSON text (an array, or one object): what `dumps` made, kept to retract them."""
        return self._submit(core.assert_facts, text)

    def retract_text(self, text: str) -> int:
        """Retract facts given as the JSON text they were asserted with."""
        return self._submit(core.retract_facts, text)

    def assert_fact(self, fact: dict[str, Any]) -> int:
        """Assert one fact (see assert_facts)."""
        return self._submit(core.assert_fact, dumps(fact))

    def retract_facts(self, facts: list[dict[str, Any]]) -> int:
        """Retract facts, each given exactly as it was asserted; the session's state offset."""
        return self._submit(core.retract_facts, dumps(facts))

    def retract_fact(self, fact: dict[str, Any]) -> int:
        """Retract one fact (see retract_facts)."""
        return self._submit(core.retract_fact, dumps(fact))

    def fire(self, state_offset: int) -> list[RawFiring]:
        """Run every action pending in the session, in the core's order; each firing's rule name and matched fact ids."""
        try:
            return core.fire_actions(self.handle, state_offset)  # type: ignore[no-any-return]
        except MemoryError:
            raise EvaluationError("the engine ran out of memory while firing rules; evaluate a smaller scenario", code="engine_out_of_memory") from None
        except core.error as error:
            raise EvaluationError(f"durable_rules failed while firing rules: {error}", code="engine_failed") from None

    def facts(self, sid: str) -> list[dict[str, Any]]:
        """The facts in a session (a durable_rules error 309 when the session does not exist)."""
        return json.loads(core.get_facts(self.handle, sid))  # type: ignore[no-any-return]

    def state(self, sid: str) -> dict[str, Any]:
        """A session's state fact (a durable_rules error 309 when the session does not exist)."""
        return json.loads(core.get_state(self.handle, sid))  # type: ignore[no-any-return]

    def _submit(self, call: Any, text: str) -> int:
        try:
            code, state_offset = call(self.handle, text)
        except MemoryError:
            raise EvaluationError("the engine ran out of memory; evaluate a smaller scenario", code="engine_out_of_memory") from None
        except core.error as error:  # the extension's own error type, with durable_rules' numeric code
            raise EvaluationError(f"durable_rules refused the facts: {error}", code="engine_refused") from None
        if code == DUPLICATE:
            raise EvaluationError("durable_rules saw the same fact twice in one evaluation", code="duplicate_fact")
        return int(state_offset)


__all__ = ["DUPLICATE", "HANDLED", "UNMATCHED", "RawFiring", "RulesetHost", "core", "dumps"]
