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
from nea_policy.language.compiler import STRATUM_TYPE, CompiledRuleSet, fields_read
from nea_policy.language.conditions import FieldRef, iter_comparisons
from nea_policy.language.rules import Rule
from nea_policy.model.fact_types import FINDING, count_field

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
        self.gated = {c.name: c.stratum for c in engine.compiled.rules if c.rule.absences}
        self.strata = tuple(engine.compiled.strata)
        # Per engine fact type, the fields each gated stratum's absences may read (through the findings they negate).
        self.depends = stratum_dependencies(engine.compiled)
        self.meta: list[_Meta] = []
        self.started = False
        # The markers never change, nor (for a given version) the facts: their JSON text is made once. A text is
        # kept by the id of the version it encodes, with the version itself so that the id cannot be reused.
        self.marker_texts = [dumps(marker) for marker in self.markers]
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
        # The markers of the strata whose absences the change may decide otherwise go out first (dropping their gated
        # firings), then the findings left without support, then the changed facts: each group in one call, as
        # nothing those markers gate can fire while they are out. The other gated firings stay: what they negate
        # is unchanged, and those resting on a changed fact are dropped with it and fire again with its new version.
        cycled = [index for index, stratum in enumerate(self.strata) if self._affected(stratum, changed, new)]
        if cycled:
            self._call(self.host.retract_text, "[" + ",".join(self.marker_texts[index] for index in reversed(cycled)) + "]")
        dropped_ids = {self._engine_id(i) for i in changed} | {self.markers[index]["id"] for index in cycled}
        retracted = self._drop(dropped_ids, {self.strata[index] for index in cycled})
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
        for index in cycled:
            self._call(self.host.assert_text, self.marker_texts[index])

    def _affected(self, stratum: int, changed: list[str], new: dict[str, dict[str, Any]]) -> bool:
        """Whether changing these facts (old versions to new, added or removed) may change an absence the stratum's rules test."""
        reads = self.depends.get(stratum, {})
        for fact_id in changed:
            before, after = self.versions.get(fact_id), new.get(fact_id)
            type_name = (after or before or {}).get("t")
            fields = reads.get(type_name)  # type: ignore[arg-type]
            if not fields:
                continue
            if before is None or after is None:
                return True  # a fact that appears or goes: whatever the absence tests of its type
            if any(before.get(name) != after.get(name) for name in fields):
                return True
        return False

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
            append(_Meta(firing, frozenset([f["id"] for f in firing.matched.values()]), self._finding_key(firing), compiled.rule.kind, gated.get(compiled.name)))

    def _drop(self, dropped_ids: set[str], strata: set[int]) -> list[tuple[str, str]]:
        """Drop the firings that rest on dropped facts, and those gated by the strata's markers; the findings left without support, in order."""
        self._sync()
        retracted: list[tuple[str, str]] = []
        live = self.meta
        while True:
            live = [m for m in live if not (m.ids & dropped_ids) and (m.stratum is None or m.stratum not in strata)]
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
    """A live firing as the session indexes it: the facts it matched (ids), what it concludes about, the stratum that gates it (None: not gated)."""

    __slots__ = ("firing", "ids", "key", "kind", "stratum")

    def __init__(self, firing: Firing, ids: frozenset[str], key: tuple[str, str], kind: str, stratum: int | None) -> None:
        self.firing = firing
        self.ids = ids
        self.key = key
        self.kind = kind
        self.stratum = stratum


def stratum_dependencies(compiled: CompiledRuleSet) -> dict[int, dict[str, frozenset[str]]]:
    """Per gated stratum, per engine fact type, the fields whose change may change an absence its rules test.

    An absence of a fact type reads that type's fields its conditions name (and its key); an absence of a finding
    reads whatever the rules that conclude the finding read, and, through the findings those rules need or negate,
    what theirs read, down to the facts. The fields a gated rule's own patterns read do not count: a firing
    resting on a changed fact is dropped with it and fires again when the new version arrives.
    """
    producers: dict[str, list[Rule]] = {}
    for rule in {c.rule.id: c.rule for c in compiled.rules}.values():
        if rule.kind == "finding":
            producers.setdefault(rule.concludes, []).append(rule)
    closure: dict[str, dict[str, set[str]]] = {}

    def reads_of(finding: str, seen: frozenset[str] = frozenset()) -> dict[str, set[str]]:
        if finding in closure:
            return closure[finding]
        found: dict[str, set[str]] = {}
        for rule in producers.get(finding, []):
            for type_name, names in fields_read(_OneRule(rule)).items():
                found.setdefault(type_name, set()).update(names)
            for other in rule.needed_findings() | rule.negated_findings():
                if other not in seen and other != finding:
                    for type_name, names in reads_of(other, seen | {finding}).items():
                        found.setdefault(type_name, set()).update(names)
        if not seen:
            closure[finding] = found
        return found

    depends: dict[int, dict[str, set[str]]] = {}
    for c in compiled.rules:
        for absence in c.rule.absences:
            into = depends.setdefault(c.stratum, {})
            if absence.finding:
                for type_name, names in reads_of(absence.finding).items():
                    into.setdefault(type_name, set()).update(names)
            else:
                names = into.setdefault(absence.fact_type, set())
                names.add("key")
                for comparison in iter_comparisons(absence.conditions):
                    for ref in (comparison.left, comparison.right):
                        if isinstance(ref, FieldRef) and ref.alias == absence.alias:
                            names.add(ref.field)
                            if comparison.op == "not contains":
                                names.add(count_field(ref.field))
    return {stratum: {type_name: frozenset(names) for type_name, names in by_type.items()} for stratum, by_type in depends.items()}


class _OneRule:
    """A rule set of one rule, for fields_read."""

    def __init__(self, rule: Rule) -> None:
        self.rules = (rule,)


__all__ = ["Session"]
