"""Hostile input: fuzzed fact files, YAML bombs and tags, huge and deep files, odd bytes and characters.

Each case must end in the project's own error (exit 1 from the CLI, a message that names the place and says what
to do) or in a report, and must leave the engine as it was.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import live_facts
from fuzzing import FIELD_NAMES, VALUES, mutated_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nea_policy.cli import main
from nea_policy.engine.engine import Engine
from nea_policy.errors import InputError, NeaPolicyError, RuleError, ScenarioError
from nea_policy.model.documents import (
    DEFAULT_MAX_BYTES,
    decode_bytes,
    load_document,
    parse_document,
)
from nea_policy.model.facts import parse_scenario_text, scenario_from_document
from nea_policy.model.report import Report
from nea_policy.render.text import render_text

ROOT = Path(__file__).resolve().parent.parent
NK = ROOT / "examples" / "north-koreans-in-china.yaml"
# Raw terminal controls and bidirectional overrides must never reach a reader's screen from a fact value.
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])


def cli(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def reference(engine: Engine) -> str:
    """The report of a normal example, to check that hostile input left the engine as it was."""
    return engine.evaluate(NK).to_json()


def _unaffected(engine: Engine, reference: str) -> None:
    assert engine.evaluate(NK).to_json() == reference
    assert live_facts(engine) == []


def _outcome(engine: Engine, data: Any) -> Report | NeaPolicyError:
    """Evaluate; the project's own error is an acceptable outcome, any other exception fails the test."""
    try:
        report = engine.evaluate(data)
    except NeaPolicyError as error:
        assert error.problems and all(p.message for p in error.problems)
        return error
    report.to_json()
    assert not RAW_CONTROLS.search(render_text(report))
    return report


# --- property-based fuzzing ----------------------------------------------------------------------------------

# The strategies are the fuzzing harness's (tests/fuzzing.py): values of each field's kind, hostile ones, examples mutated.


@FUZZ
@given(data=st.dictionaries(st.one_of(FIELD_NAMES, st.text(max_size=8)), VALUES, max_size=6))
def test_random_structures_give_a_report_or_our_error(engine: Engine, data: dict[str, Any]) -> None:
    _outcome(engine, data)


@FUZZ
@given(data=mutated_data(min_changes=1))
def test_mutated_examples_give_a_report_or_our_error(engine: Engine, data: dict[str, Any]) -> None:
    _outcome(engine, data)
    assert live_facts(engine) == []


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(data=mutated_data(min_changes=1), fmt=st.sampled_from(["yaml", "json"]))
def test_mutated_fact_files_as_text_give_a_scenario_or_our_error(data: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        text = json.dumps(data, allow_nan=True)
    else:
        try:
            text = yaml.safe_dump(data, allow_unicode=True)
        except yaml.YAMLError:  # a value PyYAML itself cannot write (e.g. a lone surrogate)
            return
    try:
        parse_scenario_text(text, f"fuzzed.{fmt}", fmt=fmt)
    except NeaPolicyError as error:
        assert error.problems[0].location.startswith("fuzzed."), error


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_random_bytes_give_a_scenario_or_our_error(raw: bytes) -> None:
    for name in ("fuzzed.yaml", "fuzzed.json"):
        try:
            scenario_from_document(parse_document(decode_bytes(raw, name), name))
        except NeaPolicyError:
            pass


# --- hostile files through the command line ------------------------------------------------------------------

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi")]
) + "\ncountries: *i\n"

