"""The span processor and exporter wrappers ragtel installs: every span is counted as exported or
lost, no export request exceeds the collector's message limit, and shutdown is bounded.

The accounting, per processor and summed in ``ragtel.stats()``::

    spans_started = spans_exported + spans_lost_queue_full + spans_lost_export_failed
                    + spans_lost_too_large + spans_lost_at_shutdown + spans_lost_unended
                    + spans_lost_after_shutdown

holds once the processor was flushed (every ended span settled) or shut down; in between, the
difference is the spans still open, queued or being sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Final

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan, Span
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from ragtel import _stats
from ragtel._sdk import batch_queue_full, shutdown_batch

_log = logging.getLogger("ragtel")


class _Ledger:
    """Counts of one processor's spans, mirrored into ``ragtel.stats()``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = 0
        self.ended = 0
        self.settled = 0  # exported or counted lost, after they ended
        self.closed = False  # after the final tally, late outcomes are not counted again

    def add(self, name: str, amount: int, *, settles: bool = True) -> bool:
        with self.lock:
            if self.closed:
                return False
            if settles:
                self.settled += amount
        _stats.add(name, amount)
        return True


class CountingBatchSpanProcessor(BatchSpanProcessor):
    """The SDK's batch processor, counting every span in and every span out or lost.

    ``shutdown`` is bounded by ``shutdown_timeout`` seconds (the SDK waits 30 s per provider on
    an unreachable endpoint, at the script's exit); what is still queued or in flight then is
    counted as ``spans_lost_at_shutdown``, and spans never ended as ``spans_lost_unended``.
    """

    def __init__(
        self, exporter: SizeLimitedExporter, shutdown_timeout: float = 5.0, **batch_options: Any
    ) -> None:
        self.ledger = exporter.ledger
        self.shutdown_timeout = shutdown_timeout
        super().__init__(exporter, **batch_options)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if not span.context.trace_flags.sampled:  # unsampled spans never reach the exporter
            return
        ledger = self.ledger
        with ledger.lock:
            closed = ledger.closed
            if not closed:
                ledger.started += 1
        _stats.add("spans_started")
        if closed:  # the SDK drops what ends after shutdown: counted now, once
            _stats.add("spans_lost_after_shutdown")

    def on_end(self, span: ReadableSpan) -> None:
        if not span.context.trace_flags.sampled:
            return
        with self.ledger.lock:
            self.ledger.ended += 1
        if batch_queue_full(self):
            # The SDK's queue drops its oldest span to take this one: one span lost either way.
            self.ledger.add("spans_lost_queue_full", 1)
        super().on_end(span)

    def shutdown(self) -> None:
        if not shutdown_batch(self, self.shutdown_timeout):
            super().shutdown()  # type: ignore[no-untyped-call]  # the SDK's, unannotated
        ledger = self.ledger
        with ledger.lock:
            if ledger.closed:
                return
            ledger.closed = True
            unsettled = ledger.ended - ledger.settled
            unended = ledger.started - ledger.ended
        if unsettled > 0:
            _stats.add("spans_lost_at_shutdown", unsettled)
            _log.warning(
                "ragtel: %d span(s) not exported within the %.1f s shutdown bound "
                "(RAGTEL_SHUTDOWN_TIMEOUT); counted in ragtel.stats()",
                unsettled,
                self.shutdown_timeout,
            )
        if unended > 0:
            _stats.add("spans_lost_unended", unended)


