"""Span parsing for every source shape: OTLP JSON, Jaeger's string arrays, Phoenix items."""

from __future__ import annotations

import base64
import json

import numpy as np

from ragtel.analysis._collect import Collector
from ragtel.analysis._spans import SpanView, embeddings, feedback, otlp_spans, phoenix_span
from ragtel.analysis.cli import parse_duration


def _request(attrs: list[dict]) -> dict:
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "ab" * 16,
                                "spanId": "cd" * 8,
                                "name": "x",
                                "startTimeUnixNano": "5",
                                "attributes": attrs,
                            },
                            {
                                "traceId": "ab" * 16,
                                "spanId": "ef" * 8,
                                "name": "llm",
                                "startTimeUnixNano": "6",
                                "attributes": [
                                    {
                                        "key": "openinference.span.kind",
                                        "value": {"stringValue": "LLM"},
                                    }
                                ],
                            },
                        ]
                    }
                ],
            }
        ]
    }


def test_otlp_embedding_span_and_skipped_span() -> None:
    attrs = [
        {"key": "openinference.span.kind", "value": {"stringValue": "EMBEDDING"}},
        {"key": "ragtel.embedding.role", "value": {"stringValue": "query"}},
        {
            "key": "embedding.embeddings.0.embedding.vector",
            "value": {"arrayValue": {"values": [{"doubleValue": 0.5}, {"doubleValue": -1}]}},
        },
        {"key": "embedding.embeddings.0.embedding.text", "value": {"stringValue": "hi?"}},
    ]
    spans = list(otlp_spans(_request(attrs)))
    assert spans[1] is None  # the LLM span is counted, not decoded
    found = embeddings(spans[0])
    assert len(found) == 1 and found[0].role == "query" and found[0].text == "hi?"
    assert np.allclose(found[0].vector, [0.5, -1.0]) and spans[0].service == "svc"


def test_jaeger_array_as_json_string_and_role_inference() -> None:
    attrs = [
        {"key": "openinference.span.kind", "value": {"stringValue": "EMBEDDING"}},
        {"key": "embedding.embeddings.0.embedding.vector", "value": {"stringValue": "[1, 2]"}},
        {"key": "embedding.embeddings.1.embedding.vector", "value": {"stringValue": "[3, 4]"}},
    ]
    span = next(iter(otlp_spans(_request(attrs))))
    assert span is not None
    found = embeddings(span)
    assert [e.role for e in found] == ["document", "document"]  # several vectors: documents
    assert np.allclose(found[1].vector, [3, 4])


def test_genai_only_span_with_packed_vectors() -> None:
    """Recorded with RAGTEL_CONVENTIONS=genai: no OpenInference kind, vectors in ragtel.vectors."""
    packed = base64.b64encode(np.asarray([[1, 2, 3], [4, 5, 6]], "<f4").tobytes()).decode()
    attrs = [
        {"key": "gen_ai.operation.name", "value": {"stringValue": "embeddings"}},
        {"key": "gen_ai.embeddings.dimension.count", "value": {"intValue": "3"}},
        {"key": "ragtel.embedding.role", "value": {"stringValue": "document"}},
        {"key": "ragtel.vectors", "value": {"stringValue": packed}},
    ]
    span = next(iter(otlp_spans(_request(attrs))))
    assert span is not None
    found = embeddings(span)
    assert [e.role for e in found] == ["document", "document"]
    assert np.array_equal(found[1].vector, [4, 5, 6])
    for broken in ("not base64!", packed[:-4]):  # garbage, or not whole vectors: skipped
        view = SpanView("t", "x", 0, "svc", {**span.attributes, "ragtel.vectors": broken})
        assert embeddings(view) == []


def test_documents_embedded_while_answering_are_left_out() -> None:
    attrs = [
        {"key": "openinference.span.kind", "value": {"stringValue": "EMBEDDING"}},
        {"key": "ragtel.embedding.role", "value": {"stringValue": "query_document"}},
        {"key": "embedding.embeddings.0.embedding.vector", "value": {"stringValue": "[1, 2]"}},
        {"key": "embedding.embeddings.1.embedding.vector", "value": {"stringValue": "[3, 4]"}},
    ]
    span = next(iter(otlp_spans(_request(attrs))))
    assert span is not None
    assert embeddings(span) == []  # neither queries nor the knowledge base


def test_feedback_span() -> None:
    attrs = [
        {"key": "gen_ai.evaluation.name", "value": {"stringValue": "user_feedback"}},
        {"key": "gen_ai.evaluation.score.value", "value": {"doubleValue": 0.0}},
        {"key": "gen_ai.evaluation.score.label", "value": {"stringValue": "thumbs_down"}},
    ]
    span = next(iter(otlp_spans(_request(attrs))))
    assert span is not None
    record = feedback(span)
    assert record is not None and record.score == 0.0 and record.label == "thumbs_down"


def test_phoenix_items_flat_and_nested() -> None:
    flat = {
        "context": {"trace_id": "t1", "span_id": "s1"},
        "name": "embed",
        "span_kind": "EMBEDDING",
        "start_time": "2025-01-01T00:00:00+00:00",
        "attributes": {
            "embedding.embeddings.0.embedding.vector": [1.0, 0.0],
            "ragtel.embedding.role": "query",
        },
    }
    nested = {
        "context": {"trace_id": "t2", "span_id": "s2"},
        "name": "embed",
        "span_kind": "EMBEDDING",
        "start_time": "2025-01-01T00:00:01Z",
        "attributes": {
            "openinference": {"span": {"kind": "EMBEDDING"}},
            "embedding": {"embeddings": [{"embedding": {"vector": [0.0, 1.0], "text": "q"}}]},
        },
    }
    a, b = phoenix_span(flat, "p"), phoenix_span(nested, "p")
    assert a is not None and b is not None
    assert embeddings(a)[0].role == "query" and embeddings(b)[0].text == "q"
    assert b.start_ns - a.start_ns == 1_000_000_000


def test_collector_buckets_stay_bounded() -> None:
    collector = Collector(bucket_ns=1, max_buckets=16)
    attrs = [
        {"key": "openinference.span.kind", "value": {"stringValue": "EMBEDDING"}},
        {"key": "ragtel.embedding.role", "value": {"stringValue": "query"}},
        {
            "key": "embedding.embeddings.0.embedding.vector",
            "value": {"arrayValue": {"values": [{"doubleValue": 1.0}]}},
        },
    ]
    for t in range(1000):
        request = _request(attrs)
        request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["startTimeUnixNano"] = str(t)
        for span in otlp_spans(json.loads(json.dumps(request))):
            collector.add(span)
    assert len(collector.buckets) <= 16
    assert sum(b.count for b in collector.buckets.values()) == 1000
    assert collector.spans == 2000


def test_parse_duration() -> None:
    assert parse_duration("90s") == 90 * 10**9
    assert parse_duration("1h30m") == 5400 * 10**9
    assert parse_duration("7d") == 7 * 86400 * 10**9
