"""The fuzzing harness: hypothesis strategies over mutated example fact files, and the check every file must pass.

A fuzzed file is an example, changed at the data level (values replaced with values of the field's kind or hostile
ones, keys deleted or added), written as YAML or JSON, then maybe changed at the text level (hostile YAML and JSON
snippets spliced in: merge keys, aliases, tags, numbers of thousands of digits, controls, brackets, duplicate
keys...). `check_file` runs one through the library and the command line and asserts that the outcome is a report,
or the project's own located, coded error; never "unexpected", and check and evaluate agree.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import strategies as st

from nea_policy.cli import main
from nea_policy.engine.engine import Engine
from nea_policy.errors import NeaPolicyError
from nea_policy.model.documents import decode_bytes, parse_document
from nea_policy.model.fact_types import FACT_TYPES
from nea_policy.model.facts import scenario_from_document
from nea_policy.render.markdown import render_markdown
from nea_policy.render.text import render_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
EXAMPLE_DATA = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in EXAMPLES]
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
ERROR_LINE = re.compile(r"^error: (?P<location>\S.*?): (?P<code>[a-z][a-z0-9_]*): \S")

HOSTILE_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["{flow.name}", "${HOME}", "{0}", "%s", "<script>x</script>", "[a](javascript:b)", "\u202eevil", "\u2066x\u2069", "\x1b[2J", "a\x00b", "'\"\\", "x\nerror: forged", "é" * 50]
    ),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    HOSTILE_TEXT,
    st.sampled_from(["none", "low", "moderate", "high", "severe", "CN", "JP", "KP", "RU", "KR", "regular", "irregular", "unclear", "mixed", "traders", "alarmist", "careful", ""]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=16)
FIELD_NAMES = st.sampled_from(
    ["code", "name", "id", "origin", "destination", "destination_region", "between", "kinds", "legal_status", "abuse", "estimates", "labels", "low", "high",
     "kind", "proximity", "country", "countries", "flows", "relations", "regions", "agreements", "title", "sectors", "rising_power", "cultural_gap",
     "persecution_risk_on_return", "has_work_and_shelter", "accepted_conventions", "labor_shortage", "surplus_labor", "media_tone", "by", "label"]
)


def _field_strategy(spec: Any) -> st.SearchStrategy[Any]:
    kind = spec.kind.removeprefix("list[").removesuffix("]")
    if kind in ("level", "enum"):
        one: st.SearchStrategy[Any] = st.sampled_from(spec.values)
    elif kind == "bool":
        one = st.booleans()
    elif kind == "code":
        one = st.sampled_from(["CN", "JP", "KP", "KR", "MN", "RU"])
    elif kind == "number":
        one = st.integers(min_value=0, max_value=2**64)
    else:
        one = HOSTILE_TEXT
    return st.lists(one, max_size=4) if spec.is_list else one


FIELD_VALUES = {name: _field_strategy(spec) for fact in FACT_TYPES.values() for name, spec in fact.fields.items() if not spec.derived}
FIELD_VALUES.update(title=HOSTILE_TEXT, description=HOSTILE_TEXT, by=HOSTILE_TEXT, label=HOSTILE_TEXT, low=st.integers(0, 10**12), high=st.integers(0, 10**12))


def _value_for(key: Any) -> st.SearchStrategy[Any]:
    typed = FIELD_VALUES.get(key) if isinstance(key, str) else None
    return st.one_of(typed, typed, typed, VALUES) if typed is not None else VALUES


@st.composite
def mutated_data(draw: st.DrawFn, min_changes: int = 0) -> dict[str, Any]:
    """An example's data with a few values replaced, deleted or added at random places (most stay valid)."""
    data = copy.deepcopy(draw(st.sampled_from(EXAMPLE_DATA)))
    for _ in range(draw(st.integers(min_changes, 3))):
        node: Any = data
        while True:
            keys = list(node.keys()) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            if isinstance(node[key], (dict, list)) and node[key] and draw(st.integers(0, 7)):
                node = node[key]
                continue
            action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
            if action == "replace":
                node[key] = draw(_value_for(key))
            elif action == "delete":
                del node[key]
            elif isinstance(node, dict):
                name = draw(FIELD_NAMES)
                node[name] = draw(_value_for(name))
            else:
                node.append(draw(VALUES))
            break
    return data


