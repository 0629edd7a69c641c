"""JSON documents are read by the json module when nothing is wrong, by the positions-recording reader otherwise:
the fast path must accept nothing the reader refuses, and give exactly its data (and, when asked, its positions)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from nea_policy.errors import InputError
from nea_policy.model.bounded import Bounds
from nea_policy.model.documents import _REFUSED, MAX_DEPTH, MAX_DIGITS, _fast_json, parse_document
from nea_policy.model.json_reader import JsonReader

BOUNDS = Bounds(60, 8, MAX_DIGITS)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)), max_leaves=40)


def _slow(text: str, bounds: Bounds) -> tuple[object, dict] | InputError:
    reader = JsonReader(text, "x.json", bounds)
    try:
        return reader.parse(), reader.positions
    except InputError as error:
        return error


def _texts(value: object) -> list[str]:
    text = json.dumps(value, allow_nan=True)
    # a duplicate key, a surrogate half, a cut, an extra comma: texts a file can hold
    return [text, text.replace("{", '{"k": 1, "k": 2, ', 1), '["\\ud800"]', text[: len(text) // 2], text.replace("]", ",]", 1)]


@settings(max_examples=300, deadline=None)
@given(values)
def test_the_fast_path_accepts_only_what_the_reader_accepts_and_gives_its_data(value: object) -> None:
    for text in _texts(value):
        fast = _fast_json(text, BOUNDS)
        slow = _slow(text, BOUNDS)
        if fast is not _REFUSED:
            assert not isinstance(slow, InputError), f"fast path accepted what the reader refuses: {text!r}: {slow}"
            assert fast == slow[0] and type(fast) is type(slow[0])


def test_positions_are_the_readers_when_asked_for() -> None:
    text = '{\n  "countries": [\n    {"code": "CN", "name": "China"}\n  ],\n  "flows": []\n}\n'
    document = parse_document(text, "x.json", fmt="json")
    reader = JsonReader(text, "x.json", Bounds(1000, MAX_DEPTH, MAX_DIGITS))
    reader.parse()
    assert document.positions == reader.positions
    assert document.locate(("countries", 0, "name")) == "x.json:3:20"  # the column of the name's key


def test_a_problem_is_located_by_the_reader() -> None:
    for text, code in (('{"a": 1, "a": 2}', "duplicate_key"), ('{"a": NaN}', "not_finite"), ('{"a": ' + "1" * 40 + "}", "number_too_long")):
        try:
            parse_document(text, "x.json", fmt="json")
        except InputError as error:
            assert error.code == code and error.problems[0].location.startswith("x.json:1:")
        else:
            raise AssertionError(f"{text!r} was accepted")
