"""Span limits that fit what the recorder writes, for providers ragtel builds."""

from __future__ import annotations

import os

from opentelemetry.sdk.trace import SpanLimits

from ragtel.config import Settings, TraceConfig, resolve


def span_limits_for(config: TraceConfig | Settings) -> SpanLimits:
    """Limits large enough for everything the recorder writes under ``config``.

    The SDK default of 128 attributes would evict the oldest attributes of a 50-document
    retrieval span — its input and its kind. A limit set in ``OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT``
    wins; the recorder then fits its writes to that limit instead.
    """
    if os.environ.get("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT") or os.environ.get(
        "OTEL_ATTRIBUTE_COUNT_LIMIT"
    ):
        return SpanLimits()
    settings = resolve(config)
    needed = 4 * settings.max_documents + 2 * settings.max_vectors + 4 * settings.max_messages + 128
    return SpanLimits(max_span_attributes=needed)
