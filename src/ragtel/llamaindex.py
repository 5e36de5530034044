"""LlamaIndex integration: ``instrument_llamaindex()`` or a ``RagtelSpanHandler`` of your own.

import ragtel
from ragtel.llamaindex import instrument_llamaindex
ragtel.configure(service_name="support-bot")
handler = instrument_llamaindex()      # every query engine, retriever, LLM and embedding traced
...
uninstrument_llamaindex(handler)

``ragtel.instrument()`` does the same when LlamaIndex is installed.
"""

from __future__ import annotations

from ragtel.config import TraceConfig
from ragtel.integrations.llamaindex import (
    DEFAULT_STREAM_TIMEOUT,
    RagtelEventHandler,
    RagtelSpanHandler,
    StreamTimeout,
    instrument,
    uninstrument,
)
from ragtel.recording import TracerProvider

__all__ = [
    "RagtelEventHandler",
    "RagtelSpanHandler",
    "StreamTimeout",
    "instrument_llamaindex",
    "uninstrument_llamaindex",
]


def instrument_llamaindex(
    tracer_provider: TracerProvider | None = None,
    config: TraceConfig | None = None,
    *,
    stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT,
) -> RagtelSpanHandler:
    """Register ragtel's span and event handlers on LlamaIndex's root dispatcher (idempotent)."""
    return instrument(tracer_provider, config, stream_timeout=stream_timeout)


def uninstrument_llamaindex(handler: RagtelSpanHandler) -> None:
    """Remove the handlers ``instrument_llamaindex`` registered and end what is still open."""
    uninstrument(handler)
