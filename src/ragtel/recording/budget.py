"""How much one span may hold: a count of attributes and an encoded size.

The SDK evicts the *oldest* attributes of a span over its count limit (its input and kind), and
the Collector refuses export requests over 4 MiB; the recorder therefore checks every write
against a ``SpanBudget`` and records each cut instead. Sizes are in UTF-8 bytes of the encoded
value; ``size_of`` is the one place that measures them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

RESERVED_ATTRIBUTES: Final = 12  # markers and counts written at the end of any span
BYTES_PER_FLOAT: Final = 11  # one double in an OTLP array, with its tag and framing
BYTES_PER_SCALAR: Final = 8  # numbers and booleans: a rounding error next to texts


@dataclass(frozen=True, slots=True)
class SpanBudget:
    """The most one span may carry: ``max_attributes`` attributes, ``max_bytes`` encoded bytes."""

    max_attributes: int
    max_bytes: int

    @classmethod
    def for_limits(cls, sdk_attribute_limit: int, max_bytes: int) -> SpanBudget:
        """The budget under the tracer's attribute-count limit, keeping room for end markers."""
        return cls(max(sdk_attribute_limit - RESERVED_ATTRIBUTES, 8), max_bytes)

    def fits(self, attributes: int, nbytes: int) -> bool:
        """True when a span holding ``attributes`` attributes of ``nbytes`` bytes is within."""
        return attributes <= self.max_attributes and nbytes <= self.max_bytes


def size_of(value: Any) -> int:
    """Encoded size of one attribute value, in bytes (texts by length: exact for ASCII)."""
    kind = type(value)
    if kind is str:
        return len(value)
    if kind is list or kind is tuple:
        return len(value) * BYTES_PER_FLOAT
    return BYTES_PER_SCALAR


def text_size(text: str | None) -> int:
    """Encoded size of a text value (0 for None)."""
    return len(text) if text else 0
