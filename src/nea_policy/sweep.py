"""Sweeps: evaluate the grid of scenarios that varying some facts spans, and show which recommendations hold where.

Within a process the grid is walked in ONE durable_rules session (`_Session`): from one point to the next, the facts
that change are retracted and their new versions asserted, so that Rete re-fires only what the change touches.
durable_rules has no truth maintenance, so the session keeps it itself:
- every firing remembers the facts it matched (by id); a firing that matched a changed fact is dropped;
- a finding fact is retracted once no live firing supports it, which drops the firings that matched it (to a fixpoint);
- stratified negation: `none()` only sees what exists when the positive fact arrives, and a negating fact arriving
  later does not cancel a firing. So before each change the stratum markers are retracted (dropping every gated
  firing and what rests on it) and after it they are asserted again in order, exactly as `Engine._fire` does:
  each absence is decided afresh against the complete lower strata.
Each point's set of recommendations equals an isolated `engine.evaluate` of that scenario (tests check every point).

Across processes (`jobs` > 1) the grid is cut into contiguous chunks (neighbouring points differ in few facts), each
run in its own session by a worker with its own Engine; the result is the same as in one process.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .compiler import STRATUM_TYPE
from .rete import core as durable_rules_engine
from .errors import EvaluationError, InputError, NeaPolicyError, Problem, ScenarioError
from .fact_types import FINDING, encode_scenario
from .facts import Agreement, Country, Flow, Region, Relation, Scenario, load_scenario, pair_key
from .justify import display_value

if TYPE_CHECKING:
    from .engine import Engine, _Firing
    from .rules import RuleSet

#: Grids larger than this are refused unless the caller raises `max_points`.
DEFAULT_MAX_POINTS = 10_000

_MODELS: dict[str, type[BaseModel]] = {"countries": Country, "regions": Region, "relations": Relation, "agreements": Agreement, "flows": Flow}
# A change to one of these can break a reference elsewhere in the scenario: such grids validate each whole scenario.
_REFERENCE_FIELDS = {"code", "id", "origin", "destination", "destination_region", "country", "between"}


class SweepPoint(BaseModel):
    """One grid point: the values of the varied paths and, per recommendation that holds, the subjects it holds for."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    values: dict[str, Any]
    holds: dict[str, list[str]] = Field(description="recommendation id -> keys of the subjects it holds for")


