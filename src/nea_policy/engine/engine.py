"""The Engine: owns one compiled rule set on durable_rules' C core (through its own host) and evaluates scenarios, one at a time."""

from __future__ import annotations

import copy
import gc
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nea_policy.engine.admission import admit
from nea_policy.engine.host import RulesetHost, dumps
from nea_policy.engine.report_builder import ReportBuilder, rule_plans
from nea_policy.engine.run import Firing, Run
from nea_policy.errors import EvaluationError, NeaPolicyError
from nea_policy.language.compiler import STRATUM_ALIAS, STRATUM_TYPE, CompiledRule, CompiledRuleSet, compile_ruleset
from nea_policy.language.rules import Rule, RuleSet, load_ruleset
from nea_policy.model.fact_types import BASE_TYPES, FINDING, FactEncoder
from nea_policy.model.facts import Scenario, load_scenario
from nea_policy.model.report import Report


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one evaluation, if it is on.

    An evaluation allocates many small objects that live until it ends (facts, firings, the report); each automatic
    collection then walks all of them again, so large scenarios took quadratic time (report building 2.4x slower at
    5,000 flows). What an evaluation leaves behind is freed by reference counting; the collector resumes right after
    for anything cyclic. Only the evaluation that disabled it re-enables it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Engine:
    """Loads and compiles rules once; `evaluate` turns a scenario into a Report. Thread-safe; evaluations are isolated."""

    def __init__(self, rules: list[str | Path] | None = None, extra_rules: list[str | Path] | None = None, *, ruleset: RuleSet | None = None) -> None:
        self.ruleset: RuleSet = ruleset if ruleset is not None else load_ruleset(rules, extra_rules)
        self.compiled: CompiledRuleSet = compile_ruleset(self.ruleset)
        self._host = RulesetHost(self.compiled.name, self.compiled.definition()[self.compiled.name])
        # Per compiled rule (by its durable_rules name): the rule, and what a firing concludes when some rule reads
        # the finding back (the finding fact is then asserted, which is how findings chain).
        self._firing_plans: dict[str, tuple[CompiledRule, str | None, str]] = {
            c.name: (c, c.rule.concludes if c.rule.kind == "finding" and c.rule.concludes in self.compiled.consumed_findings else None, c.rule.subject)
            for c in self.compiled.rules
        }
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        # One session, emptied after each evaluation (see _clear); one live sid per ruleset at a time.
        self._sid = f"s{next(self._sids)}"
        self._asserted_types = tuple(t for t in BASE_TYPES if t in self.compiled.fields_read)
        self._encoder = FactEncoder({t: self.compiled.fields_read[t] for t in self._asserted_types})
        # What the report needs of each rule, worked out once instead of at every firing.
        self._plans = rule_plans(self.ruleset)

    def definition(self) -> dict[str, Any]:
        """The compiled durable_rules definition (for debugging and benchmarking)."""
        return copy.deepcopy(self.compiled.definition())

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules this engine runs."""
        return self.ruleset.rules

    def evaluate(self, scenario: Scenario | dict[str, Any] | str | Path) -> Report:
        """Evaluate one scenario (a Scenario, a dict, or a path to a fact file) into a Report."""
        try:
            with gc_paused():
                # In a function of its own: its facts and firings are freed before the collector resumes, so the one
                # collection that follows walks the report only.
                return self._evaluate(scenario)
        except MemoryError:
            # What failed was one large allocation; what it held is freed by now, so the error can be raised.
            raise EvaluationError("the evaluation ran out of memory; evaluate a smaller scenario or give the process more memory", code="out_of_memory") from None

    def _evaluate(self, scenario: Scenario | dict[str, Any] | str | Path) -> Report:
        model = load_scenario(scenario)
        return ReportBuilder(self.ruleset, self._plans, model, self.fire(self.facts_of(model))).build()

    @property
    def asserted_types(self) -> tuple[str, ...]:
        """The fact types some compiled rule matches (facts of other types are never asserted)."""
        return self._asserted_types

    def facts_of(self, scenario: Scenario) -> list[dict[str, Any]]:
        """The engine facts of a scenario that the rules can match, with the fields they read (fresh dicts: firing gives them ids)."""
        return self._encoder.encode(scenario)

    def fire(self, facts: list[dict[str, Any]]) -> list[Firing]:
        """Run the rules over these base facts in an empty session, to the end; every firing, in firing order."""
        with self._lock:
            return self._fire(facts)

    # --- running durable_rules' core ------------------------------------------------------------

    def _fire(self, facts: list[dict[str, Any]]) -> list[Firing]:
        run = Run(sid=self._sid)
        admit(self, run, facts)
        failed = True
        try:
            for fact in facts:
                fact["id"] = run.new_id()
                fact["sid"] = run.sid
                run.facts[fact["id"]] = fact
            if facts:
                self._drain(run, self._assert_batch(run, "base", facts))
            for stratum in self.compiled.strata:
                marker = {"id": run.new_id(), "t": STRATUM_TYPE, "level": stratum, "sid": run.sid}
                self._drain(run, self._assert_batch(run, "marker", [marker]))
            failed = False
            return run.firings
        finally:
            self._clear(run, check=failed)

    def _drain(self, run: Run, state_offset: int) -> None:
        """Fire everything pending in the run's session, then the findings those firings assert, to a fixpoint.

        Each call of the core fires every pending action; the findings they conclude (those some rule reads) are
        asserted back in one batch, and what they make pending is fired in the next round. Stratified negation
        is unaffected: a gated rule fires only once its stratum marker is asserted, after this returns for the
        stratum below.
        """
        plans = self._firing_plans
        facts = run.facts
        firings = run.firings
        while True:
            raw = self._host.fire(state_offset)
            if not raw:
                return
            run.admit_firings(len(raw))
            new: list[dict[str, Any]] = []
            try:
                for name, pairs in raw:
                    compiled, concludes, subject_alias = plans[name]
                    matched = {alias: facts[fact_id] for alias, fact_id in pairs if alias != STRATUM_ALIAS}
                    firings.append(Firing(compiled, matched))
                    if concludes is not None:
                        subject = matched[subject_alias]
                        subject_type = subject["t"]
                        key = (concludes, str(subject["subject"] if subject_type == FINDING else subject["key"]))
                        if key not in run.asserted_findings:
                            run.asserted_findings.add(key)
                            finding = {"id": run.new_id(), "t": FINDING, "finding": key[0], "subject": key[1], "subject_type": subject_type, "sid": run.sid}
                            facts[finding["id"]] = finding
                            run.findings.append(finding)
                            new.append(finding)
            except NeaPolicyError:
                raise
            except Exception as error:  # noqa: BLE001 - whatever failed, the evaluation is lost: one clear error
                raise EvaluationError(f"a rule action failed: {type(error).__name__}: {error}", code="action_failed") from error
            if not new:
                return
            state_offset = self._assert_batch(run, "findings", new)

    def _assert_batch(self, run: Run, kind: str, facts: list[dict[str, Any]]) -> int:
        text = dumps(facts)
        run.batches.append((kind, text, facts))
        return self._host.assert_text(text)

    def _submit(self, run: Run, call: Any, payload: Any) -> None:
        """Assert or retract through the host (`call` is one of its methods), then fire what that made pending."""
        self._drain(run, call(payload))

    def _clear(self, run: Run, *, check: bool) -> None:
        """Empty the session by retracting what this evaluation asserted, markers first.

        durable_rules' delete_state corrupts its memory for some rule shapes (crashes seen here within a few
        evaluations with `$iany` conditions and with patterns joined to two earlier ones), so the engine keeps one
        session and retracts instead. Retracting the stratum markers first keeps negated rules from firing
        while the facts they negate go away; nothing is fired during the retraction.
        """
        order = {"marker": 0, "findings": 1, "base": 2}
        for _, text, facts in sorted(reversed(run.batches), key=lambda batch: order[batch[0]]):
            try:
                self._host.retract_text(text)
            except Exception:  # noqa: BLE001 - some facts of a failed evaluation were never stored
                for fact in facts:
                    try:
                        self._host.retract_fact(fact)
                    except Exception:  # noqa: BLE001
                        pass
        if check and self._session_facts(run.sid):
            # Something could not be retracted: leave that session behind and start a clean one.
            self._sid = f"s{next(self._sids)}"

    def _session_facts(self, sid: str) -> list[dict[str, Any]]:
        """The facts left in a session (none when the session was never created)."""
        try:
            return self._host.facts(sid)
        except Exception as error:  # noqa: BLE001 - durable_rules' own error type; 309: no such session
            if "309" in str(error):
                return []
            raise
