"""The library's public functions: read fact files (or standard input), check, evaluate, compare, explain, sweep.

The command line, the service and the page call these; `nea_policy` exports the names most programs need
(`Engine`, `Scenario`, `Report`, `load_scenario`, the errors).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from nea_policy.engine.engine import Engine as CoreEngine
from nea_policy.errors import (
    EvaluationError,
    InputError,
    NeaPolicyError,
    Problem,
    RuleError,
    ScenarioError,
)
from nea_policy.language.rules import RuleSet
from nea_policy.model.documents import (
    DEFAULT_MAX_BYTES,
    Document,
    decode_bytes,
    load_document,
    parse_document,
)
from nea_policy.language.reads import ruleset_reads, unread_facts
from nea_policy.language.rules import load_ruleset
from nea_policy.model.facts import Scenario, load_scenario, scenario_from_document
from nea_policy.model.files import read_stream
from nea_policy.model.limits import DEFAULT_LIMITS, SizeLimits
from nea_policy.model.paths import Assignment
from nea_policy.model.report import Report

# The analyses are imported where they are called: `nea-policy evaluate` (the command most scripts run) should not
# pay for explain, counterfactuals, interview, sweep and what-if at start-up.
if TYPE_CHECKING:
    from nea_policy.analysis.compare import Comparison
    from nea_policy.analysis.counterfactuals import Counterfactuals, Limits
    from nea_policy.analysis.explain import Explanation, WhyNot
    from nea_policy.analysis.interview import Goal, Interview, InterviewRequest, InterviewStep
    from nea_policy.analysis.sweep import SweepResult
    from nea_policy.analysis.whatif import WhatIf
    from nea_policy.render.interview import Ask, Say

ScenarioSource = Scenario | dict[str, Any] | str | Path


def _file_of(scenario: Any) -> str:
    """The fact file a scenario came from, for ready-to-run command lines ('FILE' when it came from memory)."""
    return str(scenario) if isinstance(scenario, (str, Path)) else "FILE"


class Engine(CoreEngine):
    """The engine (`nea_policy.engine.Engine`) with the analyses as methods: explain, why_not, counterfactuals, sweep.

    Each method is the function of `nea_policy.analysis` of the same name, called with this engine. `limits` bounds
    what it reads and evaluates (flows, entries, engine facts, values per document; see `SizeLimits`).
    """

    def __init__(
        self, rules: list[str | Path] | None = None, extra_rules: list[str | Path] | None = None, *, ruleset: RuleSet | None = None, limits: SizeLimits | None = None
    ) -> None:
        self.limits: SizeLimits = limits or DEFAULT_LIMITS
        super().__init__(rules, extra_rules, ruleset=ruleset)

    def _scenario(self, scenario: ScenarioSource) -> Scenario:
        return load_scenario(scenario, limits=self.limits)

    def evaluate(self, scenario: ScenarioSource) -> Report:
        """Evaluate one scenario (a Scenario, a dict, or a path to a fact file) into a Report, within this engine's limits."""
        return super().evaluate(self._scenario(scenario))

    def explain(self, scenario: ScenarioSource, rule_id: str, subject: str | None = None, *, file: str | None = None, **options: Any) -> Explanation:
        """Proof tree of a conclusion that holds, or why it does not; with verified change sets (see analysis.explain).

        `file` is what the ready `what-if` command lines of the change sets name (default: the path given, or FILE).
        """
        from nea_policy.analysis.explain import explain

        return explain(self, self._scenario(scenario), rule_id, subject, file=file or _file_of(scenario), **options)

    def why_not(self, scenario: ScenarioSource, rule_id: str, subject: str | None = None) -> WhyNot:
        """Per candidate binding, which conditions of the rule held, failed or are missing; closest first."""
        from nea_policy.analysis.counterfactuals import Situation, resolve_target
        from nea_policy.analysis.explain import why_not

        conclusion, kind = resolve_target(self, rule_id)
        return why_not(Situation.of(self, self._scenario(scenario), _file_of(scenario)), conclusion, kind, subject)

    def counterfactuals(
        self, scenario: ScenarioSource, rule_id: str, subject: str | None = None, *, goal: Literal["fire", "stop"] | None = None, limits: Limits | None = None
    ) -> Counterfactuals:
        """Smallest verified change sets that make the conclusion fire (or, when it holds, stop); goal 'fire' or 'stop'."""
        from nea_policy.analysis.counterfactuals import Situation, normalize_subject, resolve_target, search

        conclusion, _ = resolve_target(self, rule_id)
        subject = normalize_subject(subject)
        situation = Situation.of(self, self._scenario(scenario), _file_of(scenario))
        if goal is None:
            holding = situation.holding(conclusion)
            goal = "stop" if (subject in holding if subject is not None else bool(holding)) else "fire"
        return search(situation, conclusion, subject, goal, limits)

    def sweep(self, scenario: ScenarioSource, vary: dict[str, list[Any]], **options: Any) -> SweepResult:
        """Evaluate the grid of scenarios the varied paths span; which recommendations hold at each point (see analysis.sweep)."""
        from nea_policy.analysis.sweep import sweep

        return sweep(self, self._scenario(scenario), vary, **options)


