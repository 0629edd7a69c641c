"""An incremental session: one durable_rules session moved from one set of base facts to the next.

From one set of facts to the next, the facts that change are retracted and their new versions asserted, so that
Rete re-fires only what the change touches (sweeps walk their grid this way). durable_rules has no truth
maintenance, so the session keeps it itself:
- every firing remembers the facts it matched (by id); a firing that matched a changed fact is dropped;
- a finding fact is retracted once no live firing supports it, which drops the firings that matched it (to a fixpoint);
- stratified negation: `none()` only sees what exists when the positive fact arrives, and a negating fact arriving
  later does not cancel a firing. So before each change the stratum markers are retracted (dropping every gated
  firing and what rests on it) and after it they are asserted again in order, exactly as `Engine.fire` does:
  each absence is decided afresh against the complete lower strata.
After each `evaluate`, the firings (and so the recommendations) equal those of an isolated evaluation of the same
facts (tests check every point of several sweeps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nea_policy.engine.admission import admit
from nea_policy.engine.host import dumps
from nea_policy.engine.run import Firing, Run
from nea_policy.language.compiler import STRATUM_TYPE
from nea_policy.model.fact_types import FINDING

if TYPE_CHECKING:
    from nea_policy.engine.engine import Engine


class Session:
    """One live durable_rules session moved from one set of base facts to the next (see the module docstring).

    Use it as a context manager: it holds the engine for its lifetime and leaves the engine's session empty.

    Facts are known here by their scenario id (`flow:kp-to-cn`) and in durable_rules by the id the engine issues
    (`Run.new_id`: ids whose 32-bit hashes cannot collide); a fact keeps its engine id through its versions.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The engine's own session (emptied after each evaluation): one live session per ruleset at a time, as
        # sessions are found by a 32-bit hash of the sid.
        self.run = Run(sid=engine._sid)
        self.engine_ids: dict[str, str] = {}
        self.versions: dict[str, dict[str, Any]] = {}  # scenario id -> the fact as the grid gave it
        self.facts: dict[str, dict[str, Any]] = {}  # scenario id -> the fact as asserted
        self.findings: dict[tuple[str, str], dict[str, Any]] = {}  # the finding facts the actions asserted
        self.host = engine._host
        self.markers = [
            {"id": self._engine_id(f"{STRATUM_TYPE}:{s}"), "t": STRATUM_TYPE, "level": s, "sid": self.run.sid} for s in engine.compiled.strata
        ]
        self.gated = {c.name for c in engine.compiled.rules if c.rule.absences}
        self.meta: list[_Meta] = []
        self.started = False
        # The markers never change, nor (for a given version) the facts: their JSON text is made once. A text is
        # kept by the id of the version it encodes, with the version itself so that the id cannot be reused.
        self.marker_texts = [dumps(marker) for marker in self.markers]
        self.markers_out = dumps(list(reversed(self.markers)))
        self.texts: dict[int, tuple[dict[str, Any], str]] = {}

    def _engine_id(self, scenario_id: str) -> str:
        if scenario_id not in self.engine_ids:
            self.engine_ids[scenario_id] = self.run.new_id()
        return self.engine_ids[scenario_id]

    def _asserted(self, fact: dict[str, Any]) -> dict[str, Any]:
        asserted = {**fact, "id": self._engine_id(fact["id"]), "sid": self.run.sid}
        self.run.facts[asserted["id"]] = asserted
        return asserted

    def __enter__(self) -> Session:
        self.engine._lock.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self._empty()
        finally:
            self.engine._lock.release()

    def _empty(self) -> None:
        """Leave the session empty: markers first (no negated rule fires while facts go), then findings, then facts.

        Retracting rather than delete_state: the engine found delete_state corrupting durable_rules' memory for
        some rule shapes.
        """
        if not self.started:
            return
        self._sync_findings()
        for fact in [*reversed(self.markers), *self.findings.values(), *self.facts.values()]:
            try:
                self.host.retract_fact(fact)
            except Exception:  # noqa: BLE001 - a fact a failed step never stored
                pass
        if self.engine._session_facts(self.run.sid):
            # Something stayed behind: the engine must not meet it in its next evaluation.
            self.engine._sid = f"s{next(self.engine._sids)}"

    def _call(self, call: Any, payload: Any) -> None:
        self.engine._submit(self.run, call, payload)

    def evaluate(self, facts: list[dict[str, Any]]) -> set[tuple[str, str]]:
        """Move the session to these base facts; the (recommendation id, subject) pairs that hold there."""
        if not self.started:
            self._start(facts)
        else:
            self._change(facts)
        # The session retracts fact by fact (its facts change version by version), never by batch.
        self.run.batches.clear()
        return self.holding()

    def _start(self, facts: list[dict[str, Any]]) -> None:
        admit(self.engine, self.run, facts)
        self.started = True
        self.versions = {f["id"]: f for f in facts}
        self.facts = {f["id"]: self._asserted(f) for f in facts}
        if self.facts:
            self._call(self.host.assert_facts, list(self.facts.values()))
        for marker in self.markers:
            self._call(self.host.assert_fact, marker)

    def _change(self, facts: list[dict[str, Any]]) -> None:
        new = {f["id"]: f for f in facts}
        changed = [i for i, f in new.items() if self.versions.get(i) != f] + [i for i in self.versions if i not in new]
        if not changed:
            return
        # Markers first (dropping every gated firing), then the findings left without support, then the changed
        # facts: each group in one call, as nothing can fire while the markers are out.
        self._call(self.host.retract_text, self.markers_out)
        dropped_ids = {self._engine_id(i) for i in changed} | {m["id"] for m in self.markers}
        retracted = self._drop(dropped_ids)
        if retracted:
            findings = [self.findings.pop(key) for key in retracted]
            self._call(self.host.retract_facts, findings)
            for key, finding in zip(retracted, findings):
                self.run.facts.pop(finding["id"], None)
                self.run.asserted_findings.discard(key)
        old = [self._text(self.versions[i]) for i in changed if i in self.facts]
        if old:
            self._call(self.host.retract_text, f"[{','.join(old)}]")
        for fact_id in changed:
            self.facts.pop(fact_id, None)
            self.versions.pop(fact_id, None)
        fresh = []
        for fact_id in changed:
            if fact_id in new:
                self.versions[fact_id] = new[fact_id]
                self.facts[fact_id] = self._asserted(new[fact_id])
                fresh.append(self._text(new[fact_id]))
        if fresh:
            self._call(self.host.assert_text, f"[{','.join(fresh)}]")
        for text in self.marker_texts:
            self._call(self.host.assert_text, text)

    def _text(self, version: dict[str, Any]) -> str:
        """The JSON text of a version of a fact as this session asserts it (with its engine id and the sid)."""
        known = self.texts.get(id(version))
        if known is None:
            known = self.texts[id(version)] = (version, dumps(self.facts.get(version["id"]) or self._asserted(version)))
        return known[1]

    def _sync_findings(self) -> None:
        """Take over the finding facts the actions asserted (exactly as asserted: retracting needs the same fact)."""
        for finding in self.run.findings:
            self.findings[(finding["finding"], finding["subject"])] = finding
        self.run.findings.clear()

    def _sync(self) -> None:
        """Index the firings made since the last step: the fact ids each matched, what it concludes about, gated or not."""
        self._sync_findings()
        append = self.meta.append
        gated = self.gated
        for firing in self.run.firings[len(self.meta) :]:
            compiled = firing.compiled
            append(_Meta(firing, frozenset([f["id"] for f in firing.matched.values()]), self._finding_key(firing), compiled.rule.kind, compiled.name in gated))

    def _drop(self, dropped_ids: set[str]) -> list[tuple[str, str]]:
        """Drop the firings that rest on dropped facts (gated firings too); the findings left without support, in order."""
        self._sync()
        retracted: list[tuple[str, str]] = []
        live = self.meta
        while True:
            live = [m for m in live if not m.gated and not (m.ids & dropped_ids)]
            supported = {m.key for m in live if m.kind == "finding"}
            lost = sorted(k for k in self.run.asserted_findings if k not in supported and k not in retracted)
            if not lost:
                break
            retracted += lost
            dropped_ids |= {str(self.findings[k]["id"]) for k in lost}
        self.meta = live
        self.run.firings = [m.firing for m in live]
        return retracted

    def _finding_key(self, firing: Firing) -> tuple[str, str]:
        subject = firing.matched[firing.compiled.rule.subject]
        return (firing.compiled.rule.concludes, str(subject["key"] if subject["t"] != FINDING else subject["subject"]))

    def holding(self) -> set[tuple[str, str]]:
        """(recommendation id, subject) pairs of the live firings."""
        self._sync()
        return {meta.key for meta in self.meta if meta.kind == "recommendation"}

    def firings(self) -> list[Firing]:
        """The firings that hold at the current facts (each with the rule and the facts it matched)."""
        self._sync()
        return [meta.firing for meta in self.meta]


class _Meta:
    """A live firing as the session indexes it: the facts it matched (ids), what it concludes about, gated or not."""

    __slots__ = ("firing", "ids", "key", "kind", "gated")

    def __init__(self, firing: Firing, ids: frozenset[str], key: tuple[str, str], kind: str, gated: bool) -> None:
        self.firing = firing
        self.ids = ids
        self.key = key
        self.kind = kind
        self.gated = gated


__all__ = ["Session"]
