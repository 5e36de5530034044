"""The recorder through the LangChain handler: capture switches, budgets, awkward data."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

import ragtel
from ragtel.config import TraceConfig
from ragtel.demo.corpus import DOCUMENTS, QUESTIONS
from ragtel.demo.langchain_app import build_chain
from ragtel.demo.local_models import HashEmbeddings
from ragtel.langchain import RagtelCallbackHandler, TracedEmbeddings
from tests.unit.conftest import Traced


def _otlp_bytes(traced: Traced) -> bytes:
    return encode_spans(traced.spans).SerializeToString()


def test_content_capture_off_keeps_every_text_out_of_the_exported_bytes() -> None:
    traced = Traced(TraceConfig(capture_content=False, monitor=False))
    handler = RagtelCallbackHandler(traced.provider, traced.config)
    embeddings = TracedEmbeddings(
        HashEmbeddings(), tracer_provider=traced.provider, config=traced.config
    )
    chain = build_chain(embeddings=embeddings)
    answers = [chain.invoke(q, config={"callbacks": [handler]}) for q in QUESTIONS]
    with ragtel.session(session_id="s-1"):
        answers += list(chain.stream(QUESTIONS[0], config={"callbacks": [handler]}))
    payload = _otlp_bytes(traced)
    assert len(traced.by_kind("RETRIEVER")) == len(QUESTIONS) + 1
    texts = [q.encode() for q in QUESTIONS]
    texts += [text.encode() for _, text, _ in DOCUMENTS]
    texts += [a.encode() for a in answers if len(a) > 8]
    texts += [b"Answer only from this context"]  # the system prompt
    for text in texts:
        assert text not in payload, text
    # what remains is still useful: structure, ids, counts, vectors, tokens
    retriever = traced.by_kind("RETRIEVER")[0].attributes
    assert retriever["retrieval.documents.0.document.id"]
    assert retriever["ragtel.content.captured"] is False
    llm = traced.by_kind("LLM")[0].attributes
    assert llm["llm.token_count.prompt"] > 0
    embedding = next(
        s for s in traced.by_kind("EMBEDDING") if s.attributes["ragtel.embedding.role"] == "query"
    )
    assert len(embedding.attributes["embedding.embeddings.0.embedding.vector"]) == 256


class _Unserializable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


def _nested(depth: int) -> dict:
    node: dict = {"leaf": True}
    for _ in range(depth):
        node = {"child": node}
    return node


class _AwkwardRetriever(BaseRetriever):
    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(page_content="x" * 5_000_000, metadata={"score": float("nan")}),
            Document(
                page_content="numpy",
                metadata={"vec": np.arange(4.0), "n": np.float32(1.5), "score": np.float64(0.75)},
            ),
            Document(page_content="bytes", metadata={"raw": b"\x00\xff", "obj": _Unserializable()}),
            Document(page_content="deep", metadata={"tree": _nested(5000)}),
        ]


class _NanEmbeddings(Embeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return np.array([math.nan, 1.0, math.inf], dtype=np.float32)  # type: ignore[return-value]


def _awkward_chain():
    embeddings = TracedEmbeddings(_NanEmbeddings())
    return _AwkwardRetriever() | RunnableLambda(
        lambda docs: [len(d.page_content) for d in docs] + [list(embeddings.embed_query("q"))]
    )


def test_awkward_data_never_reaches_the_user_and_result_is_unchanged(traced: Traced) -> None:
    plain = _awkward_chain().invoke({"weird": _Unserializable(), "arr": np.ones(3)})
    handler = RagtelCallbackHandler(traced.provider, traced.config)
    ragtel.configure(exporter=traced.exporter)  # TracedEmbeddings without a provider uses this
    stats_before = ragtel.stats().get("internal_errors", 0)
    with_ragtel = _awkward_chain().invoke(
        {"weird": _Unserializable(), "arr": np.ones(3)}, config={"callbacks": [handler]}
    )
    assert str(with_ragtel) == str(plain)
    retriever = traced.one("RETRIEVER")
    a = retriever.attributes
    assert retriever.dropped_attributes == 0
    assert len(a["retrieval.documents.0.document.content"]) == traced.config.max_text_chars
    assert a["ragtel.text.truncated_count"] >= 1
    assert "retrieval.documents.0.document.score" not in a  # NaN is not a score
    assert a["retrieval.documents.1.document.score"] == 0.75
    assert "1.5" in a["retrieval.documents.1.document.metadata"]
    assert "2 bytes" in a["retrieval.documents.2.document.metadata"]
    assert "nested too deep" in a["retrieval.documents.3.document.metadata"]
    assert ragtel.stats().get("internal_errors", 0) == stats_before
    ragtel.export.current_provider().force_flush()  # type: ignore[attr-defined]
    vector_spans = [
        s for s in traced.spans if s.attributes.get("openinference.span.kind") == "EMBEDDING"
    ]
    vector = vector_spans[0].attributes["embedding.embeddings.0.embedding.vector"]
    assert math.isnan(vector[0]) and vector[1] == 1.0 and math.isinf(vector[2])
    _otlp_bytes(traced)  # the whole trace still encodes


def test_span_byte_budget_cuts_documents_with_a_marker() -> None:
    traced = Traced(TraceConfig(max_span_bytes=50_000, monitor=False))

    class Big(BaseRetriever):
        def _get_relevant_documents(self, query: str, *, run_manager) -> list[Document]:  # type: ignore[no-untyped-def,override]
            return [Document(page_content="y" * 4000, id=str(i)) for i in range(40)]

    Big().invoke("q", config={"callbacks": [RagtelCallbackHandler(traced.provider, traced.config)]})
    a = traced.one("RETRIEVER").attributes
    recorded = a["ragtel.retrieval.documents.recorded"]
    assert 3 <= recorded < 40
    assert a["ragtel.span.bytes_truncated"] >= 1
    assert a["ragtel.retrieval.documents.count"] == 40
    assert ragtel.stats()["documents_not_recorded"] >= 40 - recorded


def test_an_index_build_over_the_cap_continues_on_child_spans() -> None:
    traced = Traced(TraceConfig(max_vectors=4, monitor=False))
    embeddings = TracedEmbeddings(
        HashEmbeddings(16), tracer_provider=traced.provider, config=traced.config
    )
    vectors = embeddings.embed_documents([f"text {i}" for i in range(10)])
    spans = traced.by_kind("EMBEDDING")
    main = next(s for s in spans if s.name != "embeddings (continued)")
    a = main.attributes
    assert "embedding.embeddings.3.embedding.vector" in a
    assert "embedding.embeddings.4.embedding.vector" not in a
    assert a["ragtel.embedding.count"] == 10 and a["ragtel.embedding.parts"] == 2
    assert "ragtel.embedding.truncated" not in a
    recorded = {}
    for span in spans:
        offset = span.attributes.get("ragtel.embedding.offset", 0)
        for i in range(4):
            vector = span.attributes.get(f"embedding.embeddings.{i}.embedding.vector")
            if vector is not None:
                recorded[offset + i] = list(vector)
    assert recorded == dict(enumerate(vectors))


def test_genai_only_conventions() -> None:
    traced = Traced(TraceConfig(conventions=frozenset({"genai"}), monitor=False))
    chain = build_chain()
    chain.invoke(
        QUESTIONS[0], config={"callbacks": [RagtelCallbackHandler(traced.provider, traced.config)]}
    )
    keys = {k for s in traced.spans for k in s.attributes}
    assert not any(k.startswith(("llm.", "retrieval.", "openinference.")) for k in keys)
    assert "gen_ai.retrieval.documents" in keys and "gen_ai.usage.input_tokens" in keys
    prompt = next(s for s in traced.spans if s.name == "ChatPromptTemplate")
    # GenAI names the variables, not a rendering outside a model call: the chat span has that.
    assert prompt.attributes["gen_ai.prompt.variable.question"] == QUESTIONS[0]
    assert "gen_ai.input.messages" not in prompt.attributes
    llm = next(s for s in traced.spans if s.name.startswith("chat "))
    rendered = json.loads(llm.attributes["gen_ai.input.messages"])
    assert [m["role"] for m in rendered] == ["system", "user"]


@pytest.mark.parametrize("capture", [True, False])
def test_redaction_applies_to_every_text(capture: bool) -> None:
    traced = Traced(
        TraceConfig(
            capture_content=capture, monitor=False, redact=lambda t: t.replace("invoice", "[X]")
        )
    )
    chain = build_chain()
    chain.invoke(
        "How do I download my invoice? key sk-abcdefghijklmnopqrstuvwxyz",
        config={"callbacks": [RagtelCallbackHandler(traced.provider, traced.config)]},
    )
    payload = _otlp_bytes(traced)
    assert b"invoice" not in payload
    assert b"sk-abcdefghijklmnopqrstuvwxyz" not in payload
    assert (b"[X]" in payload) is capture


def test_direct_attribute_write_matches_the_public_path() -> None:
    from opentelemetry.sdk.trace import SpanLimits, TracerProvider

    from ragtel._sdk import write_attributes

    attrs = {"s": "text", "i": 3, "f": 0.5, "b": False, "v": [0.25, 1.0], "t": ["a", "b"]}
    tracer = TracerProvider().get_tracer("t")
    fast, slow = tracer.start_span("fast"), tracer.start_span("slow")
    write_attributes(fast, dict(attrs))
    slow.set_attributes(attrs)
    assert dict(fast.attributes) == dict(slow.attributes)
    assert fast.attributes["v"] == (0.25, 1.0)
    fast.end()
    write_attributes(fast, {"late": 1})  # like the SDK, nothing is written on an ended span
    assert "late" not in fast.attributes
    limited = TracerProvider(span_limits=SpanLimits(max_attribute_length=4)).get_tracer("t")
    span = limited.start_span("limited")
    write_attributes(span, {"s": "truncate me"})  # a value-length limit takes the SDK path
    assert span.attributes["s"] == "trun"