STDIN = "-"


def read_document(source: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, stdin: IO[bytes] | None = None, limits: SizeLimits | None = None) -> Document:
    """Parse one fact file (a regular file, at most max_bytes); `-` reads standard input (YAML, or JSON when it starts with `{` or `[`)."""
    max_nodes = (limits or DEFAULT_LIMITS).max_nodes
    if str(source) != STDIN:
        return load_document(source, max_bytes=max_bytes, max_nodes=max_nodes)
    if stdin is None:
        raise InputError("no standard input to read", code="no_stdin", location="<stdin>")
    text = decode_bytes(read_stream(stdin, max_bytes=max_bytes), "<stdin>")
    fmt = "json" if text.lstrip().startswith(("{", "[")) else None
    return parse_document(text, "<stdin>", fmt=fmt, max_nodes=max_nodes)


def read_scenario(source: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, stdin: IO[bytes] | None = None, limits: SizeLimits | None = None) -> Scenario:
    """A validated Scenario from a fact file or standard input, within the size limits."""
    return scenario_from_document(read_document(source, max_bytes=max_bytes, stdin=stdin, limits=limits), limits=limits or DEFAULT_LIMITS)


# The parts of a scenario, each with the word for one of its entries.
_ONE = {"countries": "country", "parties": "party", "regions": "region", "relations": "relation", "agreements": "agreement", "flows": "flow"}


@dataclass(frozen=True)
class UnreadNote:
    """A fact a valid file sets that no rule reads (not an error: it describes the scenario but changes no result)."""

    location: str  # file:line:col of the field
    path: str  # e.g. flows[0].kinds
    collection: str
    key: str  # the entry's code, id or pair
    field: str


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one fact file: its scenario when valid, else every problem found; and what no rule reads."""

    source: str
    scenario: Scenario | None
    problems: tuple[Problem, ...]
    unread: tuple[UnreadNote, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the file is a valid scenario."""
        return self.scenario is not None

    def summary(self) -> str:
        """What a valid file declares: "2 countries, 1 party, 0 regions, 2 relations, 1 agreement, 1 flow"."""
        if self.scenario is None:
            return ""
        counts = [(collection, len(getattr(self.scenario, collection))) for collection in _ONE if collection != "parties" or self.scenario.parties]
        return ", ".join(f"{n} {_ONE[collection] if n == 1 else collection}" for collection, n in counts)

    @property
    def counts(self) -> dict[str, int]:
        """How many countries, (parties,) regions, relations, agreements and flows the valid scenario declares (empty if invalid)."""
        if self.scenario is None:
            return {}
        return {collection: len(getattr(self.scenario, collection)) for collection in _ONE if collection != "parties" or self.scenario.parties}

    def unread_note(self) -> str:
        """The facts the file sets that no rule reads, in one line: each field at its first place, with how many more set it."""
        first: dict[tuple[str, str], UnreadNote] = {}
        more: dict[tuple[str, str], int] = {}
        for note in self.unread:
            key = (note.collection, note.field)
            more[key] = more.get(key, -1) + 1
            first.setdefault(key, note)
        items = []
        for key, note in first.items():
            line = note.location.rsplit(":", 2)[-2] if note.location.count(":") >= 2 else "?"
            also = f", and {more[key]} more {note.collection if more[key] > 1 else _ONE[note.collection]}" if more[key] else ""
            items.append(f"{note.path} (line {line}{also})")
        return f"{self.source}: no rule reads these facts, so they change no result: {', '.join(items)}"


def check_document(document: Document, source: str | None = None, *, ruleset: RuleSet | None = None, limits: SizeLimits | None = None) -> CheckResult:
    """Validate a parsed fact file as a scenario without evaluating it: the scenario, or every problem at once; with a
    ruleset, also the facts the file sets that no rule of it reads (in file order, as a student reads the file)."""
    try:
        scenario = scenario_from_document(document, limits=limits or DEFAULT_LIMITS)
    except NeaPolicyError as exc:
        return CheckResult(source or document.name, None, tuple(exc.problems))
    unread: tuple[UnreadNote, ...] = ()
    if ruleset is not None:
        facts = sorted(unread_facts(scenario, ruleset), key=lambda fact: document.positions.get(fact.path, (0, 0)))
        unread = tuple(UnreadNote(document.locate(fact.path), fact.path_text, fact.collection, fact.key, fact.field) for fact in facts)
    return CheckResult(source or document.name, scenario, (), unread)


