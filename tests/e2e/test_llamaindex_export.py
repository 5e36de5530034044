"""The LlamaIndex demo's traces, exported by ragtel, read back from Jaeger and from Phoenix.

Each run indexes the corpus, answers the demo questions with ``build_query_engine()`` and one more
with ``build_query_engine(streaming=True)``, consuming the stream. What a user of each backend
should then see, per query: one trace ``invoke_workflow RetrieverQueryEngine.query`` (CHAIN) with
the retrieval (RETRIEVER) and its query embedding (EMBEDDING) under it, and the synthesizer (CHAIN)
holding the prompt (PROMPT) and the model call (LLM); the retrieved nodes with the ids and scores
LlamaIndex gives, the template, the token counts, and the query vector the demo's embedding
computes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from backends import Collector, Jaeger, Phoenix, flatten_phoenix_spans, flatten_spans
from backends import parse_array_attr as array
from opentelemetry.sdk.trace import TracerProvider
from ragtel_pipeline import assert_tree, by_trace, kind, unique_service

import ragtel
from ragtel.demo.corpus import DOCUMENTS, QUESTIONS
from ragtel.demo.langchain_app import HUMAN_TEMPLATE, SYSTEM_TEMPLATE
from ragtel.demo.local_models import HashEmbeddings

pytest.importorskip("llama_index.core")
from llama_index.core.instrumentation import get_dispatcher

from ragtel.demo.llamaindex_app import build_index, build_query_engine
from ragtel.llamaindex import (
    RagtelSpanHandler,
    instrument_llamaindex,
    uninstrument_llamaindex,
)

QUERY_SPANS = 6  # query, retrieval, query embedding, synthesizer, prompt, model call
INDEX_SPANS = 3  # the index build (get_text_embedding_batch) and its two requests (10 + 4 texts)
STREAMED_QUESTION = "Where can I see incidents and planned maintenance?"
MODEL = "ragtel-extractive-1"
EMBEDDING_MODEL = "ragtel-hash-256"
TOP_K = 3


@dataclass
class DemoRun:
    """What the demo answered, and what LlamaIndex itself retrieves for each question."""

    answers: dict[str, str] = field(default_factory=dict)
    retrieved: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    @property
    def questions(self) -> list[str]:
        return list(self.answers)

    @property
    def spans(self) -> int:
        # One index per engine: the plain one and the streaming one.
        return len(self.answers) * QUERY_SPANS + 2 * INDEX_SPANS


@contextmanager
def _instrumented(provider: TracerProvider) -> Iterator[RagtelSpanHandler]:
    already = [h for h in get_dispatcher().span_handlers if isinstance(h, RagtelSpanHandler)]
    assert not already, "a RagtelSpanHandler is still registered by an earlier test"
    handler = instrument_llamaindex(provider)
    try:
        yield handler
    finally:
        uninstrument_llamaindex(handler)
        assert handler.open_steps == 0


def run_llamaindex_demo(service: str, **configure: Any) -> DemoRun:
    """Configure ragtel for ``service``, ask every demo question and one streamed question."""
    provider = ragtel.configure(service, **configure)
    assert isinstance(provider, TracerProvider)
    run = DemoRun()
    with _instrumented(provider):
        engine = build_query_engine(top_k=TOP_K)
        for question in QUESTIONS:
            run.answers[question] = str(engine.query(question))
        streaming = build_query_engine(streaming=True, top_k=TOP_K)
        response = streaming.query(STREAMED_QUESTION)
        run.answers[STREAMED_QUESTION] = "".join(response.response_gen)  # type: ignore[attr-defined]
    assert provider.force_flush(30_000)
    # The reference, untraced: the nodes and scores LlamaIndex's retriever returns.
    retriever = build_index().as_retriever(similarity_top_k=TOP_K)
    for question in run.answers:
        nodes = retriever.retrieve(question)
        run.retrieved[question] = [(n.node.node_id, float(n.score or 0.0)) for n in nodes]
    return run


# -- reading what the backends show -------------------------------------------------------------


def _variables(attributes: dict[str, Any]) -> dict[str, Any]:
    """The template's variables: Jaeger keeps the JSON text, Phoenix flattens it into keys."""
    raw = attributes.get("llm.prompt_template.variables")
    if raw is not None:
        return json.loads(raw)
    prefix = "llm.prompt_template.variables."
    return {k.removeprefix(prefix): v for k, v in attributes.items() if k.startswith(prefix)}


def _metadata(attributes: dict[str, Any], i: int) -> dict[str, Any]:
    """A document's metadata: JSON text in Jaeger, flattened into keys by Phoenix."""
    prefix = f"retrieval.documents.{i}.document.metadata"
    if prefix in attributes:
        return json.loads(attributes[prefix])
    return {
        k.removeprefix(prefix + "."): v for k, v in attributes.items() if k.startswith(prefix + ".")
    }


def _children(spans: list[dict[str, Any]], parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in spans if s["parent_span_id"] == parent["span_id"]]


