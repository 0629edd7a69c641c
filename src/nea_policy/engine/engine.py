"""The Engine: owns one compiled rule set on its own durable_rules host and evaluates scenarios, one at a time."""

from __future__ import annotations

import copy
import gc
import itertools
import json
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nea_policy.engine.admission import admit
from nea_policy.engine.host import Host
from nea_policy.engine.host import core as durable_rules_engine
from nea_policy.engine.report_builder import ReportBuilder, rule_plans
from nea_policy.engine.run import Firing, Run
from nea_policy.errors import EvaluationError, NeaPolicyError
from nea_policy.language.compiler import (
    STRATUM_ALIAS,
    STRATUM_TYPE,
    CompiledRule,
    CompiledRuleSet,
    compile_ruleset,
    uses_type,
)
from nea_policy.language.rules import Rule, RuleSet, load_ruleset
from nea_policy.model.fact_types import BASE_TYPES, FINDING, encode_scenario
from nea_policy.model.facts import Scenario, load_scenario
from nea_policy.model.report import Report

# durable_rules calls datetime.utcfromtimestamp at every firing; on Python 3.12+ that warns each time.
warnings.filterwarnings("ignore", message=r"datetime\.datetime\.utcfromtimestamp\(\) is deprecated", category=DeprecationWarning, module="durable")

# The engine's return codes of a batch assert: 0 all handled, 1 some fact matched no rule (harmless here).
_HANDLED, _UNMATCHED, _DUPLICATE = 0, 1, 2

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


class _QuietHost(Host):
    """A durable_rules host without its timer threads: nothing fires behind our back, all firings are synchronous."""

    def _run(self) -> None:  # noqa: D401 - overriding the library's timer start-up
        return None


class _SyncAction:
    """Runs an engine action as durable_rules' Promise does for a one-parameter function, minus its timeout closure.

    Promise.run defines a self-referencing `timeout` function at every firing, which makes each firing's Closure,
    Content and callbacks cyclic garbage (929 objects per evaluation of the region example) for the collector.
    """

    __slots__ = ("_func",)

    def __init__(self, func: Any) -> None:
        self._func = func

    def run(self, c: Any, complete: Any) -> None:
        """Call the action; like Promise, an exception is recorded in the session state, then the firing completes."""
        try:
            self._func(c)
        except BaseException as error:  # noqa: BLE001 - the engine's actions catch their own errors; parity with Promise
            c.s.exception = f"exception caught {error}"
        complete(None)