# Snippets that broke readers, parsers or the engine before (issue 15) or could: spliced into the text.
SNIPPETS = [
    "<<: 1", "<<: [1, 2]", "<<: *a", "&a ", "*a", "*nowhere", "&b [*b]", "!!python/name:os.system ", "!!binary ", "!!set ", "!foo ", "? [a]\n: b\n",
    "9" * 5000, "-" + "9" * 400, "1e400", "-.inf", ".nan", "NaN", "Infinity", "0x" + "F" * 60, ":".join(["1"] * 80), "2001-13-45", "1_000_000",
    "{", "}", "[", "]", ",", ": ", "- ", "\t", "\x00", "\x07", "\x1b[2J", "\u202e", "\u2028", "\ufeff", '"\\ud800"', '"\\udc00"', "\\u0000",
    "x[0]: 1\n", '"x[0]": 1, ', "yes: 1\n", "~: 2\n", "'", '"', "#", "---\n", "...\n", "%YAML 1.1\n", "countries: []\n", "flows:\n", "- {}\n",
    "name: name\nname: name\n", '"a": 1, "a": 2, ', "[" * 150, "]" * 150, "{" * 120, "low: -1", "high: 99999999999999999999999999999",
]


@st.composite
def fuzzed_file(draw: st.DrawFn) -> tuple[str, str | bytes]:
    """(format, content): a mutated example as YAML or JSON, its text maybe spliced with hostile snippets, or raw bytes."""
    fmt = draw(st.sampled_from(["yaml", "json"]))
    if draw(st.integers(0, 40)) == 0:
        return fmt, draw(st.binary(max_size=300))
    data = draw(mutated_data())
    try:
        text = json.dumps(data, allow_nan=True, ensure_ascii=draw(st.booleans())) if fmt == "json" else yaml.safe_dump(data, allow_unicode=True)
    except (yaml.YAMLError, ValueError, UnicodeEncodeError):
        text = json.dumps(data, allow_nan=True)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):  # half the files reach the engine unspliced
        at = draw(st.integers(0, len(text)))
        line_start = text.rfind("\n", 0, at) + 1
        where = draw(st.sampled_from([at, line_start]))
        cut = draw(st.integers(0, 3))
        text = text[:where] + draw(st.sampled_from(SNIPPETS)) + text[where + cut :]
    return fmt, text


OUTCOMES: Counter[str] = Counter()


def _located(problems: list[Any], name: str) -> None:
    assert problems, "an error without a problem"
    for problem in problems:
        assert CODE.match(problem.code), problem
        assert problem.message, problem
        assert problem.location.startswith(name), f"not located in the file: {problem}"


def check_file(engine: Engine, tmp: Path, fmt: str, content: str | bytes) -> str:
    """Run one fuzzed file through the library and the CLI; the outcome ('report' or an error code), or an AssertionError."""
    path = tmp / f"fuzzed.{fmt}"
    raw = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    path.write_bytes(raw)
    name = str(path)
    # --- the library
    outcome: str
    try:
        scenario = scenario_from_document(parse_document(decode_bytes(raw, name), name))
        report = engine.evaluate(scenario)
    except NeaPolicyError as error:
        _located(error.problems, name)
        outcome = error.code
    else:
        report.to_json()
        assert not RAW_CONTROLS.search(render_text(report).replace("\n", "")), "a raw control in a text report"
        assert not RAW_CONTROLS.search(render_markdown([report]).replace("\n", "")), "a raw control in a Markdown report"
        outcome = "report"
    # --- the command line: check (JSON and text) and evaluate agree with the library and with each other
    runner = CliRunner()
    checked = runner.invoke(main, ["check", name, "--format", "json"], catch_exceptions=False)
    results = json.loads(checked.stdout)
    assert checked.exit_code == (0 if outcome == "report" else 1), (outcome, checked.stdout[:2000])
    assert results[0]["ok"] == (outcome == "report")
    for problem in results[0]["problems"]:
        assert problem["code"] != "internal_error" and problem["location"].startswith(name), problem
    evaluated = runner.invoke(main, ["evaluate", name, "--format", "json"], catch_exceptions=False)
    assert "error: unexpected " not in evaluated.stderr and "Traceback" not in evaluated.stderr, evaluated.stderr[:2000]
    assert evaluated.exit_code == checked.exit_code, "check and evaluate disagree"
    if evaluated.exit_code:
        lines = [line for line in evaluated.stderr.splitlines() if not line.startswith(" ")]
        assert lines and all(ERROR_LINE.match(line) for line in lines), evaluated.stderr[:2000]
        assert not RAW_CONTROLS.search(evaluated.stderr.replace("\n", "")), "a raw control in an error message"
    else:
        json.loads(evaluated.stdout)
    OUTCOMES[outcome] += 1
    return outcome
