"""Every span ragtel's processor sees is counted as exported or lost, whatever happens to the
exporter; shutdown is bounded; requests are split by their encoded size in bytes."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ragtel import _stats
from ragtel.export.processors import CountingBatchSpanProcessor, SizeLimitedExporter

LOSSES = (
    "spans_lost_queue_full",
    "spans_lost_export_failed",
    "spans_lost_too_large",
    "spans_lost_at_shutdown",
    "spans_lost_unended",
    "spans_lost_after_shutdown",
)


class Recording(SpanExporter):
    def __init__(self, result: SpanExportResult = SpanExportResult.SUCCESS) -> None:
        self.result = result
        self.batches: list[Sequence[ReadableSpan]] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.batches.append(list(spans))
        return self.result


class Blocking(SpanExporter):
    """An endpoint that never answers: every export waits until shutdown."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.released.wait(30)
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self.released.set()


def _pipeline(
    inner: SpanExporter, max_bytes: int | None = None, **options: object
) -> TracerProvider:
    _stats.reset()
    provider = TracerProvider(shutdown_on_exit=False)
    processor = CountingBatchSpanProcessor(SizeLimitedExporter(inner, max_bytes), **options)  # type: ignore[arg-type]
    provider.add_span_processor(processor)
    return provider


def _spans(provider: TracerProvider, count: int, text: str = "x") -> None:
    tracer = provider.get_tracer("t")
    for i in range(count):
        with tracer.start_as_current_span(f"s{i}") as span:
            span.set_attribute("text", text)


def assert_identity(stats: dict[str, int]) -> None:
    """The identity ragtel.stats() documents."""
    lost = sum(stats.get(k, 0) for k in LOSSES)
    assert stats["spans_started"] == stats.get("spans_exported", 0) + lost, stats


def test_exported_spans_are_counted() -> None:
    inner = Recording()
    provider = _pipeline(inner)
    _spans(provider, 10)
    provider.shutdown()
    stats = _stats.snapshot()
    assert stats["spans_started"] == stats["spans_exported"] == 10
    assert_identity(stats)


def test_failed_exports_are_counted() -> None:
    provider = _pipeline(Recording(SpanExportResult.FAILURE))
    _spans(provider, 10)
    provider.shutdown()
    stats = _stats.snapshot()
    assert stats["spans_lost_export_failed"] == 10
    assert_identity(stats)


def test_queue_overflow_and_shutdown_are_bounded_and_counted() -> None:
    blocking = Blocking()
    provider = _pipeline(blocking, shutdown_timeout=0.5, max_queue_size=20, max_export_batch_size=5)
    _spans(provider, 100)
    t0 = time.monotonic()
    provider.shutdown()
    assert time.monotonic() - t0 < 3  # not the SDK's 30 s
    stats = _stats.snapshot()
    assert stats["spans_lost_queue_full"] > 0
    assert stats["spans_lost_at_shutdown"] > 0
    assert stats.get("spans_exported", 0) == 0
    assert_identity(stats)


def test_spans_open_at_shutdown_and_after_it_are_counted() -> None:
    provider = _pipeline(Recording())
    tracer = provider.get_tracer("t")
    tracer.start_span("never ended")
    provider.shutdown()
    tracer.start_span("after shutdown").end()
    stats = _stats.snapshot()
    assert stats["spans_lost_unended"] == 1
    assert stats["spans_lost_after_shutdown"] == 1
    assert_identity(stats)


def test_batches_are_split_by_encoded_bytes_not_characters() -> None:
    inner = Recording()
    limit = 200_000
    provider = _pipeline(inner, max_bytes=limit)
    # 20 spans of 10,000 CJK characters: 30 KB each encoded, 600 KB in all; by characters the
    # batch would look like 200 KB and go out whole.
    _spans(provider, 20, text="学" * 10_000)
    provider.shutdown()
    assert len(inner.batches) > 1
    for batch in inner.batches:
        assert encode_spans(batch).ByteSize() <= limit
    assert sum(len(b) for b in inner.batches) == 20
    assert_identity(_stats.snapshot())


def test_a_span_larger_than_a_request_is_counted_not_sent() -> None:
    inner = Recording()
    provider = _pipeline(inner, max_bytes=50_000)
    _spans(provider, 3, text="a" * 10)
    _spans(provider, 1, text="b" * 80_000)
    provider.shutdown()
    stats = _stats.snapshot()
    assert stats["spans_lost_too_large"] == 1
    assert stats["spans_exported"] == 3
    assert_identity(stats)


@pytest.mark.parametrize("text", ["ascii " * 100, "学" * 300, "🚀" * 300])
def test_upper_bound_is_never_below_the_encoded_size(text: str) -> None:
    from ragtel.export.processors import encoded_sizes, upper_bound_size

    inner = Recording()
    provider = _pipeline(inner)
    _spans(provider, 3, text=text)
    provider.force_flush()
    spans = inner.batches[0]
    sizes, overhead = encoded_sizes(spans)
    for span, size in zip(spans, sizes, strict=True):
        assert upper_bound_size(span) >= size + overhead
    provider.shutdown()
