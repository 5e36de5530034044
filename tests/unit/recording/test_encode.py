"""JSON as the recorder writes it: the fast paths write exactly what the standard encoder would."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ragtel.recording.encode import compact_json, json_string, to_json

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
