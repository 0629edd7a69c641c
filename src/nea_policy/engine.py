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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .rete import Host
from .rete import core as durable_rules_engine

from .compiler import STRATUM_ALIAS, STRATUM_TYPE, CompiledRule, CompiledRuleSet, compile_ruleset, uses_type
from .errors import EvaluationError, NeaPolicyError
from .fact_types import BASE_TYPES, FINDING, decode_value, encode_scenario, is_level
from .facts import LEVEL_ORDER, Scenario, load_scenario
from .justify import display_value
from .report import Evidence, FindingNode, Recommendation, Report, RulesetInfo, ScenarioInfo, Source, Subject
from .rules import TEMPLATE_FIELD, Rule, RuleSet, load_ruleset

if TYPE_CHECKING:
    from .counterfactuals import Counterfactuals, Limits
    from .explain import Explanation, WhyNot
    from .sweep import SweepResult

# durable_rules calls datetime.utcfromtimestamp at every firing; on Python 3.12+ that warns each time.
warnings.filterwarnings("ignore", message=r"datetime\.datetime\.utcfromtimestamp\(\) is deprecated", category=DeprecationWarning, module="durable")

# The engine's return codes of a batch assert: 0 all handled, 1 some fact matched no rule (harmless here).
_HANDLED, _UNMATCHED, _DUPLICATE = 0, 1, 2

# durable_rules finds a session's facts by a 32-bit FNV-1a hash of their id and compares nothing else: two
# facts whose ids collide are "the same fact" (readable ids like 'flow:bqeacx' and 'flow:pukvlgvgj' do). The
# engine numbers its facts instead: the decimal strings 0 .. _FACT_IDS-1 have pairwise different hashes, none
# equal to that of a session's own state fact ('sid-s1' .. 'sid-s100000'); checked exhaustively, and again by
# tests/test_isolation.py.
_FACT_IDS = 797_186


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


def _file_of(scenario: Any) -> str:
    """The fact file a scenario came from, for ready-to-run command lines ('FILE' when it came from memory)."""
    return str(scenario) if isinstance(scenario, (str, Path)) else "FILE"


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
    asserted: list[dict[str, Any]] = field(default_factory=list)
    markers: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    ids: Any = field(default_factory=itertools.count)

    def new_id(self) -> str:
        """A fact id whose durable_rules hash no other fact of this evaluation shares (see _FACT_IDS)."""
        number = next(self.ids)
        if number >= _FACT_IDS:
            raise EvaluationError(
                f"the scenario needs more than {_FACT_IDS:,} engine facts (facts and findings); split it into smaller scenarios",
                code="too_many_facts",
            )
        return str(number)


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
        with gc_paused():
            # In a function of its own: its facts and firings are freed before the collector resumes, so the one
            # collection that follows walks the report only.
            return self._evaluate(scenario)

    def _evaluate(self, scenario: Scenario | dict[str, Any] | str | Path) -> Report:
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
        from .counterfactuals import Situation, normalize_subject, resolve_target, search

        conclusion, _ = resolve_target(self, rule_id)
        subject = normalize_subject(subject)
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
        run = _Run(sid=self._sid)
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

    def _clear(self, run: _Run, *, check: bool) -> None:
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
                run.firings.append(_Firing(compiled, matched))
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


@dataclass(frozen=True)
class _RulePlan:
    """What the report needs of one rule, worked out once per engine instead of at every firing."""

    # Per alias, the fields its evidence shows and whether each is a level (shown by name, held as a rank).
    evidence_fields: dict[str, tuple[tuple[str, bool], ...]]
    # The normalised justification: its first literal, then (alias, field, how to show it, next literal) per field.
    template_head: str
    template: tuple[tuple[str, str, str, str], ...]
    source: Source


def _rule_plans(engine: Engine) -> dict[str, _RulePlan]:
    plans: dict[str, _RulePlan] | None = engine.__dict__.get("_report_plans")
    if plans is None:
        plans = {}
        for rule in engine.ruleset.rules:
            used = rule.fields_used()
            parts = TEMPLATE_FIELD.split(" ".join(rule.justification.split()))
            plans[rule.id] = _RulePlan(
                evidence_fields={
                    alias: tuple((f, is_level(rule.aliases.get(alias, ""), f)) for f in names if f not in ("key", "name")) for alias, names in used.items()
                },
                template_head=parts[0],
                template=tuple(
                    (alias, name, "name" if name == "name" else ("level" if is_level(rule.aliases.get(alias, ""), name) else "value"), parts[i + 2])
                    for i in range(1, len(parts), 3)
                    for alias, name in [(parts[i], parts[i + 1])]
                ),
                source=Source(section=rule.section, quote=rule.quote),
            )
        engine.__dict__["_report_plans"] = plans
    return plans