class SweepResult(BaseModel):
    """The grid and what holds at each point, in grid order (the last varied path changes fastest)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    scenario: str
    vary: dict[str, list[Any]]
    recommendations: list[str] = Field(description="recommendation ids that hold somewhere on the grid, in rule order")
    points: list[SweepPoint]

    def to_json(self) -> str:
        """Indented JSON."""
        return self.model_dump_json(indent=2) + "\n"


# --- the grid -----------------------------------------------------------------------------------------------


def parse_vary(items: list[str] | tuple[str, ...]) -> dict[str, list[Any]]:
    """`PATH=V1,V2,...` options into {path: [values]}; each value read like a what-if `--set` value (YAML scalar)."""
    from .whatif import parse_assignment

    vary: dict[str, list[Any]] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--vary {item!r}: expected PATH=V1,V2,..., e.g. flows.kp-to-cn.legal_status=unclear,regular", code="bad_vary", location="--vary")
        path, values_text = item.split("=", 1)
        path = path.strip()
        values = [parse_assignment(f"{path}={v.strip()}").value for v in values_text.split(",") if v.strip()]
        if not values:
            raise InputError(f"--vary {item!r}: no values after '='", code="bad_vary", location="--vary")
        if path in vary:
            raise InputError(f"--vary {path}: the path is given twice; list all its values in one --vary", code="bad_vary", location="--vary")
        vary[path] = values
    return vary


def grid_size(vary: dict[str, list[Any]]) -> int:
    """How many scenarios the grid holds."""
    size = 1
    for values in vary.values():
        size *= len(values)
    return size


def grid(vary: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
    """Every combination of values, the last path changing fastest."""
    return list(itertools.product(*vary.values()))


@dataclass(frozen=True)
class _Entry:
    collection: str
    index: int
    key: str


class _Grid:
    """Turns grid points into engine facts: each changed entry validated and encoded once per combination of its values."""

    def __init__(self, scenario: Scenario, vary: dict[str, list[Any]], asserted_types: tuple[str, ...]) -> None:
        from .whatif import apply_assignments, parse_assignment

        self.scenario = scenario
        self.paths = list(vary)
        self.asserted_types = asserted_types
        self.data = scenario.model_dump(mode="json", exclude_none=True)
        self.base_facts = [f for f in encode_scenario(scenario) if f["t"] in asserted_types]
        self._apply = apply_assignments
        self._parse = parse_assignment
        # Check every path and value once, with what-if's messages, before anything runs.
        problems: list[Problem] = []
        for path, values in vary.items():
            head = path.split(".")[0]
            # Only the part the path names is copied; what-if's checks and messages are the same.
            probe = {head: self.data[head]} if head in _MODELS and head in self.data else self.data
            for value in values:
                try:
                    apply_assignments(probe, [parse_assignment(f"{path}={_text(value)}")])
                except InputError as exc:
                    problems.extend(exc.problems)
        if problems:
            raise InputError(problems)
        self.entries: dict[str, _Entry | None] = {path: self._entry(path) for path in self.paths}
        self.whole = any(path.split(".")[2:3] and path.split(".")[2] in _REFERENCE_FIELDS for path in self.paths)
        self._cache: dict[Any, dict[str, Any] | None] = {}

    def _entry(self, path: str) -> _Entry | None:
        parts = path.split(".")
        if parts[0] not in _MODELS or len(parts) < 3:
            return None  # title / description: no engine fact reads them
        entries = self.data.get(parts[0], [])
        name = parts[1]
        for index, entry in enumerate(entries):
            if name.isdigit() and int(name) == index:
                return _Entry(parts[0], index, _key(parts[0], entry))
            if _key(parts[0], entry) == (pair_key(*name.split("-", 1)) if parts[0] == "relations" and name.count("-") == 1 else name):
                return _Entry(parts[0], index, _key(parts[0], entry))
        return None

    def facts(self, point: tuple[Any, ...]) -> list[dict[str, Any]]:
        """The engine facts of the scenario at this grid point (a ScenarioError when the point is not a valid scenario)."""
        if self.whole:
            return self._whole(point)
        changed: dict[str, dict[str, Any]] = {}
        touched: dict[_Entry, list[tuple[str, Any]]] = {}
        for path, value in zip(self.paths, point):
            entry = self.entries[path]
            if entry is not None:
                touched.setdefault(entry, []).append((path, value))
        for entry, settings in touched.items():
            cache_key = (entry, tuple(settings))
            if cache_key not in self._cache:
                self._cache[cache_key] = self._encode_entry(entry, settings)
            fact = self._cache[cache_key]
            if fact is not None:
                changed[fact["id"]] = fact
        return [changed.get(f["id"], f) for f in self.base_facts]

    def _encode_entry(self, entry: _Entry, settings: list[tuple[str, Any]]) -> dict[str, Any] | None:
        item = copy.deepcopy(self.data[entry.collection][entry.index])
        mini = {entry.collection: [item]}
        assignments = [self._parse(f"{entry.collection}.{entry.key}.{'.'.join(path.split('.')[2:])}={_text(value)}") for path, value in settings]
        mini = self._apply(mini, assignments)
        try:
            model = _MODELS[entry.collection].model_validate(mini[entry.collection][0])
        except ValidationError as exc:
            where = ", ".join(f"{p}={display_value(v)}" for p, v in settings)
            raise ScenarioError(f"the grid point {where} is not a valid scenario: {exc.errors(include_url=False)[0]['msg']}", code="bad_grid_point", location="--vary") from None
        holder = Scenario.model_construct(countries=[], regions=[], relations=[], agreements=[], flows=[])
        getattr(holder, entry.collection).append(model)
        encoded = [f for f in encode_scenario(holder) if f["t"] in self.asserted_types]
        return encoded[0] if encoded else None

    def _whole(self, point: tuple[Any, ...]) -> list[dict[str, Any]]:
        if point not in self._cache:
            data = self._apply(self.data, [self._parse(f"{p}={_text(v)}") for p, v in zip(self.paths, point)])
            self._cache[point] = {"facts": [f for f in encode_scenario(load_scenario(data)) if f["t"] in self.asserted_types]}
        return copy.deepcopy(self._cache[point]["facts"])  # type: ignore[index]


def _key(collection: str, entry: dict[str, Any]) -> str:
    if collection == "countries":
        return str(entry.get("code"))
    if collection == "relations":
        return pair_key(*entry["between"])
    return str(entry.get("id"))


def _text(value: Any) -> str:
    """A value back into `--set` text (JSON is valid YAML, so strings with commas or colons survive)."""
    if isinstance(value, str):
        return value if value and value.replace("-", "").replace("_", "").isalnum() else json.dumps(value)
    return json.dumps(value)


# --- one incremental durable_rules session ---------------------------------------------------------------


class _Session:
    """One live durable_rules session walked from grid point to grid point (see the module docstring).

    Facts are known here by their scenario id (`flow:kp-to-cn`) and in durable_rules by the id the engine issues
    (`_Run.new_id`: ids whose 32-bit hashes cannot collide); a fact keeps its engine id through its versions.
    """

    def __init__(self, engine: Engine) -> None:
        from .engine import _Run

        self.engine = engine
        # The engine's own session when it keeps one (emptied after each evaluation), else a fresh sid: one live
        # session per ruleset at a time (sessions are found by a 32-bit hash of the sid).
        self.shared = getattr(engine, "_sid", None) is not None
        self.run = _Run(sid=engine._sid if self.shared else f"sweep{next(engine._sids)}")
        self.engine_ids: dict[str, str] = {}
        self.versions: dict[str, dict[str, Any]] = {}  # scenario id -> the fact as the grid gave it
        self.facts: dict[str, dict[str, Any]] = {}  # scenario id -> the fact as asserted
        self.findings: dict[tuple[str, str], dict[str, Any]] = {}  # the finding facts the actions asserted
        self.handle = engine._durable._handle
        self.markers = [
            {"id": self._engine_id(f"{STRATUM_TYPE}:{s}"), "t": STRATUM_TYPE, "level": s, "sid": self.run.sid} for s in engine.compiled.strata
        ]
        self.gated = {c.name for c in engine.compiled.rules if c.rule.absences}
        self.meta: list[_Meta] = []
        self.started = False

    def _engine_id(self, scenario_id: str) -> str:
        if scenario_id not in self.engine_ids:
            new_id = getattr(self.run, "new_id", None)
            self.engine_ids[scenario_id] = new_id() if new_id is not None else scenario_id
        return self.engine_ids[scenario_id]

    def _asserted(self, fact: dict[str, Any]) -> dict[str, Any]:
        return {**fact, "id": self._engine_id(fact["id"]), "sid": self.run.sid}

    def __enter__(self) -> _Session:
        self.engine._lock.acquire()
        self.engine._run = self.run
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.engine._run = None
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
                durable_rules_engine.retract_fact(self.handle, json.dumps(fact, ensure_ascii=False))
            except Exception:  # noqa: BLE001 - a fact a failed step never stored
                pass
        if self.engine._durable.get_facts(self.run.sid):
            # Something stayed behind: the engine must not meet it in its next evaluation.
            if self.shared:
                self.engine._sid = f"s{next(self.engine._sids)}"
            else:
                self.engine._durable.delete_state(self.run.sid)

    def _call(self, call: Any, payload: Any) -> None:
        self.engine._assert(call, self.handle, payload)
        if self.run.errors:
            error = self.run.errors[0]
            raise error if isinstance(error, NeaPolicyError) else EvaluationError(f"a rule action failed: {error}", code="action_failed")

    def evaluate(self, facts: list[dict[str, Any]]) -> set[tuple[str, str]]:
        """Move the session to these base facts; the (recommendation id, subject) pairs that hold there."""
        if not self.started:
            self._start(facts)
        else:
            self._change(facts)
        state = self.engine._durable.get_state(self.run.sid)
        if "exception" in state:
            raise EvaluationError(f"a rule action failed inside durable_rules: {state['exception']}", code="action_failed")
        return self.holding()

    def _start(self, facts: list[dict[str, Any]]) -> None:
        self.started = True
        self.versions = {f["id"]: f for f in facts}
        self.facts = {f["id"]: self._asserted(f) for f in facts}
        if self.facts:
            self._call(durable_rules_engine.assert_facts, list(self.facts.values()))
        for marker in self.markers:
            self._call(durable_rules_engine.assert_fact, marker)

    def _change(self, facts: list[dict[str, Any]]) -> None:
        new = {f["id"]: f for f in facts}
        changed = [i for i, f in new.items() if self.versions.get(i) != f] + [i for i in self.versions if i not in new]
        if not changed:
            return
        for marker in reversed(self.markers):
            self._call(durable_rules_engine.retract_fact, marker)
        dropped_ids = {self._engine_id(i) for i in changed} | {m["id"] for m in self.markers}
        retracted = self._drop(dropped_ids)
        for key in retracted:
            self._call(durable_rules_engine.retract_fact, self.findings.pop(key))
            self.run.asserted_findings.discard(key)
        for fact_id in changed:
            if fact_id in self.facts:
                self._call(durable_rules_engine.retract_fact, self.facts.pop(fact_id))
                del self.versions[fact_id]
        for fact_id in changed:
            if fact_id in new:
                self.versions[fact_id] = new[fact_id]
                self.facts[fact_id] = self._asserted(new[fact_id])
                self._call(durable_rules_engine.assert_fact, self.facts[fact_id])
        for marker in self.markers:
            self._call(durable_rules_engine.assert_fact, marker)

    def _sync_findings(self) -> None:
        """Take over the finding facts the actions asserted (exactly as asserted: retracting needs the same fact)."""
        for finding in self.run.findings:
            self.findings[(finding["finding"], finding["subject"])] = finding
        self.run.findings.clear()

    def _sync(self) -> None:
        """Index the firings made since the last step: the fact ids each matched, what it concludes about, gated or not."""
        self._sync_findings()
        for firing in self.run.firings[len(self.meta) :]:
            ids = frozenset(str(f.get("id")) for f in firing.matched.values())
            self.meta.append(_Meta(firing, ids, self._finding_key(firing), firing.compiled.rule.kind, firing.compiled.name in self.gated))

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

    def _finding_key(self, firing: _Firing) -> tuple[str, str]:
        subject = firing.matched[firing.compiled.rule.subject]
        return (firing.compiled.rule.concludes, str(subject["key"] if subject["t"] != FINDING else subject["subject"]))

    def holding(self) -> set[tuple[str, str]]:
        """(recommendation id, subject) pairs of the live firings."""
        self._sync()
        return {meta.key for meta in self.meta if meta.kind == "recommendation"}


@dataclass(frozen=True)
class _Meta:
    firing: _Firing
    ids: frozenset[str]
    key: tuple[str, str]
    kind: str
    gated: bool


def _run_points(engine: Engine, planner: _Grid, points: list[tuple[Any, ...]], progress: Callable[[int], None] | None = None) -> list[set[tuple[str, str]]]:
    results = []
    with _Session(engine) as session:
        for point in points:
            results.append(session.evaluate(planner.facts(point)))
            if progress is not None:
                progress(1)
    return results


_WORKER: dict[str, Any] = {}


def _init_worker(ruleset: RuleSet, scenario_data: dict[str, Any], vary: dict[str, list[Any]]) -> None:
    from .engine import Engine

    # One engine per worker process (compiling rules and registering them with durable_rules is done once).
    engine = Engine(ruleset=ruleset)
    _WORKER["engine"] = engine
    _WORKER["planner"] = _Grid(load_scenario(scenario_data), vary, engine._asserted_types)


def _worker(points: list[tuple[Any, ...]]) -> list[set[tuple[str, str]]]:
    return _run_points(_WORKER["engine"], _WORKER["planner"], points)


#: Fewer grid points than this per process is not worth starting one: a spawned worker takes ~0.5-1 s to import
#: and compile the rules, about what one session spends on a thousand points.
MIN_POINTS_PER_JOB = 1000


def plan_jobs(points: int, jobs: int, min_points_per_job: int = MIN_POINTS_PER_JOB) -> int:
    """How many processes a grid of this size gets when up to `jobs` are allowed."""
    return max(1, min(jobs, points // max(1, min_points_per_job)))


def sweep(
    engine: Engine,
    scenario: Scenario,
    vary: dict[str, list[Any]],
    *,
    jobs: int = 1,
    max_points: int = DEFAULT_MAX_POINTS,
    progress: Callable[[int], None] | None = None,
    min_points_per_job: int = MIN_POINTS_PER_JOB,
) -> SweepResult:
    """Evaluate every grid point (one incremental session per process; up to `jobs` processes) and tabulate what holds.

    Grids refused over `max_points`; `progress(n)` is called as n more points are done.
    """
    if not vary:
        raise InputError("nothing to vary: give at least one --vary PATH=V1,V2", code="bad_vary", location="--vary")
    size = grid_size(vary)
    if size > max_points:
        raise InputError(
            f"the grid has {size} points, over the limit of {max_points}", code="grid_too_large", location="--vary", hint="raise the limit with --max, or vary fewer values"
        )
    planner = _Grid(scenario, vary, engine._asserted_types)
    points = grid(vary)
    for point in points:
        planner.facts(point)  # every point valid before anything runs (cached, so the walk pays nothing for it)
    jobs = plan_jobs(len(points), jobs, min_points_per_job)
    if jobs == 1:
        results = _run_points(engine, planner, points, progress)
    else:
        results = _run_parallel(engine, scenario, vary, points, jobs, progress)
    order = {r.concludes: i for i, r in enumerate(engine.rules)}
    seen = sorted({rule for held in results for rule, _ in held}, key=lambda r: (order.get(r, 0), r))
    rows = []
    for point, held in zip(points, results):
        holds: dict[str, list[str]] = {}
        for rule in seen:
            subjects = sorted(s for r, s in held if r == rule)
            if subjects:
                holds[rule] = subjects
        rows.append(SweepPoint(values=dict(zip(vary, point)), holds=holds))
    return SweepResult(scenario=scenario.title, vary=vary, recommendations=seen, points=rows)


def _run_parallel(
    engine: Engine, scenario: Scenario, vary: dict[str, list[Any]], points: list[tuple[Any, ...]], jobs: int, progress: Callable[[int], None] | None
) -> list[set[tuple[str, str]]]:
    """Contiguous chunks (neighbours differ in few facts) over `jobs` spawned processes; results put back in grid order."""
    import multiprocessing
    from concurrent.futures import as_completed

    # Several chunks per process keep the progress bar moving; spawn, not fork: the parent may run threads (rich).
    size = max(1, -(-len(points) // (jobs * 4)))
    chunks = [points[i : i + size] for i in range(0, len(points), size)]
    data = scenario.model_dump(mode="json", exclude_none=True)
    parts: list[list[set[tuple[str, str]]] | None] = [None] * len(chunks)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(engine.ruleset, data, vary)) as pool:
        futures = {pool.submit(_worker, chunk): index for index, chunk in enumerate(chunks)}
        for future in as_completed(futures):
            index = futures[future]
            parts[index] = future.result()
            if progress is not None:
                progress(len(chunks[index]))
    return [held for part in parts for held in (part or [])]


def sweep_file(
    source: str,
    vary: dict[str, list[Any]],
    *,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
    max_bytes: int | None = None,
    stdin: IO[bytes] | None = None,
    **options: Any,
) -> SweepResult:
    """Read a fact file (or `-`), load the rules, and sweep (what `nea-policy sweep` calls)."""
    from .api import make_engine, read_scenario
    from .documents import DEFAULT_MAX_BYTES

    scenario = read_scenario(source, max_bytes=max_bytes or DEFAULT_MAX_BYTES, stdin=stdin)
    return sweep(make_engine(rules, extra_rules), scenario, vary, **options)


def default_jobs() -> int:
    """The machine's cores (what `--jobs` defaults to)."""
    return os.cpu_count() or 1


