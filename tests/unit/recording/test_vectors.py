"""Vectors packed for the GenAI set: one attribute, read back as documented, half the bytes."""

from __future__ import annotations

import base64
import math

import numpy as np
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan

from ragtel.analysis._spans import SpanView, embeddings
from ragtel.config import TraceConfig
from ragtel.demo.local_models import HashEmbeddings
from ragtel.langchain import TracedEmbeddings
from ragtel.recording.vectors import pack_vectors, packed_size
from tests.unit.conftest import Traced

TEXTS = ["How do I download my invoice?", "Is my data encrypted?", "Who answers support?"]


def _unpack(value: str, dimension: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(value), "<f4").reshape(-1, dimension)


def test_packed_vectors_read_back_as_float32_in_order() -> None:
    vectors = [[0.1, -2.5, 3e-8], [1e30, 0.0, -0.0], [float("inf"), float("nan"), 7.0]]
    packed = pack_vectors(vectors)
    assert len(packed) == packed_size(9)
    back = _unpack(packed, 3)
    assert back.shape == (3, 3)
    np.testing.assert_array_equal(back[:2], np.asarray(vectors[:2], dtype=np.float32))
    assert math.isinf(back[2][0]) and math.isnan(back[2][1]) and back[2][2] == 7.0


def test_values_beyond_float32_are_kept_as_its_largest() -> None:
    back = _unpack(pack_vectors([[1e300, -1e300, 1.0]]), 3)[0]
    assert back[0] == np.finfo(np.float32).max and back[1] == -np.finfo(np.float32).max
    assert back[2] == 1.0


def _embed(conventions: frozenset[str]) -> list[ReadableSpan]:
    """The embedding span of one ``embed_documents`` call (under its index-build root)."""
    traced = Traced(TraceConfig(conventions=conventions, monitor=False))
    provider, config = traced.provider, traced.config
    model = TracedEmbeddings(HashEmbeddings(), tracer_provider=provider, config=config)
    model.embed_documents(TEXTS)
    return [s for s in traced.spans if s.parent is not None]


def test_genai_alone_packs_every_vector_into_one_attribute() -> None:
    (span,) = _embed(frozenset({"genai"}))
    a = span.attributes
    assert not any(k.endswith(".embedding.vector") for k in a)
    assert a["gen_ai.embeddings.dimension.count"] == 256
    back = _unpack(a["ragtel.vectors"], 256)
    expected = np.asarray(HashEmbeddings().embed_documents(TEXTS), dtype=np.float32)
    np.testing.assert_array_equal(back, expected)
    # Named to sort after the facts, where Jaeger's UI lists the span's attributes by name.
    facts = ["gen_ai.request.model", "gen_ai.embeddings.dimension.count", "ragtel.embedding.role"]
    assert all(fact < "ragtel.vectors" for fact in facts)
    assert all(k < "ragtel.vectors" for k in a if k.startswith("ragtel.monitor."))


def test_openinference_keeps_its_float_arrays_and_no_packed_copy() -> None:
    (span,) = _embed(frozenset({"openinference", "genai"}))
    a = span.attributes
    assert "ragtel.vectors" not in a
    assert a["embedding.embeddings.2.embedding.vector"] == tuple(
        HashEmbeddings().embed_query(TEXTS[2])
    )


def test_packed_span_is_smaller_and_the_drift_reader_finds_the_same_vectors() -> None:
    spans = {}
    for name, conventions in (("genai", {"genai"}), ("openinference", {"openinference"})):
        (spans[name],) = _embed(frozenset(conventions))
    genai_bytes = len(encode_spans([spans["genai"]]).SerializeToString())
    oi_bytes = len(encode_spans([spans["openinference"]]).SerializeToString())
    assert genai_bytes < 0.6 * oi_bytes, (genai_bytes, oi_bytes)

    def read(span: object) -> list[np.ndarray]:
        view = SpanView("t", "embeddings", 0, "svc", dict(span.attributes))  # type: ignore[attr-defined]
        found = embeddings(view)
        assert [e.text for e in found] == TEXTS and {e.role for e in found} == {"document"}
        return [e.vector for e in found]

    for packed, array in zip(read(spans["genai"]), read(spans["openinference"]), strict=True):
        np.testing.assert_allclose(packed, array, rtol=1e-6)


def test_a_packed_index_build_over_the_cap_is_read_back_whole() -> None:
    """Continuation spans of a knowledge-base batch pack their vectors too, with the dimension
    that reads them back."""
    traced = Traced(TraceConfig(conventions=frozenset({"genai"}), max_vectors=4, monitor=False))
    provider, config = traced.provider, traced.config
    model = TracedEmbeddings(HashEmbeddings(), tracer_provider=provider, config=config)
    texts = [f"note {i} about billing" for i in range(10)]
    model.embed_documents(texts)
    found = []
    for span in traced.spans:
        view = SpanView("t", span.name, 0, "svc", dict(span.attributes))
        offset = span.attributes.get("ragtel.embedding.offset", 0)
        found += [(offset + i, e) for i, e in enumerate(embeddings(view))]
    assert sorted(i for i, _ in found) == list(range(10))
    expected = np.asarray(HashEmbeddings().embed_documents(texts), dtype=np.float32)
    for i, embedding in found:
        assert embedding.text == texts[i] and embedding.role == "document"
        np.testing.assert_array_equal(embedding.vector, expected[i])