def check_sources(
    sources: list[str],
    *,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: IO[bytes] | None = None,
    limits: SizeLimits | None = None,
) -> list[CheckResult]:
    """Validate fact files without evaluating them; each file's problems all at once (the size limits as evaluate
    applies them), and the facts no rule reads."""
    ruleset = load_ruleset(rules, extra_rules)
    results: list[CheckResult] = []
    for source in sources:
        try:
            document = read_document(source, max_bytes=max_bytes, stdin=stdin, limits=limits)
        except NeaPolicyError as exc:
            results.append(CheckResult(str(source), None, tuple(exc.problems)))
        else:
            results.append(check_document(document, str(source), ruleset=ruleset, limits=limits))
    return results


def evaluate_sources(
    sources: list[str],
    *,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: IO[bytes] | None = None,
    actor: str | None = None,
    findings: bool = True,
    limits: SizeLimits | None = None,
) -> list[Report]:
    """Load the rules once and evaluate every fact file; if any file is bad, one error with every file's problems.

    `actor` and `findings` narrow the reports as `evaluate_scenarios` does.
    """
    engine = make_engine(rules, extra_rules, limits=limits)
    scenarios = _read_all(sources, max_bytes=max_bytes, stdin=stdin, limits=limits)
    if actor is not None:
        check_actor(scenarios, actor)
    reports: list[Report] = []
    for source, scenario in zip(sources, scenarios):
        with _located_at(source):
            reports.append(evaluate_narrowed(engine, scenario, actor=actor, findings=findings))
    return reports


def evaluate_scenarios(engine: CoreEngine, scenarios: list[Scenario], *, actor: str | None = None, findings: bool = True) -> list[Report]:
    """One report per scenario: with `actor`, only what is addressed to that government (an error when no scenario
    declares it); without `findings`, no findings and no proof trees (what `evaluate --actor/--no-findings` and
    `POST /v1/evaluate?actor=&findings=` answer)."""
    if actor is not None:
        check_actor(scenarios, actor)
    return [evaluate_narrowed(engine, scenario, actor=actor, findings=findings) for scenario in scenarios]


def evaluate_narrowed(engine: CoreEngine, scenario: Scenario, *, actor: str | None = None, findings: bool = True) -> Report:
    """The report of one scenario, narrowed as `evaluate_scenarios` does (the actor is not checked here)."""
    report = engine.evaluate(scenario)
    return report if actor is None and findings else narrow_report(report, actor=actor, findings=findings)


@contextmanager
def _located_at(source: str) -> Iterator[None]:
    """Locate at the fact file the problems the engine raised without a place (its limits, its failures)."""
    try:
        yield
    except NeaPolicyError as error:
        if all(p.location not in ("", "scenario") for p in error.problems):
            raise
        where = "<stdin>" if source == STDIN else source
        raise type(error)([p if p.location not in ("", "scenario") else Problem(p.code, p.message, where, p.hint) for p in error.problems]) from error


def _read_all(sources: list[str], *, max_bytes: int, stdin: IO[bytes] | None, limits: SizeLimits | None) -> list[Scenario]:
    """Every source's scenario; if some are bad, one error with all their problems (the error's own type if only one)."""
    scenarios: list[Scenario] = []
    errors: list[NeaPolicyError] = []
    for source in sources:
        try:
            scenarios.append(read_scenario(source, max_bytes=max_bytes, stdin=stdin, limits=limits))
        except NeaPolicyError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise NeaPolicyError([p for e in errors for p in e.problems])
    return scenarios


def compare_sources(
    base: str,
    variant: str,
    *,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: IO[bytes] | None = None,
    limits: SizeLimits | None = None,
) -> Comparison:
    """Compare what two fact files lead to, with the fact differences behind each change."""
    from nea_policy.analysis.compare import compare_scenarios

    scenarios = _read_all([base, variant], max_bytes=max_bytes, stdin=stdin, limits=limits)
    with _located_at(f"{base}, {variant}"):
        return compare_scenarios(scenarios[0], scenarios[1], make_engine(rules, extra_rules, limits=limits))


