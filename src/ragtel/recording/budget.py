"""How much one span may hold: a count of attributes and an encoded size.

The SDK evicts the *oldest* attributes of a span over its count limit (its input and kind), and
the Collector refuses export requests over 4 MiB; the recorder therefore checks every write
against a ``SpanBudget`` and records each cut instead. Sizes are in UTF-8 bytes of the encoded
value (a Chinese character is 3 bytes, an emoji 4: counting characters let a span "of 0.8 MB"
weigh 3.2 MB on the wire); ``size_of`` and ``text_size`` are the one place that measures them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

RESERVED_ATTRIBUTES: Final = 12  # markers and counts written at the end of any span
BYTES_PER_FLOAT: Final = 11  # one double in an OTLP array, with its tag and framing
BYTES_PER_SCALAR: Final = 8  # numbers and booleans: a rounding error next to texts
BYTES_PER_ATTRIBUTE: Final = 8  # an attribute's framing in OTLP protobuf, beside its key
# Room left for what is written outside the budget: the span's name, ids and fixed attributes,
# run metadata and tags (each cut to max_text_chars) and an exception event (its stack trace cut
# to its last 4,000 characters): at most 64 KiB, or an eighth of a small budget.
_RESERVED_BYTES: Final = 64 << 10


@dataclass(frozen=True, slots=True)
class SpanBudget:
    """The most one span may carry: ``max_attributes`` attributes, ``max_bytes`` encoded bytes."""

    max_attributes: int
    max_bytes: int

    @classmethod
    def for_limits(cls, sdk_attribute_limit: int, max_bytes: int) -> SpanBudget:
        """The budget under the tracer's attribute-count limit, keeping room for end markers."""
        reserved = min(_RESERVED_BYTES, max_bytes // 8)
        return cls(max(sdk_attribute_limit - RESERVED_ATTRIBUTES, 8), max_bytes - reserved)

    def fits(self, attributes: int, nbytes: int) -> bool:
        """True when a span holding ``attributes`` attributes of ``nbytes`` bytes is within."""
        return attributes <= self.max_attributes and nbytes <= self.max_bytes


def size_of(value: Any) -> int:
    """Encoded size of one attribute value, in bytes (texts in UTF-8)."""
    kind = type(value)
    if kind is str:
        return text_size(value)
    if kind is list or kind is tuple:
        if value and type(value[0]) is str:
            return sum(text_size(v) + 2 for v in value)
        return len(value) * BYTES_PER_FLOAT
    return BYTES_PER_SCALAR


def text_size(text: str | None) -> int:
    """UTF-8 size of a text value (0 for None). ``isascii`` keeps the common case a length."""
    if not text:
        return 0
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
