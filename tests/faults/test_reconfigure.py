"""A second ``configure()`` (a notebook re-run, a double import) keeps tracing working:
``instrument()``'s handler follows the current provider and the current settings."""

from __future__ import annotations

import uuid

from harness import Relay, assert_every_span_accounted, lost, stats_delta
from pipeline import CodepointEmbeddings, support_documents, vector_store_chain

import ragtel
from ragtel import TraceConfig

CANARY = "Canary-question"


def test_second_configure_keeps_tracing_with_the_new_settings(relay: Relay) -> None:
    first, second = (f"faults-reconf-{n}-{uuid.uuid4().hex[:8]}" for n in ("a", "b"))
    chain = vector_store_chain(support_documents(), CodepointEmbeddings())
    endpoint = relay.endpoint("grpc")
    before = ragtel.stats()
    ragtel.instrument()  # before configure(), as a notebook's first cell often does
    try:
        ragtel.configure(first, endpoint=endpoint, protocol="grpc")
        chain.invoke(f"{CANARY} first")
        provider = ragtel.configure(
            second,
            endpoint=endpoint,
            protocol="grpc",
            config=TraceConfig(capture_content=False, monitor=False),
        )
        for i in range(100):
            chain.invoke(f"{CANARY} {i}")
        assert provider.force_flush(60_000)  # type: ignore[attr-defined]
    finally:
        ragtel.uninstrument()
    relay.sink.settle()
    delta = stats_delta(before, ragtel.stats())
    assert_every_span_accounted(delta)
    assert lost(delta) == 0, delta

    first_spans = relay.sink.unique_spans(first)
    second_spans = relay.sink.unique_spans(second)
    assert len([s for s in first_spans if not s.parent_span_id]) == 1
    assert CANARY.encode() in b"".join(s.SerializeToString() for s in first_spans)
    assert len([s for s in second_spans if not s.parent_span_id]) == 100
    assert len(first_spans) + len(second_spans) == delta["spans_started"]
    # The second configure() switched content capture off, and the handler follows it.
    assert CANARY.encode() not in b"".join(s.SerializeToString() for s in second_spans)