def what_if_source(
    source: str,
    assignments: list[str],
    *,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: IO[bytes] | None = None,
    limits: SizeLimits | None = None,
) -> Comparison:
    """Apply `PATH=VALUE` changes to a fact file and compare the result with the original."""
    document = read_document(source, max_bytes=max_bytes, stdin=stdin, limits=limits)
    with _located_at(source):
        return what_if_document(make_engine(rules, extra_rules, limits=limits), document, assignments).comparison


def what_if_document(engine: CoreEngine, document: Document, assignments: list[str | Assignment]) -> WhatIf:
    """Apply changes (`PATH=VALUE` text, or Assignments made from data) to a parsed fact file: the changed scenario's
    report, and its comparison with the original (what `nea-policy what-if` and `POST /v1/what-if` answer)."""
    from nea_policy.analysis.whatif import what_if_report

    return what_if_report(document, assignments, engine)[2]


def explain_file(
    source: str,
    rule_id: str,
    subject: str | None = None,
    *,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
    max_bytes: int | None = None,
    stdin: IO[bytes] | None = None,
    limits: Limits | None = None,
    size_limits: SizeLimits | None = None,
) -> Explanation:
    """Read a fact file (or `-`), load the rules, and explain (what `nea-policy explain` calls); limits bound the search."""
    scenario = read_scenario(source, max_bytes=max_bytes or DEFAULT_MAX_BYTES, stdin=stdin, limits=size_limits)
    engine = make_engine(rules, extra_rules, limits=size_limits)
    with _located_at(source):
        return engine.explain(scenario, rule_id, subject, file=source if source != "-" else "FILE", limits=limits)


def sweep_file(
    source: str,
    vary: dict[str, list[Any]],
    *,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
    max_bytes: int | None = None,
    stdin: IO[bytes] | None = None,
    limits: SizeLimits | None = None,
    **options: Any,
) -> SweepResult:
    """Read a fact file (or `-`), load the rules, and sweep (what `nea-policy sweep` calls)."""
    scenario = read_scenario(source, max_bytes=max_bytes or DEFAULT_MAX_BYTES, stdin=stdin, limits=limits)
    with _located_at(source):
        return make_engine(rules, extra_rules, limits=limits).sweep(scenario, vary, **options)


def interview_next(
    request: InterviewRequest | dict[str, Any],
    *,
    engine: Engine | None = None,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
) -> InterviewStep:
    """One turn of the interview (what `POST /v1/interview/next` answers): the relevant questions, next first, with reasons.

    `request` is `{"scenario": partial fact file, "unknown": [paths answered "don't know"], "goal": "all" | "recommendations"}`.
    The scenario must validate (ScenarioError, located); a bad unknown path is an InputError (`unknown_field_path`,
    `answered_and_unknown`).
    """
    from nea_policy.analysis.interview import next_step

    return next_step(engine if engine is not None else make_engine(rules, extra_rules), request)


def interview_answer(request: InterviewRequest | dict[str, Any], field: str, answer: Any) -> InterviewRequest:
    """Record the answer to one question of an interview turn (None: "don't know"): the next turn's request.

    An answer the scenario refuses is an InputError (`bad_answer`) located at the field's path.
    """
    from nea_policy.analysis.interview import record_answer

    return record_answer(request, field, answer)


def interview_structure(scenario: ScenarioSource) -> dict[str, Any]:
    """Who and what a scenario is about (countries, parties, regions, relations, flows) without its facts: where an interview starts."""
    from nea_policy.analysis.interview import structure_of

    return structure_of(load_scenario(scenario))


def interview_source(
    source: str | None,
    *,
    answers: str | None = None,
    ask: Ask | None = None,
    say: Say | None = None,
    goal: Goal = "all",
    width: int = 88,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: IO[bytes] | None = None,
    limits: SizeLimits | None = None,
) -> Interview:
    """Interview from a fact file (or nothing): answers replayed from `answers`, or asked through `ask` and `say` (what `nea-policy interview` calls).

    The structure comes from the file; what it lacks comes from the answers file, or is asked first. A field the
    answers file does not state is answered "don't know".
    """
    from nea_policy.analysis.interview import answers_from, facts_stated, merge_structure, run_interview, scenario_data
    from nea_policy.render.interview import ask_structure, make_answerer, needs_structure, progress_printer, say_problems

    if source == STDIN and answers is None:
        raise InputError("standard input is where the answers are typed; name the fact file, or give --answers", code="stdin_in_use", location="<stdin>")
    if source == STDIN and answers == STDIN:
        raise InputError("only one of FILE and --answers can be standard input", code="stdin_in_use", location="<stdin>")
    engine = make_engine(rules, extra_rules, limits=limits)
    start = scenario_data(read_scenario(source, max_bytes=max_bytes, stdin=stdin, limits=limits)) if source is not None else {}
    if answers is not None:
        replayed = read_scenario(answers, max_bytes=max_bytes, stdin=stdin, limits=limits)
        result = run_interview(engine, merge_structure(start, replayed), answers_from(replayed), goal=goal)
        return result.model_copy(update={"facts_in_answers": facts_stated(replayed)})
    if ask is None or say is None:
        raise InputError("an interview needs answers: give --answers FILE, or answer in a terminal", code="no_answers")
    if needs_structure(start):
        start = ask_structure(start, ask, say)
    return run_interview(engine, start, make_answerer(ask, say, width), goal=goal, on_step=progress_printer(say), on_invalid=lambda error: say_problems(say, error))