# --- rendering ---------------------------------------------------------------------------------------------


def _table(result: SweepResult) -> tuple[list[str], list[list[str]]]:
    header = [*result.vary, *result.recommendations]
    rows = []
    for point in result.points:
        row = [display_value(v) for v in point.values.values()]
        row += [" ".join(point.holds.get(r, [])) or "-" for r in result.recommendations]
        rows.append(row)
    return header, rows


def render_sweep_text(result: SweepResult) -> str:
    """A plain-text table: one row per grid point, one column per recommendation (the subjects it holds for, or -)."""
    from .render_text import visible

    header, rows = _table(result)
    if not result.recommendations:
        header.append("recommendations")
        rows = [r + ["none"] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = [f"{result.scenario}: {len(result.points)} grid points", ""]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(visible(line) for line in lines) + "\n"


def render_sweep_markdown(result: SweepResult) -> str:
    """A Markdown table, for a paper."""
    from .render_text import visible

    header, rows = _table(result)

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [f"**{cell(result.scenario)}**: {len(result.points)} grid points", ""]
    lines.append("| " + " | ".join(f"`{cell(h)}`" for h in header) + " |")
    lines.append("|" + "---|" * len(header))
    for row in rows:
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    return "\n".join(visible(line) for line in lines) + "\n"


def render_sweep_csv(result: SweepResult) -> str:
    """CSV for analysis: one row per grid point; a recommendation's cell lists its subjects (';'), empty when it does not hold."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*result.vary, *result.recommendations])
    for point in result.points:
        writer.writerow([display_value(v) if not isinstance(v, bool) else str(v).lower() for v in point.values.values()] + [";".join(point.holds.get(r, [])) for r in result.recommendations])
    return buffer.getvalue()


__all__ = ["SweepPoint", "SweepResult", "default_jobs", "grid", "grid_size", "parse_vary", "plan_jobs", "render_sweep_csv", "render_sweep_markdown", "render_sweep_text", "sweep", "sweep_file"]
