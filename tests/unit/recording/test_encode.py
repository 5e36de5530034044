"""JSON as the recorder writes it: the fast paths write exactly what the standard encoder would."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ragtel.recording import encode
from ragtel.recording.encode import compact_json, float_json, json_string, to_json

_SCALARS = (
    st.text()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | st.none()
)


def _standard(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), _SCALARS, max_size=8))
def test_flat_dicts_are_written_as_the_encoder_writes_them(value: dict[str, object]) -> None:
    assert to_json(value) == _standard(value)
    assert compact_json(value) == _standard(value)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_a_string_literal_is_the_encoders(text: str) -> None:
    assert json_string(text) == json.dumps(text, ensure_ascii=False)


def test_values_the_fast_path_leaves_to_the_encoder() -> None:
    nested = {"a": [1, {"b": None}], "c": (1, 2)}
    assert to_json(nested) == '{"a":[1,{"b":null}],"c":[1,2]}'
    assert to_json({"x": float("nan")}) == '{"x":"nan"}'  # the careful path, as before
    assert to_json({1: "int key"}) == '{"1":"int key"}'


def test_values_the_c_encoder_refuses_still_come_out_as_json() -> None:
    # The built-once encoder keeps no circular-reference markers: a cycle must end in the
    # careful path, not in an exception or a hang.
    cyclic: dict[str, object] = {"name": "loop"}
    cyclic["self"] = cyclic
    looped = json.loads(to_json(cyclic))
    assert looped["name"] == "loop"
    assert "nested too deep" in json.dumps(looped)
    assert json.loads(to_json({"score": float("nan"), "问题": "如何重置密码？"})) == {
        "score": "nan",
        "问题": "如何重置密码？",
    }


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_json_of_plain_values_is_what_json_writes(value: object) -> None:
    # Small values are written out without the encoder: byte for byte the same JSON.
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    assert to_json(value) == expected
    assert to_json([value, {"nested": [value]}]) == f'[{expected},{{"nested":[{expected}]}}]'


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=20))
def test_float_json_is_the_shortest_repr_whatever_came_before(values: list[float]) -> None:
    # Kept floats must not answer for equal ones of another spelling: 0.0 and -0.0.
    for value in [*values, 0.0, -0.0, *values, -0.0, 0.0]:
        assert float_json(value) == repr(value)
    assert len(encode._FLOAT_JSON) <= encode._MAX_FLOAT_JSON
