"""Sweeps: evaluate the grid of scenarios that varying some facts spans, and show which recommendations hold where.

Within a process the grid is walked in ONE incremental engine session (`nea_policy.engine.session.Session`): from one
point to the next, only the facts that change are retracted and asserted again, so that Rete re-fires only what the
change touches. Each point's set of recommendations equals an isolated `engine.evaluate` of that scenario (tests
check every point).

Across processes (`jobs` > 1) the grid is cut into contiguous chunks (neighbouring points differ in few facts), each
run in its own session by a worker with its own Engine; the result is the same as in one process.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nea_policy.engine.admission import engine_limits
from nea_policy.engine.engine import Engine
from nea_policy.engine.session import Session
from nea_policy.errors import InputError, Problem, ScenarioError
from nea_policy.model.display import display_value, shown
from nea_policy.model.facts import Scenario, load_scenario, pair_key
from nea_policy.model.limits import DEFAULT_LIMITS, SizeLimits
from nea_policy.model.paths import MODELS, apply_assignments, assignment_of, entry_key, parse_assignment

if TYPE_CHECKING:
    from nea_policy.language.rules import RuleSet

#: Grids larger than this are refused unless the caller raises `max_points`.
DEFAULT_MAX_POINTS = 10_000
#: ...which it cannot raise past this: a result holds about 1.1 KB per point (plus 0.4 KB of JSON), so 200,000 points
#: are some 300 MB and, at 0.5 ms a point, two minutes of one core. Larger grids are split into several sweeps.
MAX_POINTS_CEILING = 200_000

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
    stopped_by: Literal["seconds"] | None = Field(
        None, description="set when a time bound ended the sweep: `points` then holds the first points of the grid, in grid order, not all of them"
    )

    def to_json(self) -> str:
        """Indented JSON (`stopped_by` only when the sweep was cut short)."""
        return self.model_dump_json(indent=2, exclude=None if self.stopped_by else {"stopped_by"}) + "\n"


# --- the grid -----------------------------------------------------------------------------------------------


def parse_vary(items: list[str] | tuple[str, ...]) -> dict[str, list[Any]]:
    """`PATH=V1,V2,...` options into {path: [values]}; each value read like a what-if `--set` value (YAML scalar)."""
    vary: dict[str, list[Any]] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--vary {shown(item)}: expected PATH=V1,V2,..., e.g. flows.kp-to-cn.legal_status=unclear,regular", code="bad_vary", location="--vary")
        path, values_text = item.split("=", 1)
        path = path.strip()
        values = [parse_assignment(f"{path}={v.strip()}").value for v in values_text.split(",") if v.strip()]
        if not values:
            raise InputError(f"--vary {shown(item)}: no values after '='", code="bad_vary", location="--vary")
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


def grid(vary: dict[str, list[Any]]) -> Iterator[tuple[Any, ...]]:
    """Every combination of values, the last path changing fastest, one at a time (nothing is built beforehand)."""
    return itertools.product(*vary.values())


class _OneEntry:
    """A scenario of one entry, to encode it: what the fact encoder reads of a Scenario (building one costs more)."""

    def __init__(self, collection: str, model: BaseModel) -> None:
        self.countries: list[Any] = []
        self.parties: list[Any] = []
        self.regions: list[Any] = []
        self.relations: list[Any] = []
        self.agreements: list[Any] = []
        self.flows: list[Any] = []
        getattr(self, collection).append(model)


@dataclass(frozen=True)
class _Entry:
    collection: str
    index: int
    key: str


class _Grid:
    """Turns grid points into engine facts: each changed entry validated and encoded once per combination of its values."""

    def __init__(
        self,
        scenario: Scenario,
        vary: dict[str, list[Any]],
        encode: Callable[[Scenario], list[dict[str, Any]]],
        origins: Mapping[str, str] | None = None,
        limits: SizeLimits = DEFAULT_LIMITS,
    ) -> None:
        self.scenario = scenario
        self.limits = limits
        self.paths = list(vary)
        self.vary = vary
        self.encode = encode
        self.data = scenario.model_dump(mode="json", exclude_none=True)
        self.base_facts = encode(scenario)
        self._apply = apply_assignments
        self._parse = parse_assignment
        # Check every path and value once, with what-if's messages, before anything runs.
        problems: list[Problem] = []
        for path, values in vary.items():
            head = path.split(".")[0]
            # Only the part the path names is copied; what-if's checks and messages are the same.
            probe = {head: self.data[head]} if head in MODELS and head in self.data else self.data
            for value in values:
                try:
                    apply_assignments(probe, [parse_assignment(f"{path}={_text(value)}", origin=(origins or {}).get(path))])
                except InputError as exc:
                    problems.extend(exc.problems)
        if problems:
            raise InputError(problems)
        self.entries: dict[str, _Entry | None] = {path: self._entry(path) for path in self.paths}
        self.whole = any(path.split(".")[2:3] and path.split(".")[2] in _REFERENCE_FIELDS for path in self.paths)
        self._cache: dict[Any, dict[str, Any] | None] = {}

    def _entry(self, path: str) -> _Entry | None:
        parts = path.split(".")
        if parts[0] not in MODELS or len(parts) < 3:
            return None  # title / description: no engine fact reads them
        entries = self.data.get(parts[0], [])
        name = parts[1]
        for index, entry in enumerate(entries):
            if name.isascii() and name.isdigit() and int(name) == index:
                return _Entry(parts[0], index, entry_key(parts[0], entry))
            if entry_key(parts[0], entry) == (pair_key(*name.split("-", 1)) if parts[0] == "relations" and name.count("-") == 1 else name):
                return _Entry(parts[0], index, entry_key(parts[0], entry))
        return None

    def validate(self) -> None:
        """Check every grid point before anything runs: each entry's combinations of values once (they are cached for
        the walk), or, when a path re-links the scenario, the whole scenario at each point."""
        if self.whole:
            for point in itertools.product(*self.vary.values()):
                self._whole(point)
            return
        by_entry: dict[_Entry, list[str]] = {}
        for path in self.paths:
            entry = self.entries[path]
            if entry is not None:
                by_entry.setdefault(entry, []).append(path)
        for entry, paths in by_entry.items():
            for values in itertools.product(*(self.vary[path] for path in paths)):
                settings = list(zip(paths, values))
                cache_key = (entry, tuple(settings))
                if cache_key not in self._cache:
                    self._cache[cache_key] = self._encode_entry(entry, settings)

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
        # apply_assignments copies what it changes; the values are already parsed (no YAML read back from text)
        mini = {entry.collection: [self.data[entry.collection][entry.index]]}
        assignments = [assignment_of(f"{entry.collection}.{entry.key}.{'.'.join(path.split('.')[2:])}", value) for path, value in settings]
        mini = self._apply(mini, assignments)
        try:
            model = MODELS[entry.collection].model_validate(mini[entry.collection][0])
        except ValidationError as exc:
            where = ", ".join(f"{p}={display_value(v)}" for p, v in settings)
            raise ScenarioError(f"the grid point {where} is not a valid scenario: {exc.errors(include_url=False)[0]['msg']}", code="bad_grid_point", location="--vary") from None
        encoded = self.encode(_OneEntry(entry.collection, model))  # type: ignore[arg-type]
        return encoded[0] if encoded else None

    def _whole(self, point: tuple[Any, ...]) -> list[dict[str, Any]]:
        # Not cached: a copy of every fact per grid point would grow with the grid (each point is validated twice instead).
        data = self._apply(self.data, [self._parse(f"{p}={_text(v)}") for p, v in zip(self.paths, point)])
        return self.encode(load_scenario(data, limits=self.limits))


def _text(value: Any) -> str:
    """A value back into `--set` text (JSON is valid YAML, so strings with commas or colons survive)."""
    if isinstance(value, str):
        return value if value and value.replace("-", "").replace("_", "").isalnum() else json.dumps(value)
    return json.dumps(value)


def _run_points(
    engine: Engine, planner: _Grid, points: Iterable[tuple[Any, ...]], progress: Callable[[int], None] | None = None, deadline: float | None = None
) -> list[set[tuple[str, str]]]:
    """What holds at each point, walked in one session; stops early (fewer results) once `deadline` (monotonic) passes."""
    results = []
    with Session(engine) as session:
        for point in points:
            if deadline is not None and time.monotonic() > deadline:
                break
            results.append(session.evaluate(planner.facts(point)))
            if progress is not None:
                progress(1)
    return results


_WORKER: dict[str, Any] = {}


def _init_worker(ruleset: RuleSet, scenario_data: dict[str, Any], vary: dict[str, list[Any]], limits: SizeLimits) -> None:
    # One engine per worker process (compiling rules and registering them with durable_rules is done once).
    engine = Engine(ruleset=ruleset)
    engine.limits = limits  # type: ignore[attr-defined] - what admission reads (the parent's engine limits)
    _WORKER["engine"] = engine
    _WORKER["planner"] = _Grid(load_scenario(scenario_data, limits=limits), vary, engine.facts_of, None, limits)


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
    seconds: float | None = None,
    origins: Mapping[str, str] | None = None,
) -> SweepResult:
    """Evaluate every grid point (one incremental session per process; up to `jobs` processes) and tabulate what holds.

    Grids refused over `max_points` (which cannot go past MAX_POINTS_CEILING); `progress(n)` is called as n more
    points are done. The grid is enumerated as it is walked, never built beforehand. With `seconds`, the grid is
    walked in one process and the walk stops once that much time has passed (the result says so in `stopped_by`).
    `origins` names, per varied path, where it was asked for (what problems about it give as their location).
    """
    started = time.monotonic()
    if not vary:
        raise InputError("nothing to vary: give at least one --vary PATH=V1,V2", code="bad_vary", location="--vary")
    size = grid_size(vary)
    if size > MAX_POINTS_CEILING:
        raise InputError(
            f"the grid has {size:,} points, over the {MAX_POINTS_CEILING:,} a sweep can hold in memory (--max cannot raise it further)",
            code="grid_too_large",
            location="--vary",
            hint="vary fewer values, or split the sweep into several",
        )
    if size > max_points:
        raise InputError(
            f"the grid has {size:,} points, over the limit of {max_points:,}", code="grid_too_large", location="--vary", hint="raise the limit with --max, or vary fewer values"
        )
    planner = _Grid(scenario, vary, engine.facts_of, origins, engine_limits(engine))
    planner.validate()
    jobs = 1 if seconds is not None else plan_jobs(size, jobs, min_points_per_job)
    if jobs == 1:
        results = _run_points(engine, planner, grid(vary), progress, None if seconds is None else started + seconds)
    else:
        results = _run_parallel(engine, scenario, vary, list(grid(vary)), jobs, progress)
    order = {r.concludes: i for i, r in enumerate(engine.rules)}
    seen = sorted({rule for held in results for rule, _ in held}, key=lambda r: (order.get(r, 0), r))
    rows = []
    for point, held in zip(grid(vary), results):
        by_rule: dict[str, list[str]] = {}
        for rule, subject in held:
            by_rule.setdefault(rule, []).append(subject)
        holds = {rule: sorted(by_rule[rule]) for rule in seen if rule in by_rule}
        # Built from values the grid and the session made: no validation to pay at each point.
        rows.append(SweepPoint.model_construct(values=dict(zip(vary, point)), holds=holds))
    stopped_by = "seconds" if len(results) < size else None
    return SweepResult(scenario=scenario.title, vary=vary, recommendations=seen, points=rows, stopped_by=stopped_by)


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
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(engine.ruleset, data, vary, engine_limits(engine))) as pool:
        futures = {pool.submit(_worker, chunk): index for index, chunk in enumerate(chunks)}
        for future in as_completed(futures):
            index = futures[future]
            parts[index] = future.result()
            if progress is not None:
                progress(len(chunks[index]))
    return [held for part in parts for held in (part or [])]


def default_jobs() -> int:
    """The machine's cores (what `--jobs` defaults to)."""
    return os.cpu_count() or 1


__all__ = ["DEFAULT_MAX_POINTS", "MAX_POINTS_CEILING", "SweepPoint", "SweepResult", "default_jobs", "grid", "grid_size", "parse_vary", "plan_jobs", "sweep"]
