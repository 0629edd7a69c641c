"""The Engine: owns one compiled rule set on its own durable_rules host and evaluates scenarios, one at a time."""

from __future__ import annotations

import copy
import itertools
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import durable_rules_engine
from durable.engine import Host

from .compiler import STRATUM_ALIAS, STRATUM_TYPE, CompiledRule, CompiledRuleSet, compile_ruleset, uses_type
from .errors import EvaluationError, NeaPolicyError
from .fact_types import BASE_TYPES, FINDING, decode_value, encode_scenario
from .facts import Scenario, load_scenario
from .justify import fill
from .report import Evidence, FindingNode, Recommendation, Report, RulesetInfo, ScenarioInfo, Source, Subject
from .rules import Rule, RuleSet, load_ruleset

if TYPE_CHECKING:
    from .counterfactuals import Counterfactuals, Limits
    from .explain import Explanation, WhyNot
    from .sweep import SweepResult

# The engine's return codes of a batch assert: 0 all handled, 1 some fact matched no rule (harmless here).
_HANDLED, _UNMATCHED, _DUPLICATE = 0, 1, 2


def _file_of(scenario: Any) -> str:
    """The fact file a scenario came from, for ready-to-run command lines ('FILE' when it came from memory)."""
    return str(scenario) if isinstance(scenario, (str, Path)) else "FILE"


class _QuietHost(Host):
    """A durable_rules host without its timer threads: nothing fires behind our back, all firings are synchronous."""

    def _run(self) -> None:  # noqa: D401 - overriding the library's timer start-up
        return None


@dataclass
class _Firing:
    compiled: CompiledRule
    matched: dict[str, dict[str, Any]]


