"""Embedding vectors packed into one string: what the GenAI set records instead of float arrays.

The GenAI conventions name no attribute for vectors, and Jaeger's UI shows a float-array attribute
one number per line, sorted among the span's other attributes. Packed, every vector of a span is
one attribute (``ragtel.vectors``) that the UI shows as a single value after the span's facts, at
about half the bytes of a double array: base64 of the vectors' values as little-endian float32,
concatenated in order; ``gen_ai.embeddings.dimension.count`` says where one ends. Embedding
models compute in float32, so nothing they produced is lost.

Read it back with ``numpy.frombuffer(base64.b64decode(value), "<f4").reshape(-1, dimension)``.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Sequence
from typing import Final

_FLOAT32_MAX: Final = 3.4028234663852886e38


def pack_vectors(vectors: Sequence[Sequence[float]]) -> str:
    """The vectors as one base64 string of little-endian float32 values."""
    values = [v for vector in vectors for v in vector]
    try:
        packed = struct.pack(f"<{len(values)}f", *values)
    except OverflowError:  # a value beyond float32's range: kept as float32's largest
        values = [_clamped(v) for v in values]
        packed = struct.pack(f"<{len(values)}f", *values)
    return base64.b64encode(packed).decode("ascii")


def packed_size(floats: int) -> int:
    """Encoded bytes of ``floats`` packed values (base64 pads to whole groups of four)."""
    return 4 * ((4 * floats + 2) // 3)


def _clamped(value: float) -> float:
    if math.isfinite(value) and abs(value) > _FLOAT32_MAX:
        return math.copysign(_FLOAT32_MAX, value)
    return value
