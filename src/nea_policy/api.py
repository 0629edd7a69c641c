"""The library calls behind the command line: read fact files (or standard input), check them, evaluate them, compare them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .documents import DEFAULT_MAX_BYTES, Document, decode_bytes, load_document, parse_document
from .errors import InputError, NeaPolicyError, Problem
from .facts import Scenario, scenario_from_document
from .report import Report

if TYPE_CHECKING:
    from .compare import Comparison
    from .engine import Engine

STDIN = "-"


def read_document(source: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, stdin: IO[bytes] | None = None) -> Document:
    """Parse one fact file; `-` reads standard input (YAML, or JSON when it starts with `{` or `[`)."""
    if str(source) != STDIN:
        return load_document(source, max_bytes=max_bytes)
    if stdin is None:
        raise InputError("no standard input to read", code="no_stdin", location="<stdin>")
    raw = stdin.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise InputError(
            f"standard input is over the limit of {max_bytes:,} bytes; raise it with --max-bytes if the input is genuine",
            code="file_too_large",
            location="<stdin>",
        )
    text = decode_bytes(raw, "<stdin>")
    fmt = "json" if text.lstrip().startswith(("{", "[")) else None
    return parse_document(text, "<stdin>", fmt=fmt)


def read_scenario(source: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, stdin: IO[bytes] | None = None) -> Scenario:
    """A validated Scenario from a fact file or standard input."""
    return scenario_from_document(read_document(source, max_bytes=max_bytes, stdin=stdin))


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one fact file: its scenario when valid, else every problem found."""

    source: str
    scenario: Scenario | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """Whether the file is a valid scenario."""
        return self.scenario is not None


def check_sources(sources: list[str], *, max_bytes: int = DEFAULT_MAX_BYTES, stdin: IO[bytes] | None = None) -> list[CheckResult]:
    """Validate fact files without evaluating them; each file's problems all at once."""
    results: list[CheckResult] = []
    for source in sources:
        try:
            scenario = read_scenario(source, max_bytes=max_bytes, stdin=stdin)
        except NeaPolicyError as exc:
            results.append(CheckResult(str(source), None, tuple(exc.problems)))
        else:
            results.append(CheckResult(str(source), scenario, ()))
    return results


def evaluate_sources(
    sources: list[str],
    *,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: IO[bytes] | None = None,
) -> list[Report]:
    """Load the rules once and evaluate every fact file; if any file is bad, one error with every file's problems."""
    engine = make_engine(rules, extra_rules)
    scenarios = _read_all(sources, max_bytes=max_bytes, stdin=stdin)
    return [engine.evaluate(scenario) for scenario in scenarios]


def _read_all(sources: list[str], *, max_bytes: int, stdin: IO[bytes] | None) -> list[Scenario]:
    """Every source's scenario; if some are bad, one error with all their problems (the error's own type if only one)."""
    scenarios: list[Scenario] = []
    errors: list[NeaPolicyError] = []
    for source in sources:
        try:
            scenarios.append(read_scenario(source, max_bytes=max_bytes, stdin=stdin))
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
) -> Comparison:
    """Compare what two fact files lead to, with the fact differences behind each change."""
    from .compare import compare_scenarios

    scenarios = _read_all([base, variant], max_bytes=max_bytes, stdin=stdin)
    return compare_scenarios(scenarios[0], scenarios[1], make_engine(rules, extra_rules))


def what_if_source(
    source: str,
    assignments: list[str],
    *,
    rules: list[str | Path] | None = None,
    extra_rules: list[str | Path] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: IO[bytes] | None = None,
) -> Comparison:
    """Apply `PATH=VALUE` changes to a fact file and compare the result with the original."""
    from .whatif import what_if

    document = read_document(source, max_bytes=max_bytes, stdin=stdin)
    _, _, comparison = what_if(document, assignments, make_engine(rules, extra_rules))
    return comparison


_ENGINES: dict[tuple[Any, ...], Engine] = {}


def make_engine(rules: list[str | Path] | None = None, extra_rules: list[str | Path] | None = None) -> Engine:
    """An engine over the bundled rules, or over the given rule folders plus extra packs; one per set of rule files.

    durable_rules never frees a host or a ruleset, so a process that evaluates many times (tests, a server)
    reuses the engine while the rule files are unchanged.
    """
    from .engine import Engine

    key = (_folders_key(rules), _folders_key(extra_rules))
    engine = _ENGINES.get(key)
    if engine is None:
        engine = Engine(list(rules) if rules else None, list(extra_rules) if extra_rules else None)
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


def check_actor(reports: list[Report], actor: str) -> None:
    """An error when no report's scenario declares the country an --actor names (a typo would otherwise show nothing)."""
    declared = sorted({code for report in reports for code in report.scenario.countries})
    if actor not in declared:
        import difflib

        close = difflib.get_close_matches(actor, declared, n=1)
        raise InputError(
            f"{actor} is not a country of the scenario; declared: {', '.join(declared)}",
            code="unknown_actor",
            location="--actor",
            hint=f"did you mean {close[0]}?" if close else "",
        )


SCHEMA_KINDS = ("facts", "report")


def json_schema(kind: str) -> dict[str, Any]:
    """JSON Schema of a fact file (`facts`) or of the JSON report (`report`), for editors and other tools."""
    if kind == "facts":
        schema = Scenario.model_json_schema()
        title = "nea-policy fact file (scenario)"
    elif kind == "report":
        from .report import Report as ReportModel

        schema = ReportModel.model_json_schema(mode="serialization")
        title = "nea-policy report"
    else:
        raise InputError(f"no schema {kind!r}; choose one of {', '.join(SCHEMA_KINDS)}", code="unknown_schema")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": title}
