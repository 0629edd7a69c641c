"""The bounded readers: bytes counted as they are read, YAML built from events, JSON with positions, all within bounds."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from nea_policy.errors import InputError
from nea_policy.model.documents import MAX_DIGITS, parse_document
from nea_policy.model.files import read_bytes, read_stream
from nea_policy.model.paths import parse_assignment

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def refused(text: str, name: str = "f.yaml", **options: int) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_document(text, name, **options)
    return caught.value


# --- bytes -----------------------------------------------------------------------------------------------------


def test_a_file_whose_size_says_nothing_is_counted_as_it_is_read() -> None:
    # /proc files report a size of 0 and hold more: the bytes read are what counts.
    environ = Path("/proc/self/status")
    assert environ.stat().st_size == 0
    assert read_bytes(environ, max_bytes=100_000)
    with pytest.raises(InputError) as caught:
        read_bytes(environ, max_bytes=10)
    assert caught.value.code == "file_too_large" and "over the limit of 10 bytes" in str(caught.value)


def test_a_stream_is_read_to_its_end_within_the_limit() -> None:
    assert read_stream(io.BytesIO(b"x" * 5000), max_bytes=5000) == b"x" * 5000
    with pytest.raises(InputError) as caught:
        read_stream(io.BytesIO(b"x" * 5001), max_bytes=5000)
    assert caught.value.code == "file_too_large" and caught.value.problems[0].location == "<stdin>"


def test_a_symlink_loop_and_an_unreadable_file_are_clear_errors(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    with pytest.raises(InputError) as caught:
        read_bytes(loop)
    assert caught.value.code == "symlink_loop"


# --- YAML ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_examples_read_as_pyyaml_reads_them(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert parse_document(text, path.name).data == yaml.safe_load(text)


def test_merge_keys_merge_mappings_as_yaml_says() -> None:
    text = "base: &b {a: 1, b: 2}\nother: &o {b: 3, c: 4}\nx: {<<: [*b, *o], c: 5}\ny: {<<: *b}\n"
    document = parse_document(text, "m.yaml")
    assert document.data["x"] == {"a": 1, "b": 2, "c": 5}, "the first mapping named wins, a key written out wins over all"
    assert document.data["x"] == yaml.safe_load(text)["x"]
    assert document.data["y"] == {"a": 1, "b": 2}
    assert document.locate(("x", "a")) == "m.yaml:3:5", "a merged key is located at the merge"


@pytest.mark.parametrize("value", ["1", "[1, 2]", "[{a: 1}, 2]", "~", "'text'"])
def test_a_merge_of_anything_but_mappings_is_located(value: str) -> None:
    error = refused(f"countries:\n  - <<: {value}\n    code: CN\n")
    assert error.code == "bad_merge" and error.problems[0].location == "f.yaml:2:5"


def test_aliases_count_the_values_they_stand_for_and_share_them() -> None:
    text = "a: &a [1, 2, 3]\nb: *a\nc: *a\n"
    document = parse_document(text, "a.yaml", max_nodes=13)
    assert document.data["b"] is document.data["c"] == [1, 2, 3]
    error = refused(text, max_nodes=12)
    assert error.code == "too_many_nodes" and error.problems[0].location == "f.yaml:3:4"


def test_keys_are_the_text_written() -> None:
    assert parse_document("yes: 1\n2: b\n~: c\n'no': d\n", "k.yaml").data == {"yes": 1, "2": "b", "~": "c", "no": "d"}


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("title: 2001-13-45\n", "bad_value", "f.yaml:1:8"),
        ("title: !!float abc\n", "bad_value", "f.yaml:1:8"),
        ("x: 0x" + "F" * 100 + "\n", "number_too_long", "f.yaml:1:4"),
        ("x: " + ":".join(["1"] * 200) + "\n", "number_too_long", "f.yaml:1:4"),
        ("? [a]\n: b\n", "bad_key", "f.yaml:1:3"),
        ("a: *nowhere\n", "yaml_syntax", "f.yaml:1:4"),
        ("a: &x [*x]\n", "yaml_syntax", "f.yaml:1:8"),
        ("a: 1\n---\nb: 2\n", "yaml_syntax", "f.yaml:2:1"),
        ("a: !!omap [{b: 1}]\n", "unsafe_tag", "f.yaml:1:4"),
        ("!!python/name:os.system : x\n", "unsafe_tag", "f.yaml:1:1"),
    ],
)
def test_yaml_values_that_cannot_be_facts_are_located_errors(text: str, code: str, where: str) -> None:
    error = refused(text)
    assert (error.code, error.problems[0].location) == (code, where), str(error)


def test_a_half_surrogate_is_refused_where_it_is_written() -> None:
    # libyaml refuses the escape itself; the pure-Python parser reads it, and the reader refuses the value.
    error = refused('x: "\\ud800"\n')
    assert error.code in ("yaml_syntax", "bad_character") and error.problems[0].location.startswith("f.yaml:1:")


def test_every_duplicate_key_of_a_yaml_file_is_reported_at_once() -> None:
    error = refused("a: 1\na: 2\nb: {c: 1, c: 2}\n")
    assert [(p.code, p.location) for p in error.problems] == [("duplicate_key", "f.yaml:2:1"), ("duplicate_key", "f.yaml:3:11")]


def test_equals_and_merge_signs_as_values_are_text() -> None:
    assert parse_document("a: =\nb: <<\n", "v.yaml").data == {"a": "=", "b": "<<"}


# --- JSON ------------------------------------------------------------------------------------------------------


def test_json_reads_as_the_json_module_reads_it() -> None:
    data = {"a": [1, -2, 3.5, 1e-3, True, False, None, "é\u2603\n\"\\"], "b": {"c": {}, "d": []}}
    text = json.dumps(data, indent=2, ensure_ascii=False)
    assert parse_document(text, "d.json").data == data
    assert parse_document(json.dumps(data), "d.json").data == data


def test_json_positions_follow_lines_and_columns() -> None:
    document = parse_document('{\n  "a": [10,\n    {"b": 2}],\n  "c": "x"\n}\n', "p.json")
    assert document.locate(("a",)) == "p.json:2:3"
    assert document.locate(("a", 0)) == "p.json:2:9"
    assert document.locate(("a", 1, "b")) == "p.json:3:6"
    assert document.locate(("c",)) == "p.json:4:3"
    assert document.locate(("a", 1, "nothing")) == "p.json:3:5"


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ('{"a": 1 "b": 2}', "json_syntax", "j.json:1:9"),
        ('{"a": [1, 2}', "json_syntax", "j.json:1:12"),
        ('{"a": 1}\n{"b": 2}', "json_syntax", "j.json:2:1"),
        ('{"a": "x\ny"}', "json_syntax", "j.json:1:9"),
        ('{"a": NaN}', "not_finite", "j.json:1:7"),
        ('{"a": -Infinity}', "not_finite", "j.json:1:7"),
        ('{"a": 1e400}', "not_finite", "j.json:1:7"),
        ('{"a": ' + "1" * (MAX_DIGITS + 1) + "}", "number_too_long", "j.json:1:7"),
        ('{"a": "\\udc00"}', "bad_character", "j.json:1:7"),
        ('{"a": ' + "[" * 200 + "]" * 200 + "}", "too_deep", "j.json:1:106"),
    ],
)
def test_json_values_that_cannot_be_facts_are_located_errors(text: str, code: str, where: str) -> None:
    error = refused(text, "j.json")
    assert (error.code, error.problems[0].location) == (code, where), str(error)


def test_every_duplicate_key_of_a_json_file_is_reported_at_once() -> None:
    error = refused('{"a": 1,\n "a": 2,\n "b": {"c": 1, "c": {"d": 1}}}', "j.json")
    assert [(p.code, p.location) for p in error.problems] == [("duplicate_key", "j.json:2:2"), ("duplicate_key", "j.json:3:16")]


def test_a_json_document_over_the_value_limit_is_refused_where_it_crosses_it() -> None:
    error = refused(json.dumps({"a": list(range(100))}), "j.json", max_nodes=50)
    assert error.code == "too_many_nodes" and error.problems[0].location == "j.json:1:" + str(json.dumps({"a": list(range(100))}).index("48") + 1)


# --- --set values ------------------------------------------------------------------------------------------------


def test_set_values_read_like_yaml_and_fall_back_to_text() -> None:
    assert parse_assignment("a.b=true").value is True
    assert parse_assignment("a.b=[x, y]").value == ["x", "y"]
    assert parse_assignment("title=What if: a = b").value == "What if: a = b"
    assert parse_assignment("title=[unclosed").value == "[unclosed"


def test_a_set_value_that_is_no_fact_value_is_a_located_error() -> None:
    with pytest.raises(InputError) as caught:
        parse_assignment("a.b=" + "9" * 100)
    assert caught.value.code == "number_too_long" and caught.value.problems[0].location == "--set"