class SizeLimitedExporter(SpanExporter):
    """Counts exported and failed spans, and splits each batch so that no export request exceeds
    ``max_bytes`` of encoded OTLP protobuf (None: no splitting).

    The batch processor batches by count (512 spans); 512 retrieval spans with their documents can
    be far over the Collector's 4 MiB gRPC limit, and the whole request would be refused. Sizes
    are measured on the encoded request itself (UTF-8, varints, framing), not estimated: a
    character of Chinese text is three bytes, an emoji four.
    """

    def __init__(self, inner: SpanExporter, max_bytes: int | None) -> None:
        self.inner = inner
        self.max_bytes = max_bytes
        self.ledger = _Ledger()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = SpanExportResult.SUCCESS
        chunks = [spans] if self.max_bytes is None else self._chunks(spans, self.max_bytes)
        for chunk in chunks:
            try:
                outcome = self.inner.export(chunk)
            except Exception:  # an exporter bug must not kill the export thread
                _log.exception("ragtel: span export raised")
                outcome = SpanExportResult.FAILURE
            if outcome is SpanExportResult.SUCCESS:
                self.ledger.add("spans_exported", len(chunk))
            else:
                self.ledger.add("spans_lost_export_failed", len(chunk))
                result = outcome
        return result

    def _chunks(
        self, spans: Sequence[ReadableSpan], max_bytes: int
    ) -> list[Sequence[ReadableSpan]]:
        if sum(upper_bound_size(s) for s in spans) <= max_bytes:
            return [spans]  # the common case: no need to encode twice
        sizes, overhead = encoded_sizes(spans)
        chunks: list[Sequence[ReadableSpan]] = []
        current: list[ReadableSpan] = []
        current_size = overhead
        for span, size in zip(spans, sizes, strict=True):
            if overhead + size > max_bytes:
                # Sent alone it would be refused (and retried): counted instead. The recorder's
                # span budget keeps ragtel's spans far below this; another library's may not be.
                self.ledger.add("spans_lost_too_large", 1)
                _log.warning(
                    "ragtel: span %r is %d bytes encoded, over the %d-byte request limit; dropped",
                    span.name,
                    size,
                    max_bytes,
                )
                continue
            if current and current_size + size > max_bytes:
                chunks.append(current)
                current, current_size = [], overhead
            current.append(span)
            current_size += size
        if current:
            chunks.append(current)
        return chunks

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.inner.shutdown()


_SPAN_FRAMING: Final = 6  # a span's tag and length prefix inside its ScopeSpans


def encoded_sizes(spans: Sequence[ReadableSpan]) -> tuple[list[int], int]:
    """Each span's encoded OTLP protobuf size, and the size of the resource and scope wrappers
    around them (a chunk of the batch carries at most all of them), in bytes."""
    request = encode_spans(spans)
    by_id: dict[tuple[bytes, bytes], int] = {}
    overhead = 0
    for resource_spans in request.resource_spans:
        overhead += resource_spans.resource.ByteSize() + _SPAN_FRAMING * 2
        for scope_spans in resource_spans.scope_spans:
            overhead += scope_spans.scope.ByteSize() + _SPAN_FRAMING * 2
            for span in scope_spans.spans:
                by_id[(span.trace_id, span.span_id)] = span.ByteSize() + _SPAN_FRAMING
    sizes = [
        by_id[(s.context.trace_id.to_bytes(16, "big"), s.context.span_id.to_bytes(8, "big"))]
        for s in spans
    ]
    return sizes, overhead


def upper_bound_size(span: ReadableSpan) -> int:
    """At least the encoded size of ``span``: 4 bytes per character of non-ASCII text (UTF-8's
    most), 16 bytes of framing per attribute and value, the resource counted in full."""
    size = 256 + 4 * len(span.name) + _attributes_bound(span.resource.attributes)
    size += _attributes_bound(span.attributes)
    for event in span.events:
        size += 64 + 4 * len(event.name) + _attributes_bound(event.attributes)
    for link in span.links:
        size += 64 + _attributes_bound(link.attributes)
    return size


def _attributes_bound(attributes: Any) -> int:
    size = 0
    for key, value in (attributes or {}).items():
        size += 16 + 4 * len(key)
        if isinstance(value, str):
            size += len(value) if value.isascii() else 4 * len(value)
        elif isinstance(value, (list, tuple)):
            size += sum(
                16 + (len(v) if v.isascii() else 4 * len(v)) if isinstance(v, str) else 16
                for v in value
            )
        else:
            size += 16
    return size