def _level_name(value: Any) -> Any:
    """A level's name for its rank (what decode_value does for a level field), other values as they are."""
    return LEVEL_ORDER[value] if value.__class__ is int and 0 <= value < len(LEVEL_ORDER) else value


# The report models are built from values already checked; calling their validators directly skips __init__'s
# keyword packing (same instances, same JSON).
_new_evidence = Evidence.__pydantic_validator__.validate_python
_new_finding = FindingNode.__pydantic_validator__.validate_python
_new_recommendation = Recommendation.__pydantic_validator__.validate_python


class _ReportBuilder:
    """Turns the firings of one evaluation into the Report (names, evidence, proof trees, deterministic order)."""

    def __init__(self, engine: Engine, scenario: Scenario, firings: list[_Firing]) -> None:
        self.engine = engine
        self.scenario = scenario
        self.firings = firings
        self.plans = _rule_plans(engine)
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
        self.subjects: dict[tuple[str, str], Subject] = {}
        self.evidence: dict[tuple[str, Any, tuple[tuple[str, bool], ...]], Evidence] = {}

    def build(self) -> Report:
        rule_order = {rule.id: i for i, rule in enumerate(self.engine.ruleset.rules)}
        recommendations: dict[tuple[str, str], Recommendation] = {}
        for firing in self.firings:
            rule = firing.compiled.rule
            if rule.kind == "finding":
                self.finding_firings.setdefault((rule.concludes, self._subject_key(firing)), firing)
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
            type_, key = fact["subject_type"], str(fact["subject"])
        else:
            type_, key = fact["t"], str(fact["key"])
        subject = self.subjects.get((type_, key))
        if subject is None:
            subject = self.subjects[(type_, key)] = Subject(type=type_, key=key, name=self.names.get((type_, key), key))
        return subject

    def _justification(self, plan: _RulePlan, firing: _Firing) -> str:
        # Values are inserted literally, never parsed as templates: a fact value with {braces} stays as it is.
        out = [plan.template_head]
        matched = firing.matched
        for alias, name, show, literal in plan.template:
            fact = matched.get(alias)
            if fact is None:
                value = None
            elif show == "name":
                value = self.names.get((fact["t"], str(fact.get("key"))), fact.get("key"))
            elif show == "level" and fact["t"] != FINDING:
                value = _level_name(fact.get(name))
            else:
                value = decode_value(fact["t"], name, fact.get(name))
            out.append(display_value(value))
            out.append(literal)
        return "".join(out)

    def _evidence(self, plan: _RulePlan, firing: _Firing) -> list[Evidence]:
        items = []
        names = self.names
        cache = self.evidence
        for alias, fact in firing.matched.items():
            type_ = fact["t"]
            if type_ == FINDING:
                continue
            fields = plan.evidence_fields.get(alias, ())
            # Rules often show the same fields of the same fact under the same alias: one Evidence serves them all.
            cached = cache.get((alias, fact["id"], fields))
            if cached is None:
                values = {}
                for f, level in fields:
                    value = fact.get(f)
                    values[f] = _level_name(value) if level else value
                key = str(fact["key"])
                cached = cache[(alias, fact["id"], fields)] = _new_evidence(
                    {"alias": alias, "fact": type_, "key": key, "name": names.get((type_, key), key), "values": values}
                )
            items.append(cached)
        return items

    def _because(self, firing: _Firing) -> list[FindingNode]:
        nodes = []
        for alias in firing.compiled.rule.finding_aliases:
            fact = firing.matched[alias]
            nodes.append(self._finding((fact["finding"], str(fact["subject"]))))
        return nodes

    def _finding(self, key: tuple[str, str]) -> FindingNode:
        node = self.findings.get(key)
        if node is None:
            firing = self.finding_firings[key]
            rule = firing.compiled.rule
            plan = self.plans[rule.id]
            node = self.findings[key] = _new_finding(
                {
                    "finding": rule.concludes,
                    "rule": rule.id,
                    "title": rule.title,
                    "subject": self._subject(firing),
                    "justification": self._justification(plan, firing),
                    "evidence": self._evidence(plan, firing),
                    "because": self._because(firing),
                    "source": plan.source,
                }
            )
        return node

    def _recommendation(self, firing: _Firing) -> Recommendation:
        rule = firing.compiled.rule
        plan = self.plans[rule.id]
        actors = sorted({str(firing.matched[ref.alias].get(ref.field)) for ref in rule.actors if firing.matched[ref.alias].get(ref.field)})
        return _new_recommendation(
            {
                "rule": rule.concludes,
                "title": rule.title,
                "actors": actors,
                "addressees": list(rule.addressees),
                "subject": self._subject(firing),
                "justification": self._justification(plan, firing),
                "evidence": self._evidence(plan, firing),
                "because": self._because(firing),
                "source": plan.source,
                "pack": rule.pack,
            }
        )