@dataclass
class _Run:
    """What one evaluation has seen so far (the engine holds its lock while this is live)."""

    sid: str
    firings: list[_Firing] = field(default_factory=list)
    asserted_findings: set[tuple[str, str]] = field(default_factory=set)
    errors: list[BaseException] = field(default_factory=list)


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
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._run: _Run | None = None
        self._asserted_types = tuple(t for t in BASE_TYPES if uses_type(self.compiled, t))

    def definition(self) -> dict[str, Any]:
        """The compiled durable_rules definition (for debugging and benchmarking)."""
        return copy.deepcopy(self.compiled.definition())

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules this engine runs."""
        return self.ruleset.rules

    def evaluate(self, scenario: Scenario | dict[str, Any] | str | Path) -> Report:
        """Evaluate one scenario (a Scenario, a dict, or a path to a fact file) into a Report."""
        model = load_scenario(scenario)
        facts = [f for f in encode_scenario(model) if f["t"] in self._asserted_types]
        with self._lock:
            firings = self._fire(facts)
        return _ReportBuilder(self, model, firings).build()

    # --- explanations and sweeps (the logic lives in explain.py, counterfactuals.py and sweep.py) ---------------

    def explain(self, scenario: Scenario | dict[str, Any] | str | Path, rule_id: str, subject: str | None = None, **options: Any) -> Explanation:
        """Proof tree of a conclusion that holds, or why it does not; with verified change sets (see explain.explain)."""
        from .explain import explain

        return explain(self, load_scenario(scenario), rule_id, subject, file=_file_of(scenario), **options)

    def why_not(self, scenario: Scenario | dict[str, Any] | str | Path, rule_id: str, subject: str | None = None) -> WhyNot:
        """Per candidate binding, which conditions of the rule held, failed or are missing; closest first."""
        from .counterfactuals import Situation, resolve_target
        from .explain import why_not

        conclusion, kind = resolve_target(self, rule_id)
        return why_not(Situation.of(self, load_scenario(scenario), _file_of(scenario)), conclusion, kind, subject)

    def counterfactuals(
        self, scenario: Scenario | dict[str, Any] | str | Path, rule_id: str, subject: str | None = None, *, goal: str | None = None, limits: Limits | None = None
    ) -> Counterfactuals:
        """Smallest verified change sets that make the conclusion fire (or, when it holds, stop); goal 'fire' or 'stop'."""
        from .counterfactuals import Situation, resolve_target, search

        conclusion, _ = resolve_target(self, rule_id)
        situation = Situation.of(self, load_scenario(scenario), _file_of(scenario))
        if goal is None:
            holding = situation.holding(conclusion)
            goal = "stop" if (subject in holding if subject is not None else bool(holding)) else "fire"
        return search(situation, conclusion, subject, goal, limits)  # type: ignore[arg-type]

    def sweep(self, scenario: Scenario | dict[str, Any] | str | Path, vary: dict[str, list[Any]], **options: Any) -> SweepResult:
        """Evaluate the grid of scenarios the varied paths span; which recommendations hold at each point (see sweep.sweep)."""
        from .sweep import sweep

        return sweep(self, load_scenario(scenario), vary, **options)

    # --- running durable_rules ---------------------------------------------------------------

    def _fire(self, facts: list[dict[str, Any]]) -> list[_Firing]:
        run = _Run(sid=f"e{next(self._sids)}")
        for fact in facts:
            fact["sid"] = run.sid
        self._run = run
        handle = self._durable._handle
        try:
            if facts:
                self._assert(durable_rules_engine.assert_facts, handle, facts)
            for stratum in self.compiled.strata:
                marker = {"id": f"{STRATUM_TYPE}:{stratum}", "t": STRATUM_TYPE, "level": stratum, "sid": run.sid}
                self._assert(durable_rules_engine.assert_fact, handle, marker)
            state = self._durable.get_state(run.sid) if facts or self.compiled.strata else {}
            if "exception" in state:
                raise EvaluationError(f"a rule action failed inside durable_rules: {state['exception']}", code="action_failed")
            if run.errors:
                error = run.errors[0]
                if isinstance(error, NeaPolicyError):
                    raise error
                raise EvaluationError(f"a rule action failed: {type(error).__name__}: {error}", code="action_failed") from error
            return run.firings
        finally:
            self._run = None
            try:
                self._durable.delete_state(run.sid)
            except Exception:  # noqa: BLE001 - a session that never started has no state to delete
                pass

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
                matched = {alias: dict(fact) for alias, fact in c._m.items() if alias != STRATUM_ALIAS}
                run.firings.append(_Firing(compiled, matched))
                if consumed:
                    subject = matched[compiled.rule.subject]
                    key = (compiled.rule.concludes, str(subject["key"] if subject["t"] != FINDING else subject["subject"]))
                    if key not in run.asserted_findings:
                        run.asserted_findings.add(key)
                        c.assert_fact(
                            {
                                "id": f"finding:{key[0]}:{key[1]}",
                                "t": FINDING,
                                "finding": key[0],
                                "subject": key[1],
                                "subject_type": subject["t"],
                                "sid": run.sid,
                            }
                        )
            except BaseException as exc:  # durable_rules would swallow it into the session state; keep it to re-raise
                run.errors.append(exc)

        return action


class _ReportBuilder:
    """Turns the firings of one evaluation into the Report (names, evidence, proof trees, deterministic order)."""

    def __init__(self, engine: Engine, scenario: Scenario, firings: list[_Firing]) -> None:
        self.engine = engine
        self.scenario = scenario
        self.firings = firings
        self.names: dict[tuple[str, str], str] = {}
        countries = {c.code: c.name for c in scenario.countries}
        for code, name in countries.items():
            self.names[("country", code)] = name
        for region in scenario.regions:
            self.names[("region", region.id)] = region.name
        for flow in scenario.flows:
            self.names[("flow", flow.id)] = flow.name
        for relation in scenario.relations:
            a, b = sorted(relation.between)
            self.names[("relation", f"{a}-{b}")] = f"{countries.get(a, a)} and {countries.get(b, b)}"
        for agreement in scenario.agreements:
            self.names[("agreement", agreement.id)] = agreement.id
        self.findings: dict[tuple[str, str], FindingNode] = {}
        self.finding_firings: dict[tuple[str, str], _Firing] = {}

    def build(self) -> Report:
        rule_order = {rule.id: i for i, rule in enumerate(self.engine.ruleset.rules)}
        recommendations: dict[tuple[str, str], Recommendation] = {}
        for firing in self.firings:
            rule = firing.compiled.rule
            key = (rule.concludes, self._subject_key(firing))
            if rule.kind == "finding":
                self.finding_firings.setdefault(key, firing)
        for firing in self.firings:
            rule = firing.compiled.rule
            if rule.kind != "recommendation":
                continue
            key = (rule.concludes, self._subject_key(firing))
            if key not in recommendations:
                recommendations[key] = self._recommendation(firing)
        findings = [self._finding(key) for key in sorted(self.finding_firings)]
        ordered = sorted(recommendations.values(), key=lambda r: (rule_order.get(r.rule, 0), r.rule, r.subject.key))
        return Report(
            scenario=ScenarioInfo(
                title=self.scenario.title,
                description=self.scenario.description,
                countries={c.code: c.name for c in self.scenario.countries},
                flows=[f.id for f in self.scenario.flows],
            ),
            ruleset=RulesetInfo(version=self.engine.ruleset.version, digest=self.engine.ruleset.digest),
            findings=findings,
            recommendations=ordered,
        )

    def _subject_key(self, firing: _Firing) -> str:
        fact = firing.matched[firing.compiled.rule.subject]
        return str(fact["subject"] if fact["t"] == FINDING else fact["key"])

    def _subject(self, firing: _Firing) -> Subject:
        fact = firing.matched[firing.compiled.rule.subject]
        if fact["t"] == FINDING:
            type_, key = fact["subject_type"], fact["subject"]
        else:
            type_, key = fact["t"], fact["key"]
        return Subject(type=type_, key=str(key), name=self.names.get((type_, str(key)), str(key)))

    def _lookup(self, firing: _Firing) -> Any:
        def lookup(alias: str, name: str) -> Any:
            fact = firing.matched.get(alias)
            if fact is None:
                return None
            if name == "name":
                return self.names.get((fact["t"], str(fact.get("key"))), fact.get("key"))
            return decode_value(fact["t"], name, fact.get(name))

        return lookup

    def _evidence(self, firing: _Firing) -> list[Evidence]:
        rule = firing.compiled.rule
        used = rule.fields_used()
        items = []
        for alias, fact in firing.matched.items():
            if fact["t"] == FINDING:
                continue
            fields = [f for f in used.get(alias, []) if f not in ("key", "name")]
            values = {f: decode_value(fact["t"], f, fact.get(f)) for f in fields}
            key = str(fact["key"])
            items.append(Evidence(alias=alias, fact=fact["t"], key=key, name=self.names.get((fact["t"], key), key), values=values))
        return items

    def _because(self, firing: _Firing) -> list[FindingNode]:
        nodes = []
        for alias in firing.compiled.rule.finding_aliases:
            fact = firing.matched[alias]
            nodes.append(self._finding((fact["finding"], str(fact["subject"]))))
        return nodes

    def _finding(self, key: tuple[str, str]) -> FindingNode:
        if key not in self.findings:
            firing = self.finding_firings[key]
            rule = firing.compiled.rule
            self.findings[key] = FindingNode(
                finding=rule.concludes,
                rule=rule.id,
                title=rule.title,
                subject=self._subject(firing),
                justification=fill(rule.justification, self._lookup(firing)),
                evidence=self._evidence(firing),
                because=self._because(firing),
                source=Source(section=rule.section, quote=rule.quote),
            )
        return self.findings[key]

    def _recommendation(self, firing: _Firing) -> Recommendation:
        rule = firing.compiled.rule
        actors = sorted({str(firing.matched[ref.alias].get(ref.field)) for ref in rule.actors if firing.matched[ref.alias].get(ref.field)})
        return Recommendation(
            rule=rule.concludes,
            title=rule.title,
            actors=actors,
            addressees=list(rule.addressees),
            subject=self._subject(firing),
            justification=fill(rule.justification, self._lookup(firing)),
            evidence=self._evidence(firing),
            because=self._because(firing),
            source=Source(section=rule.section, quote=rule.quote),
            pack=rule.pack,
        )
