"""Safe conversion of arbitrary framework values into OpenTelemetry attribute values.

Framework objects arrive as anything: numpy arrays, bytes, pydantic models, cycles, 5 MB strings.
Nothing here raises: a value that cannot be represented becomes a short placeholder string.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

_MAX_DEPTH = 8
_MAX_ITEMS = 200

# Framework types with a better JSON form than their pydantic dump, registered by the adapters
# (a LangChain document as its id, text and metadata): the encoder knows no framework itself.
_ENCODERS: dict[type, Callable[[Any], Any]] = {}


def is_mapping(value: Any) -> TypeGuard[Mapping[Any, Any]]:
    """``isinstance(value, Mapping)``, answered without the ABC's instance check (a Python call)
    for the types a hook sees most: dicts, texts, lists and None."""
    kind = type(value)
    if kind is dict:
        return True
    if kind is str or kind is list or value is None:
        return False
    return isinstance(value, Mapping)


def register_json_encoder(cls: type, encode: Callable[[Any], Any]) -> None:
    """Encode instances of ``cls`` (and its subclasses) as ``encode(value)`` in JSON values."""
    _ENCODERS[cls] = encode


def registered_forms(value: Any) -> list[Any] | None:
    """The registered JSON form of each item of a list or tuple whose items all have one (a
    retriever's documents handed on to the next step); None for anything else."""
    kind = type(value)
    if (kind is not list and kind is not tuple) or not value or len(value) > _MAX_ITEMS:
        return None
    forms = []
    try:
        for item in value:
            encode = _ENCODERS.get(type(item))
            if encode is None:
                return None
            forms.append(encode(item))
    except Exception:  # a hostile property: the general path handles it
        return None
    return forms


def to_float_list(vector: Any) -> list[float]:
    """A vector as a list of Python floats (numpy arrays and numpy scalars included)."""
    tolist = getattr(vector, "tolist", None)
    if tolist is not None:
        values: list[float] = tolist()
        if values and isinstance(values[0], float):
            return values
        return list(map(float, values))
    return list(map(float, vector))  # in C: a third cheaper than a comprehension


def to_jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-compatible copy of ``value``: bounded depth and width, never raises."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth >= _MAX_DEPTH:
        return f"<{type(value).__name__} nested too deep>"
    try:
        if type(value) is dict or isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for i, (k, v) in enumerate(value.items()):
                if i >= _MAX_ITEMS:
                    out["..."] = f"{len(value) - _MAX_ITEMS} more"
                    break
                out[str(k)] = to_jsonable(v, depth + 1)
            return out
        if isinstance(value, (bytes, bytearray, memoryview)):
            return f"<{len(value)} bytes>"
        tolist = getattr(value, "tolist", None)
        if tolist is not None and type(value).__module__.startswith("numpy"):
            return to_jsonable(tolist(), depth)
        if isinstance(value, (list, tuple, set, frozenset)):
            items = list(value)[:_MAX_ITEMS]
            return [to_jsonable(v, depth + 1) for v in items]
        dump = getattr(value, "model_dump", None)
        if callable(dump):
            return to_jsonable(dump(), depth + 1)
        return f"<{type(value).__name__}>"
    except Exception:  # a hostile __iter__/__getattr__ must not reach the user
        return f"<unrepresentable {type(value).__name__}>"


def _json_default(value: Any) -> Any:
    """json.dumps' hook for what it cannot encode itself: one pass over the common cases."""
    if _ENCODERS:
        encode = _ENCODERS.get(type(value))  # the registered class itself, most often
        if encode is not None:
            return encode(value)
        for cls in type(value).__mro__:
            encode = _ENCODERS.get(cls)
            if encode is not None:
                return encode(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # pydantic models: LangChain documents and messages, LlamaIndex nodes
        return dump()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    tolist = getattr(value, "tolist", None)
    if tolist is not None and type(value).__module__.startswith("numpy"):
        return tolist()
    return f"<{type(value).__name__}>"


# Recent floats' JSON (see float_json), emptied when full.
_FLOAT_JSON: dict[float, str] = {}
_MAX_FLOAT_JSON = 256


def float_json(value: float) -> str:
    """A finite float as JSON, its shortest repr (about 7 k instructions), kept for the floats
    seen last: a document's score is written on the retriever's span, and again in the input
    of the step its documents go to (LangChain stores keep it in the metadata)."""
    done = _FLOAT_JSON.get(value)
    if done is None:
        done = float.__repr__(value)
        if value:  # -0.0 == 0.0: zeros are not kept
            if len(_FLOAT_JSON) >= _MAX_FLOAT_JSON:
                _FLOAT_JSON.clear()
            _FLOAT_JSON[value] = done
    return done


# What the encoders below write for a string (quotes and escapes, non-ASCII kept), without the
# encoder's own call overhead.
_quote: Callable[[str], str] = json.encoder.encode_basestring
json_string: Callable[[str], str] = _quote
"""``text`` as a JSON string literal (quoted and escaped, non-ASCII kept): the C function
itself, called on every document and metadata value."""


def _c_encoder(default: Callable[[Any], Any], allow_nan: bool) -> Callable[[Any], str]:
    """Compact JSON (non-ASCII kept) by the C encoder behind ``JSONEncoder.encode``, built once:
    json.dumps with options, and ``encode`` itself, build it (and two Python frames around it) on
    every call, which costs more than encoding a short value. It keeps no state between calls.
    No circular-reference markers: a cycle ends in a RecursionError, which ``to_json`` catches
    as it caught the encoder's ValueError (``compact_json``'s values are trees)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    try:
        # A private constructor: a Python without the accelerator, or one that changed its
        # arguments, gets the public encoder instead of an import error.
        iterencode = make(None, default, _quote, None, ":", ",", False, False, allow_nan)  # type: ignore[misc]
    except Exception:  # pragma: no cover - CPython 3.11-3.13 take the arguments above
        encoder = json.JSONEncoder(
            ensure_ascii=False, separators=(",", ":"), allow_nan=allow_nan, default=default
        )
        return encoder.encode
    join = "".join

    def encode(value: Any) -> str:
        return join(iterencode(value, 0))

    return encode


_encode = _c_encoder(_json_default, allow_nan=False)
_encode_plain = _c_encoder(json.JSONEncoder().default, allow_nan=True)


def to_json(value: Any) -> str:
    """Compact JSON of ``value`` (see ``to_jsonable``); never raises."""
    if type(value) is dict:
        flat = _flat_json(value)
        if flat is not None:
            return flat
    try:
        return _encode(value)
    except Exception:  # NaN, cycles, depth, a hostile model_dump: the careful slow path
        return _encode_plain(to_jsonable(value))


def compact_json(value: Any) -> str:
    """Compact JSON of a value made of JSON types only (``to_jsonable``'s output)."""
    if type(value) is dict:
        flat = _flat_json(value)
        if flat is not None:
            return flat
    return _encode_plain(value)


def _flat_json(mapping: dict[Any, Any]) -> str | None:
    """The compact JSON of a dict of strings, numbers, booleans and nulls under string keys
    (metadata, a chain's named inputs), byte for byte what the encoder writes; None for any
    other dict (nested values, non-finite floats: the encoder decides)."""
    parts = []
    for key, value in mapping.items():
        if type(key) is not str:
            return None
        kind = type(value)
        if kind is str:
            encoded = _quote(value)
        elif kind is int:
            encoded = int.__repr__(value)
        elif kind is float and math.isfinite(value):
            encoded = float_json(value)
        elif kind is bool:
            encoded = "true" if value else "false"
        elif value is None:
            encoded = "null"
        else:
            return None
        parts.append(f"{_quote(key)}:{encoded}")
    return "{" + ",".join(parts) + "}"


def to_text(value: Any) -> str:
    """A readable string for an input/output value: strings as-is, the rest as JSON."""
    if isinstance(value, str):
        # A str subclass (LangChain's TextAccessor) as a plain str: attribute values are typed.
        return value if type(value) is str else str.__str__(value)
    content = getattr(value, "content", None)
    if isinstance(content, str):  # LangChain messages, LlamaIndex responses
        return content
    return to_json(value)