HOSTILE: dict[str, tuple[str | bytes, str, str]] = {
    # name: (content, expected error code, words the message must hold)
    "billion-laughs": (BILLION_LAUGHS, "too_many_nodes", "aliases"),
    "python-object": ("countries: !!python/object/apply:os.system ['echo pwned']\n", "unsafe_tag", "plain data"),
    "python-name": ("title: !!python/name:os.system\ncountries: []\n", "unsafe_tag", "plain data"),
    "custom-tag": ("countries: !include /etc/passwd\n", "unsafe_tag", "plain data"),
    "set-tag": ("countries: !!set {CN, JP}\n", "unsafe_tag", "plain data"),
    "deep-nesting": ("countries: " + "[" * 5000 + "]" * 5000 + "\n", "yaml_syntax", "nesting"),
    "deep-block-nesting": ("countries:\n" + "".join("  " * i + f"- k{i}:\n" for i in range(150)), "too_deep", "nesting deeper than"),
    "not-utf8": (b"title: caf\xe9\ncountries: []\n", "not_utf8", "save the file as UTF-8"),
    "nan": ("title: x\ncountries: [{code: CN, name: .nan}]\n", "not_finite", "finite number"),
    "infinity": ("countries: [{code: CN, name: China}]\nflows: [{id: a, name: a, origin: CN, destination: JP, estimates: [{low: 1, high: .inf, kind: careful}]}]\n", "not_finite", "finite number"),
    "megabyte-string": ("countries: [{code: CN, name: '" + "x" * 1_000_000 + "'}]\n", "bad_value", "at most 2000 characters"),
    "empty": ("   \n", "empty_file", "describe a scenario"),
    "duplicate-key": ("countries: []\ncountries: []\n", "duplicate_key", "keep one"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_a_clear_error_with_exit_1(tmp_path: Path, engine: Engine, reference: str, name: str) -> None:
    content, code, words = HOSTILE[name]
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(NeaPolicyError) as caught:
        engine.evaluate(path)
    assert caught.value.code == code and words in str(caught.value)
    assert caught.value.problems[0].location.startswith(str(path))
    exit_code, out, err = cli("evaluate", str(path))
    assert exit_code == 1 and out == ""
    assert err.startswith("error: ") and str(path) in err and words in err
    assert len(err) < 2000, "the message must not echo a huge value back"
    _unaffected(engine, reference)


def test_json_nan_and_deep_json_are_clear_errors(tmp_path: Path) -> None:
    nan = tmp_path / "nan.json"
    nan.write_text('{"title": NaN, "countries": [{"code": "CN", "name": "China"}]}', encoding="utf-8")
    deep = tmp_path / "deep.json"
    deep.write_text('{"countries": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    for path, code in ((nan, "not_finite"), (deep, "too_deep")):
        with pytest.raises(InputError) as caught:
            load_document(path)
        assert caught.value.code == code
        exit_code, _, err = cli("evaluate", str(path))
        assert exit_code == 1 and err.startswith(f"error: {path}")


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path, engine: Engine, reference: str) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:  # a sparse 100 MB file: the limit must be checked before reading it
        handle.truncate(100 * 1024 * 1024)
    assert huge.stat().st_size > DEFAULT_MAX_BYTES
    with pytest.raises(InputError) as caught:
        load_document(huge)
    assert caught.value.code == "file_too_large" and "--max-bytes" in str(caught.value)
    small = tmp_path / "small.yaml"
    small.write_text(NK.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError):
        load_document(small, max_bytes=100)
    assert load_document(small, max_bytes=small.stat().st_size).data["countries"]
    exit_code, out, err = cli("evaluate", str(huge))
    assert exit_code == 1 and out == "" and "104,857,600 bytes, over the limit" in err and "--max-bytes" in err
    _unaffected(engine, reference)


# --- odd characters in values --------------------------------------------------------------------------------


def _with_flow_name(tmp_path: Path, name: str) -> Path:
    data = yaml.safe_load(NK.read_text(encoding="utf-8"))
    data["flows"][0]["name"] = name
    data["countries"][0]["name"] = name + " country"
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_controls_and_bidi_marks_in_names_are_escaped_in_output(tmp_path: Path, fmt: str) -> None:
    path = _with_flow_name(tmp_path, "North\u202eKoreans\x1b[2J\u2066x\u0007")
    exit_code, out, _ = cli("evaluate", str(path), "--format", fmt)
    assert exit_code == 0
    assert not RAW_CONTROLS.search(out.replace("\n", "")), f"raw control or bidi character in {fmt} output"
    assert "\\u202e" in out.lower() and "\\u001b" in out.lower()


def test_braces_in_values_are_printed_literally_in_justifications(tmp_path: Path, engine: Engine) -> None:
    odd = "{host.name} ${HOME} {0} {{x}} %s {flow.__class__}"
    report = engine.evaluate(_with_flow_name(tmp_path, odd))
    texts = [r.justification for r in report.recommendations] + [f.justification for f in report.findings]
    holding = [t for t in texts if odd in t]
    assert holding, "the flow's name should appear in some justification"
    for text in holding:
        assert "${HOME}" in text and "<class" not in text
    exit_code, out, _ = cli("evaluate", str(tmp_path / "odd.yaml"))
    assert exit_code == 0 and odd in out.replace("\n    ", " ")


# --- rule files are data -------------------------------------------------------------------------------------


def _rule_folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "rules.yaml").write_text(text, encoding="utf-8")
    return folder


def test_a_rule_file_with_a_python_tag_is_refused_and_not_run(tmp_path: Path, engine: Engine, reference: str) -> None:
    marker = tmp_path / "pwned"
    folder = _rule_folder(tmp_path, f"rules: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises((RuleError, InputError)) as caught:
        Engine(rules=[folder])
    assert "plain data" in str(caught.value)
    exit_code, _, err = cli("evaluate", str(NK), "--rules", str(folder))
    assert exit_code == 1 and "plain data" in err
    assert not marker.exists()
    _unaffected(engine, reference)


def test_a_template_cannot_reach_python_attributes(tmp_path: Path) -> None:
    rule = {
        "id": "probe", "kind": "recommendation", "title": "probe", "subject": "flow", "facts": {"flow": "flow"},
        "when": ["flow.abuse is set"], "actors": ["flow.destination"], "source": {"section": "Test", "quote": "a quote"},
        "justification": "{flow.__class__} {flow.name.__globals__}",
    }
    folder = _rule_folder(tmp_path, yaml.safe_dump({"rules": [rule]}))
    with pytest.raises(RuleError) as caught:
        Engine(rules=[folder])
    assert "__class__" in str(caught.value)


def test_wrong_types_name_the_field_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "types.yaml"
    path.write_text("countries:\n  - code: CN\n    name: [not, a, string]\n  - code: 12\n    name: x\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario_text(path.read_text(encoding="utf-8"), str(path))
    text = str(caught.value)
    assert f"{path}:3:" in text and "countries[0].name" in text
    assert f"{path}:4:" in text and "countries[1].code" in text
    exit_code, out, err = cli("evaluate", str(path))
    assert exit_code == 1 and out == "" and err.count("error: ") == 2