class Engine:
    """Loads and compiles rules once; `evaluate` turns a scenario into a Report. Thread-safe; evaluations are isolated."""

    def __init__(self, rules: list[str | Path] | None = None, extra_rules: list[str | Path] | None = None, *, ruleset: RuleSet | None = None) -> None:
        self.ruleset: RuleSet = ruleset if ruleset is not None else load_ruleset(rules, extra_rules)
        self.compiled: CompiledRuleSet = compile_ruleset(self.ruleset)
        self._host = _QuietHost()
        definition = self.compiled.definition()
        for compiled in self.compiled.rules:
            definition[self.compiled.name][compiled.name]["run"] = self._action(compiled)
        # register_rulesets mutates what it is given (it removes `run`); definition() builds a fresh dict each call.
        self._host.register_rulesets(definition)
        self._durable = self._host.get_ruleset(self.compiled.name)
        for name, promise in list(self._durable._actions.items()):
            self._durable._actions[name] = _SyncAction(promise._func)
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        # One session, emptied after each evaluation (see _clear); one live sid per ruleset at a time.
        self._sid = f"s{next(self._sids)}"
        self._run: Run | None = None
        self._asserted_types = tuple(t for t in BASE_TYPES if uses_type(self.compiled, t))
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
        with gc_paused():
            # In a function of its own: its facts and firings are freed before the collector resumes, so the one
            # collection that follows walks the report only.
            return self._evaluate(scenario)

    def _evaluate(self, scenario: Scenario | dict[str, Any] | str | Path) -> Report:
        model = load_scenario(scenario)
        return ReportBuilder(self.ruleset, self._plans, model, self.fire(self.facts_of(model))).build()

    @property
    def asserted_types(self) -> tuple[str, ...]:
        """The fact types some compiled rule matches (facts of other types are never asserted)."""
        return self._asserted_types

    def facts_of(self, scenario: Scenario) -> list[dict[str, Any]]:
        """The engine facts of a scenario that the rules can match (fresh dicts: firing gives them ids)."""
        return [f for f in encode_scenario(scenario) if f["t"] in self._asserted_types]

    def fire(self, facts: list[dict[str, Any]]) -> list[Firing]:
        """Run the rules over these base facts in an empty session, to the end; every firing, in firing order."""
        with self._lock:
            return self._fire(facts)

    # --- running durable_rules ---------------------------------------------------------------

    def _fire(self, facts: list[dict[str, Any]]) -> list[Firing]:
        run = Run(sid=self._sid)
        admit(self, run, facts)
        self._run = run
        handle = self._durable._handle
        failed = True
        try:
            for fact in facts:
                fact["id"] = run.new_id()
                fact["sid"] = run.sid
            if facts:
                run.asserted.extend(facts)
                self._assert(durable_rules_engine.assert_facts, handle, facts)
            for stratum in self.compiled.strata:
                marker = {"id": run.new_id(), "t": STRATUM_TYPE, "level": stratum, "sid": run.sid}
                run.markers.append(marker)
                self._assert(durable_rules_engine.assert_fact, handle, marker)
            if run.errors:
                error = run.errors[0]
                if isinstance(error, NeaPolicyError):
                    raise error
                raise EvaluationError(f"a rule action failed: {type(error).__name__}: {error}", code="action_failed") from error
            failed = False
            return run.firings
        finally:
            self._run = None
            self._clear(run, check=failed)

    def _clear(self, run: Run, *, check: bool) -> None:
        """Empty the session by retracting what this evaluation asserted, markers first.

        durable_rules' delete_state corrupts its memory for some rule shapes (crashes seen here within a few
        evaluations with `$iany` conditions and with patterns joined to two earlier ones), so the engine keeps one
        session and retracts instead. Retracting the stratum markers first keeps negated rules from firing
        while the facts they negate go away.
        """
        handle = self._durable._handle
        for group in (list(reversed(run.markers)), list(reversed(run.findings)), run.asserted):
            if not group:
                continue
            try:
                durable_rules_engine.retract_facts(handle, json.dumps(group, ensure_ascii=False))
            except Exception:  # noqa: BLE001 - some facts of a failed evaluation were never stored
                for fact in group:
                    try:
                        durable_rules_engine.retract_fact(handle, json.dumps(fact, ensure_ascii=False))
                    except Exception:  # noqa: BLE001
                        pass
        if check and self._durable.get_facts(run.sid):
            # Something could not be retracted: leave that session behind and start a clean one.
            self._sid = f"s{next(self._sids)}"

    def _assert(self, call: Any, handle: int, payload: Any) -> None:
        try:
            code, state_handle = call(handle, json.dumps(payload, ensure_ascii=False))
        except Exception as exc:  # the C extension raises its own error type with a numeric code
            raise EvaluationError(f"durable_rules refused the facts: {exc}", code="engine_refused") from exc
        if code == _DUPLICATE:
            raise EvaluationError("durable_rules saw the same fact twice in one evaluation", code="duplicate_fact")
        outcome: list[Any] = [None]
        self._durable.do_actions(state_handle, lambda error, _state: outcome.__setitem__(0, error))
        if outcome[0] is not None:
            raise EvaluationError(f"durable_rules failed while firing rules: {outcome[0]}", code="engine_failed")

    def _action(self, compiled: CompiledRule) -> Any:
        consumed = compiled.rule.kind == "finding" and compiled.rule.concludes in self.compiled.consumed_findings

        def action(c: Any) -> None:
            run = self._run
            if run is None:  # pragma: no cover - only the timer thread could get here, and it is disabled
                return
            try:
                # durable_rules parses a fresh dict per matched fact for every firing and keeps none of them.
                matched = {alias: fact for alias, fact in c._m.items() if alias != STRATUM_ALIAS}
                run.firings.append(Firing(compiled, matched))
                if consumed:
                    subject = matched[compiled.rule.subject]
                    key = (compiled.rule.concludes, str(subject["key"] if subject["t"] != FINDING else subject["subject"]))
                    if key not in run.asserted_findings:
                        run.asserted_findings.add(key)
                        finding = {
                            "id": run.new_id(),
                            "t": FINDING,
                            "finding": key[0],
                            "subject": key[1],
                            "subject_type": subject["t"],
                            "sid": run.sid,
                        }
                        run.findings.append(finding)
                        c.assert_fact(dict(finding))
            except BaseException as exc:  # durable_rules would swallow it into the session state; keep it to re-raise
                run.errors.append(exc)

        return action