def _only(spans: list[dict[str, Any]], span_kind: str) -> dict[str, Any]:
    found = [s for s in spans if kind(s) == span_kind]
    assert len(found) == 1, (span_kind, [s["name"] for s in found])
    return found[0]


def _check_query_trace(spans: list[dict[str, Any]], run: DemoRun) -> str:
    """Assert on one query's trace; return its question."""
    assert len(spans) == QUERY_SPANS, sorted(s["name"] for s in spans)
    root = assert_tree(spans)
    assert root["name"] == "invoke_workflow RetrieverQueryEngine.query" and kind(root) == "CHAIN"
    assert sorted(kind(s) for s in spans) == sorted(
        ["CHAIN", "CHAIN", "RETRIEVER", "EMBEDDING", "PROMPT", "LLM"]
    )
    question = root["attributes"]["input.value"]
    assert question in run.answers
    answer = run.answers[question]
    assert root["attributes"]["output.value"] == answer

    # query -> retrieval -> query embedding; query -> synthesizer -> prompt, model call
    synthesizer, retrieval = sorted(_children(spans, root), key=kind)
    assert kind(retrieval) == "RETRIEVER" and kind(synthesizer) == "CHAIN"
    assert synthesizer["name"] == "CompactAndRefine.synthesize"
    [embedding] = _children(spans, retrieval)
    assert kind(embedding) == "EMBEDDING"
    assert sorted(kind(s) for s in _children(spans, synthesizer)) == ["LLM", "PROMPT"]

    r = retrieval["attributes"]
    assert r["input.value"] == question
    assert int(r["gen_ai.retrieval.top_k"]) == TOP_K
    expected = run.retrieved[question]
    assert len(expected) == TOP_K
    metadata = {doc_id: meta for doc_id, _, meta in DOCUMENTS}
    texts = {doc_id: text for doc_id, text, _ in DOCUMENTS}
    for i, (node_id, score) in enumerate(expected):
        prefix = f"retrieval.documents.{i}.document."
        assert r[prefix + "id"] == node_id
        assert r[prefix + "content"] == texts[node_id]
        assert isinstance(r[prefix + "score"], float)
        assert r[prefix + "score"] == pytest.approx(score)
        assert _metadata(r, i) == metadata[node_id]
    assert f"retrieval.documents.{TOP_K}.document.id" not in r
    documents = json.loads(r["gen_ai.retrieval.documents"])
    assert [d["id"] for d in documents] == [node_id for node_id, _ in expected]
    assert [d["score"] for d in documents] == pytest.approx([score for _, score in expected])

    e = embedding["attributes"]
    assert e["embedding.model_name"] == EMBEDDING_MODEL
    assert e["ragtel.embedding.role"] == "query"
    assert e["embedding.embeddings.0.embedding.text"] == question
    vector = array(e["embedding.embeddings.0.embedding.vector"])
    assert len(vector) == 256
    assert vector == pytest.approx(HashEmbeddings().embed_query(question))
    assert "embedding.embeddings.1.embedding.vector" not in e

    p = _only(spans, "PROMPT")["attributes"]
    template = p["llm.prompt_template.template"]
    assert SYSTEM_TEMPLATE in template and HUMAN_TEMPLATE in template
    variables = _variables(p)
    assert variables["question"] == question
    # The context the synthesizer filled in holds the retrieved nodes, best first.
    context = variables["context"]
    positions = [context.index(texts[node_id]) for node_id, _ in expected]
    assert positions == sorted(positions)

    llm = _only(spans, "LLM")
    a = llm["attributes"]
    assert a["llm.model_name"] == MODEL
    assert a["llm.input_messages.0.message.role"] == "system"
    assert texts[expected[0][0]] in a["llm.input_messages.0.message.content"]
    assert a["llm.input_messages.1.message.content"] == question
    assert a["llm.output_messages.0.message.content"] == answer
    prompt_tokens, completion_tokens = a["llm.token_count.prompt"], a["llm.token_count.completion"]
    assert prompt_tokens > 0 and completion_tokens > 0
    assert a["llm.token_count.total"] == prompt_tokens + completion_tokens
    assert a["gen_ai.usage.input_tokens"] == prompt_tokens
    assert a["gen_ai.usage.output_tokens"] == completion_tokens
    if question == STREAMED_QUESTION:
        assert a["gen_ai.response.time_to_first_chunk"] >= 0
        if root["end_ns"]:  # Phoenix's span list gives no nanosecond times
            # The query span stays open until the stream is consumed.
            assert root["end_ns"] >= llm["end_ns"] >= llm["start_ns"] >= root["start_ns"]
    else:
        assert "gen_ai.response.time_to_first_chunk" not in a
    return question


