from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ragtel import _stats
from ragtel.config import TraceConfig
from ragtel.export.limits import span_limits_for
from ragtel.recording.monitor_hook import set_monitor


class Traced:
    """A provider with an in-memory exporter, and helpers to read what it captured."""

    def __init__(self, config: TraceConfig | None = None) -> None:
        self.config = config or TraceConfig(monitor=False)
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(span_limits=span_limits_for(self.config))
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    @property
    def spans(self) -> tuple[ReadableSpan, ...]:
        return self.exporter.get_finished_spans()

    def by_kind(self, kind: str) -> list[ReadableSpan]:
        return [s for s in self.spans if s.attributes.get("openinference.span.kind") == kind]

    def one(self, kind: str) -> ReadableSpan:
        found = self.by_kind(kind)
        assert len(found) == 1, [s.name for s in found]
        return found[0]

    def traces(self) -> dict[int, list[ReadableSpan]]:
        grouped: dict[int, list[ReadableSpan]] = defaultdict(list)
        for span in self.spans:
            grouped[span.context.trace_id].append(span)
        return dict(grouped)


def assert_well_formed(spans: Sequence[ReadableSpan]) -> ReadableSpan:
    """One root; every other span's parent is in the same trace; returns the root."""
    ids = {s.context.span_id for s in spans}
    roots = [s for s in spans if s.parent is None or s.parent.span_id not in ids]
    assert len(roots) == 1, [s.name for s in roots]
    assert len({s.context.trace_id for s in spans}) == 1
    for span in spans:
        assert span.end_time is not None and span.end_time >= span.start_time
    return roots[0]


def assert_capped_retrieval(attributes: Mapping[str, Any], *, total: int, cap: int) -> None:
    """Documents recorded up to ``cap``, none after, and the cut marked with the real total."""
    assert f"retrieval.documents.{cap - 1}.document.content" in attributes
    assert f"retrieval.documents.{cap}.document.content" not in attributes
    assert attributes["ragtel.retrieval.documents.count"] == total
    assert attributes["ragtel.retrieval.documents.truncated"] is True
    assert attributes["ragtel.retrieval.documents.recorded"] == cap


def tree(spans: Sequence[ReadableSpan]) -> list[str]:
    """The span tree as indented names, children in start order: what a trace viewer shows."""
    children: dict[int | None, list[ReadableSpan]] = defaultdict(list)
    ids = {s.context.span_id for s in spans}
    for span in sorted(spans, key=lambda s: (s.start_time, s.name)):
        parent = span.parent.span_id if span.parent and span.parent.span_id in ids else None
        children[parent].append(span)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for child in children[parent]:
            lines.append("  " * depth + child.name)
            walk(child.context.span_id, depth + 1)

    walk(None, 0)
    return lines


@pytest.fixture
def traced() -> Iterator[Traced]:
    _stats.reset()
    set_monitor(None)
    yield Traced()
