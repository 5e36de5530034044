"""CJK, emoji and multi-megabyte payloads over OTLP/gRPC through the real Collector (gRPC messages
up to 4 MiB): every span arrives, none is over its byte budget, and every cut is marked."""

from __future__ import annotations

import json
import uuid

import pytest
from harness import Relay, Traced, assert_every_span_accounted, lost, report
from langchain_core.documents import Document
from otlp_sink import attributes
from pipeline import ListRetriever, build_chain

import ragtel
from ragtel import TraceConfig

# Real text: the Analects 1.1, the opening of Natsume Soseki's "I Am a Cat", the Korean anthem's
# first line (all public domain); emoji with skin tones, a flag and a ZWJ sequence.
CHINESE = "学而时习之，不亦说乎？有朋自远方来，不亦乐乎？人不知而不愠，不亦君子乎？"
JAPANESE = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
KOREAN = "동해 물과 백두산이 마르고 닳도록 하느님이 보우하사 우리나라 만세."
EMOJI = "🚀🔥👍🏽😀🇯🇵👩‍💻📚✨"
MAX_SPAN_BYTES = 1 << 20  # TraceConfig's default


def _text(base: str, chars: int) -> str:
    return (base * (chars // len(base) + 1))[:chars]


def _assert_within_budget(spans: list) -> None:  # type: ignore[type-arg]
    for span in spans:
        assert span.ByteSize() <= MAX_SPAN_BYTES, (span.name, span.ByteSize())


def _assert_no_loss(traced: Traced) -> list:  # type: ignore[type-arg]
    delta = traced.flush()
    assert_every_span_accounted(delta)
    assert lost(delta) == 0, delta
    assert delta.get("internal_errors", 0) == 0, delta
    received = traced.received()
    assert len(received) == delta["spans_started"]
    return received


@pytest.mark.parametrize("script", [CHINESE + JAPANESE + KOREAN, EMOJI])
def test_non_latin_documents_fit_the_collector(relay: Relay, script: str) -> None:
    traced = Traced(relay, f"faults-cjk-{uuid.uuid4().hex[:8]}", config=TraceConfig(monitor=False))
    docs = [
        Document(id=f"doc-{i}", page_content=_text(script, 8000), metadata={"title": script[:40]})
        for i in range(50)
    ]
    chain = build_chain(ListRetriever(documents=docs))
    for i in range(12):
        chain.invoke({"question": f"{script[:30]} {i}"}, config=traced.config())

    received = _assert_no_loss(traced)
    _assert_within_budget(received)
    retrievals = [s for s in received if s.name.startswith("retrieval")]
    assert len(retrievals) == 12
    report(
        f"50 x 8,000-char docs ({script[:2]}...)",
        spans=len(received),
        largest_span_bytes=max(s.ByteSize() for s in received),
        docs_recorded=attributes(retrievals[0])["ragtel.retrieval.documents.recorded"],
    )
    for span in retrievals:
        attrs = attributes(span)
        # 50 documents of 8,000 multi-byte characters do not fit 1 MiB: some are left out, and
        # the span says so.
        assert attrs["ragtel.retrieval.documents.count"] == 50
        assert attrs["ragtel.retrieval.documents.truncated"] is True
        assert 0 < attrs["ragtel.retrieval.documents.recorded"] < 50
        assert attrs["ragtel.text.truncated"] is True
        assert attrs["retrieval.documents.0.document.content"] == _text(script, 8000)


def test_five_megabyte_payloads_everywhere(relay: Relay) -> None:
    traced = Traced(relay, f"faults-5mb-{uuid.uuid4().hex[:8]}", config=TraceConfig(monitor=False))
    huge = _text(CHINESE + EMOJI, 5_000_000 // 3)  # about 5 MB of UTF-8
    chain = build_chain(
        ListRetriever(documents=[Document(id="huge", page_content=huge, metadata={"blob": huge})]),
        answer=huge,
    )
    with ragtel.session(session_id="s-huge", metadata={"notes": huge}, tags=[huge[:100_000]]):
        chain.invoke(
            {"question": huge, "history_pairs": [("user", huge), ("assistant", huge)]},
            config=traced.config(metadata={"payload": huge}),
        )

    received = _assert_no_loss(traced)
    _assert_within_budget(received)
    assert len(received) >= 8
    report(
        "5 MB everywhere",
        spans=len(received),
        largest_span_bytes=max(s.ByteSize() for s in received),
    )
    for span in received:
        attrs = attributes(span)
        # Run metadata is on every span: present, cut, valid JSON, and the cut is marked.
        assert "metadata" in attrs, span.name
        json.loads(attrs["metadata"])
        assert attrs["ragtel.text.truncated"] is True, span.name
