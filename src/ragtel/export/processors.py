"""The span processor and exporter wrappers ragtel installs: nothing is dropped uncounted, and no
export request exceeds the collector's message limit."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from ragtel import _stats
from ragtel._sdk import batch_queue_full

_log = logging.getLogger("ragtel")


class CountingBatchSpanProcessor(BatchSpanProcessor):
    """The SDK's batch processor, counting the spans it drops when its queue is full.

    The SDK drops them with one log line; ``ragtel.stats()["spans_dropped_queue_full"]`` makes the
    loss visible and countable.
    """

    def on_end(self, span: ReadableSpan) -> None:
        if batch_queue_full(self):
            _stats.add("spans_dropped_queue_full")
        super().on_end(span)


class SizeLimitedExporter(SpanExporter):
    """Counts exported and failed spans, and splits each batch so that no export request exceeds
    ``max_bytes`` (estimated; None: no splitting).

    The batch processor batches by count (512 spans); 512 retrieval spans with their documents can
    be far over the Collector's 4 MiB gRPC limit, and the whole request would be refused.
    """

    def __init__(self, inner: SpanExporter, max_bytes: int | None) -> None:
        self.inner = inner
        self.max_bytes = max_bytes

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = SpanExportResult.SUCCESS
        chunks = [spans] if self.max_bytes is None else _chunks(spans, self.max_bytes)
        for chunk in chunks:
            try:
                outcome = self.inner.export(chunk)
            except Exception:  # an exporter bug must not kill the export thread
                _log.exception("ragtel: OTLP export raised")
                outcome = SpanExportResult.FAILURE
            if outcome is SpanExportResult.SUCCESS:
                _stats.add("spans_exported", len(chunk))
            else:
                _stats.add("spans_export_failed", len(chunk))
                result = outcome
        return result

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.inner.shutdown()


def estimated_size(span: ReadableSpan) -> int:
    """Rough OTLP-encoded size of a span: strings by length, numbers at 11 bytes."""
    size = 128 + len(span.name)
    for key, value in (span.attributes or {}).items():
        size += len(key) + 8
        if isinstance(value, str):
            size += len(value)
        elif isinstance(value, (list, tuple)):
            size += sum(len(v) + 3 if isinstance(v, str) else 11 for v in value)
        else:
            size += 11
    for event in span.events:
        size += 64 + sum(len(str(v)) + len(k) for k, v in (event.attributes or {}).items())
    return size


def _chunks(spans: Sequence[ReadableSpan], max_bytes: int) -> list[Sequence[ReadableSpan]]:
    chunks: list[Sequence[ReadableSpan]] = []
    current: list[ReadableSpan] = []
    current_size = 0
    for span in spans:
        size = estimated_size(span)
        if current and current_size + size > max_bytes:
            chunks.append(current)
            current, current_size = [], 0
        current.append(span)
        current_size += size
    if current:
        chunks.append(current)
    return chunks