def _check_index_trace(spans: list[dict[str, Any]]) -> None:
    assert len(spans) == INDEX_SPANS
    root = assert_tree(spans)
    assert root["name"] == "invoke_workflow index_documents" and kind(root) == "CHAIN"
    requests = _children(spans, root)
    assert [kind(s) for s in requests] == ["EMBEDDING"] * 2
    vectors: dict[str, list[float]] = {}
    for span in requests:
        a = span["attributes"]
        assert a["ragtel.embedding.role"] == "document"
        for i in range(int(a["ragtel.embedding.count"])):
            text = a[f"embedding.embeddings.{i}.embedding.text"]
            vectors[text] = array(a[f"embedding.embeddings.{i}.embedding.vector"])
    texts = [text for _, text, _ in DOCUMENTS]
    assert sorted(vectors) == sorted(texts)
    expected = HashEmbeddings().embed_documents(texts)
    for text, vector in zip(texts, expected, strict=True):
        assert vectors[text] == pytest.approx(vector)


def _check_demo_traces(spans: list[dict[str, Any]], run: DemoRun) -> None:
    assert len(spans) == run.spans
    traces = list(by_trace(spans).values())
    index_traces = [t for t in traces if len(t) == INDEX_SPANS]
    query_traces = [t for t in traces if len(t) != INDEX_SPANS]
    assert len(index_traces) == 2 and len(query_traces) == len(run.answers)
    for trace_spans in index_traces:
        _check_index_trace(trace_spans)
    seen = [_check_query_trace(t, run) for t in query_traces]
    assert sorted(seen) == sorted(run.questions)


def _check_in_jaeger(jaeger: Jaeger, service: str, run: DemoRun) -> None:
    spans = flatten_spans(jaeger.find_traces(service, min_spans=run.spans))
    assert all(s["resource"]["service.name"] == service for s in spans)
    assert {s["scope"] for s in spans} == {"ragtel"}
    _check_demo_traces(spans, run)


# -- the tests ----------------------------------------------------------------------------------


def test_llamaindex_otlp_grpc_straight_to_jaeger(jaeger: Jaeger) -> None:
    service = unique_service("li-grpc")
    run = run_llamaindex_demo(service, endpoint=jaeger.otlp_grpc_endpoint, protocol="grpc")
    _check_in_jaeger(jaeger, service, run)


def test_llamaindex_otlp_http_straight_to_jaeger(jaeger: Jaeger) -> None:
    service = unique_service("li-http")
    run = run_llamaindex_demo(service, endpoint=jaeger.otlp_http_endpoint, protocol="http/protobuf")
    _check_in_jaeger(jaeger, service, run)


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_llamaindex_through_the_collector_into_jaeger(
    collector: Collector, jaeger: Jaeger, protocol: str
) -> None:
    service = unique_service("li-collector")
    endpoint = collector.otlp_grpc_endpoint if protocol == "grpc" else collector.otlp_http_endpoint
    run = run_llamaindex_demo(service, endpoint=endpoint, protocol=protocol)
    _check_in_jaeger(jaeger, service, run)


def test_llamaindex_streamed_answer_in_one_jaeger_trace(jaeger: Jaeger) -> None:
    """The model is called only when the stream is read, after ``query()`` returned; its span
    is still in the query's trace, under the synthesizer, and the query span outlasts it."""
    service = unique_service("li-stream")
    provider = ragtel.configure(service, endpoint=jaeger.otlp_grpc_endpoint, protocol="grpc")
    with _instrumented(provider):
        response = build_query_engine(streaming=True).query(STREAMED_QUESTION)
        pieces = list(response.response_gen)  # type: ignore[attr-defined]
    assert provider.force_flush(30_000)
    assert len(pieces) > 1
    spans = flatten_spans(jaeger.find_traces(service, min_spans=INDEX_SPANS + QUERY_SPANS))
    [trace_spans] = [t for t in by_trace(spans).values() if len(t) == QUERY_SPANS]
    root = assert_tree(trace_spans)
    assert root["name"] == "invoke_workflow RetrieverQueryEngine.query"
    llm = _only(trace_spans, "LLM")
    parents = {s["span_id"]: s for s in trace_spans}
    chain = [llm]
    while chain[-1]["parent_span_id"]:
        chain.append(parents[chain[-1]["parent_span_id"]])
    assert [s["name"] for s in chain] == [
        f"chat {MODEL}",
        "CompactAndRefine.synthesize",
        "invoke_workflow RetrieverQueryEngine.query",
    ]
    a = llm["attributes"]
    assert a["llm.output_messages.0.message.content"] == "".join(pieces)
    assert a["llm.token_count.completion"] > 0
    assert root["end_ns"] >= llm["end_ns"]
    assert root["attributes"]["output.value"] == "".join(pieces)


def test_llamaindex_in_phoenix(phoenix: Phoenix) -> None:
    project = unique_service("li-phoenix")  # ragtel names the Phoenix project after the service
    run = run_llamaindex_demo(
        project, endpoint=phoenix.otlp_http_endpoint, protocol="http/protobuf"
    )
    items = phoenix.spans(project, min_spans=run.spans, timeout=60)
    spans = flatten_phoenix_spans(items)
    _check_demo_traces(spans, run)
    # Phoenix moves the OpenInference kind out of the attributes into span_kind.
    assert all("openinference.span.kind" not in s["attributes"] for s in spans)
    assert {item["span_kind"] for item in items} == {
        "CHAIN",
        "RETRIEVER",
        "EMBEDDING",
        "PROMPT",
        "LLM",
    }