_ENGINES: dict[tuple[Any, ...], Engine] = {}


def make_engine(rules: list[str | Path] | None = None, extra_rules: list[str | Path] | None = None, *, limits: SizeLimits | None = None) -> Engine:
    """An engine over the bundled rules, or over the given rule folders plus extra packs; one per set of rule files and limits.

    durable_rules never frees a host or a ruleset, so a process that evaluates many times (tests, a server)
    reuses the engine while the rule files are unchanged.
    """
    limits = limits or DEFAULT_LIMITS
    key = (_folders_key(rules), _folders_key(extra_rules), limits)
    engine = _ENGINES.get(key)
    if engine is None:
        engine = Engine(list(rules) if rules else None, list(extra_rules) if extra_rules else None, limits=limits)
        _ENGINES[key] = engine
    return engine


def _folders_key(folders: list[str | Path] | None) -> tuple[Any, ...]:
    if not folders:
        return ()
    key: list[Any] = []
    for folder in folders:
        path = Path(folder).resolve()
        files = sorted(path.glob("*.yaml")) if path.is_dir() else []
        key.append((str(path), tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)))
    return tuple(key)


def narrow_report(report: Report, *, actor: str | None = None, findings: bool = True) -> Report:
    """The report with only the recommendations to one government and, without findings, no findings or proof trees."""
    recommendations = report.recommendations if actor is None else report.for_actor(actor)
    if not findings:
        recommendations = [r.model_copy(update={"because": []}) for r in recommendations]
    return report.model_copy(update={"recommendations": recommendations, "findings": report.findings if findings else []})


def check_actor(scenarios: list[Scenario], actor: str) -> None:
    """An error when no scenario declares the country (or party) an --actor names (a typo would otherwise show nothing)."""
    declared = sorted({entry.code for scenario in scenarios for entry in [*scenario.countries, *scenario.parties]})
    if actor not in declared:
        close = difflib.get_close_matches(actor, declared, n=1)
        raise InputError(
            f"{actor} is not a country or party of the scenario; declared: {', '.join(declared)}",
            code="unknown_actor",
            location="--actor",
            hint=f"did you mean {close[0]}?" if close else "",
        )


def fields_read(engine: CoreEngine) -> frozenset[tuple[str, str]]:
    """Every (fact type, fact file field) some rule of the engine reads: any other field describes a scenario but changes no result."""
    return ruleset_reads(engine.ruleset)


SCHEMA_KINDS = ("facts", "report")


def json_schema(kind: str) -> dict[str, Any]:
    """JSON Schema of a fact file (`facts`) or of the JSON report (`report`), for editors and other tools."""
    if kind == "facts":
        schema = Scenario.model_json_schema()
        title = "nea-policy fact file (scenario)"
    elif kind == "report":
        schema = Report.model_json_schema(mode="serialization")
        title = "nea-policy report"
    else:
        raise InputError(f"no schema {kind!r}; choose one of {', '.join(SCHEMA_KINDS)}", code="unknown_schema")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": title}


__all__ = [
    "CheckResult",
    "Engine",
    "EvaluationError",
    "InputError",
    "NeaPolicyError",
    "Report",
    "RuleError",
    "Scenario",
    "ScenarioError",
    "SizeLimits",
    "WhatIf",
    "check_actor",
    "check_document",
    "check_sources",
    "compare_sources",
    "evaluate_narrowed",
    "evaluate_scenarios",
    "evaluate_sources",
    "explain_file",
    "fields_read",
    "interview_answer",
    "interview_next",
    "interview_source",
    "interview_structure",
    "json_schema",
    "load_scenario",
    "make_engine",
    "narrow_report",
    "read_document",
    "read_scenario",
    "sweep_file",
    "what_if_document",
    "what_if_source",
]
