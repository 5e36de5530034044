"""The demo pipeline's traces, exported by ragtel, read back from Jaeger's query API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from backends import Collector, Jaeger, flatten_spans, parse_array_attr
from opentelemetry.sdk.trace import TracerProvider
from ragtel_pipeline import (
    SPANS_PER_QUESTION,
    assert_tree,
    by_trace,
    kind,
    run_langchain_demo,
    unique_service,
)

import ragtel
from ragtel.demo.corpus import QUESTIONS
from ragtel.demo.langchain_app import SYSTEM_TEMPLATE
from ragtel.demo.local_models import HashEmbeddings


def _check_demo_traces(jaeger: Jaeger, service: str, answers: list[str]) -> None:
    expected = len(QUESTIONS) * SPANS_PER_QUESTION
    doc = jaeger.find_traces(service, min_spans=expected + 2)  # + the index build's two spans
    spans = flatten_spans(doc)
    assert all(s["resource"]["service.name"] == service for s in spans)
    traces = [t for t in by_trace(spans).values() if any(kind(s) == "RETRIEVER" for s in t)]
    assert len(traces) == len(QUESTIONS)
    seen_questions = set()
    for trace_spans in traces:
        root = assert_tree(trace_spans)
        assert root["name"] == "invoke_workflow RunnableSequence"
        kinds = {kind(s): s for s in trace_spans}
        assert set(kinds) == {"CHAIN", "RETRIEVER", "EMBEDDING", "PROMPT", "LLM"}

        retriever = kinds["RETRIEVER"]["attributes"]
        question = retriever["input.value"]
        seen_questions.add(question)
        assert retriever["retrieval.documents.0.document.id"]
        assert retriever["retrieval.documents.0.document.content"]
        assert isinstance(retriever["retrieval.documents.0.document.score"], float)
        docs = json.loads(retriever["gen_ai.retrieval.documents"])
        assert len(docs) == 3 and docs[0]["id"] == retriever["retrieval.documents.0.document.id"]
        # The GenAI registry's span kinds, as Jaeger stores them.
        assert kinds["RETRIEVER"]["kind"] == kinds["LLM"]["kind"] == "CLIENT"
        assert root["kind"] == "INTERNAL"

        embedding = kinds["EMBEDDING"]
        assert embedding["parent_span_id"] == kinds["RETRIEVER"]["span_id"]
        vector = parse_array_attr(
            embedding["attributes"]["embedding.embeddings.0.embedding.vector"]
        )
        assert vector == pytest.approx(HashEmbeddings().embed_query(question))

        prompt = kinds["PROMPT"]["attributes"]
        assert SYSTEM_TEMPLATE in prompt["llm.prompt_template.template"]
        assert json.loads(prompt["llm.prompt_template.variables"])["question"] == question

        llm = kinds["LLM"]["attributes"]
        assert int(llm["llm.token_count.prompt"]) > 0
        assert int(llm["gen_ai.usage.output_tokens"]) > 0
        assert llm["output.value"] in answers
    assert seen_questions == set(QUESTIONS)


def test_otlp_grpc_straight_to_jaeger(jaeger: Jaeger) -> None:
    service = unique_service("grpc")
    _, answers = run_langchain_demo(service, endpoint=jaeger.otlp_grpc_endpoint, protocol="grpc")
    _check_demo_traces(jaeger, service, answers)


def test_otlp_http_straight_to_jaeger(jaeger: Jaeger) -> None:
    service = unique_service("http")
    _, answers = run_langchain_demo(
        service, endpoint=jaeger.otlp_http_endpoint, protocol="http/protobuf"
    )
    _check_demo_traces(jaeger, service, answers)


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_through_the_collector_into_jaeger(
    collector: Collector, jaeger: Jaeger, protocol: str
) -> None:
    service = unique_service("collector")
    endpoint = collector.otlp_grpc_endpoint if protocol == "grpc" else collector.otlp_http_endpoint
    _, answers = run_langchain_demo(service, endpoint=endpoint, protocol=protocol)
    _check_demo_traces(jaeger, service, answers)


def test_v1_trace_api_shows_vectors_as_json_text(jaeger: Jaeger) -> None:
    service = unique_service("v1")
    run_langchain_demo(service, endpoint=jaeger.otlp_grpc_endpoint, protocol="grpc")
    spans = flatten_spans(jaeger.find_traces(service, min_spans=len(QUESTIONS) * 10))
    query_embedding = next(
        s for s in spans if s["attributes"].get("ragtel.embedding.role") == "query"
    )
    v1 = flatten_spans(jaeger.get_trace(query_embedding["trace_id"]))
    raw = next(s for s in v1 if s["span_id"] == query_embedding["span_id"])["attributes"][
        "embedding.embeddings.0.embedding.vector"
    ]
    assert isinstance(raw, str) and raw.startswith("[")  # what the Jaeger UI shows
    assert json.loads(raw) == pytest.approx(
        parse_array_attr(query_embedding["attributes"]["embedding.embeddings.0.embedding.vector"])
    )


def _large_retrieval(provider: TracerProvider, retrievals: int) -> None:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.retrievers import BaseRetriever

    from ragtel.langchain import RagtelCallbackHandler, TracedEmbeddings

    class Wide(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[(i + j) / 1536 for j in range(1536)] for i, _ in enumerate(texts)]

        def embed_query(self, text: str) -> list[float]:
            return [j / 1536 for j in range(1536)]

    embeddings = TracedEmbeddings(Wide(), model_name="wide-1536")

    class Hundred(BaseRetriever):
        def _get_relevant_documents(
            self, query: str, *, run_manager: CallbackManagerForRetrieverRun
        ) -> list[Document]:
            embeddings.embed_query(query)
            docs = [
                Document(
                    page_content=f"doc {i} " + "lorem ipsum dolor sit amet " * 75,  # ~2 KB
                    id=f"doc-{i}",
                    metadata={
                        "score": 1 - i / 100,
                        "source": f"file-{i}.md",
                        "page": i,
                        "tags": ["a", "b"],
                    },
                )
                for i in range(100)
            ]
            embeddings.embed_documents([d.page_content for d in docs])
            return docs

    handler = RagtelCallbackHandler()
    for i in range(retrievals):
        Hundred().invoke(f"large query {i}", config={"callbacks": [handler]})
    assert provider.force_flush(60_000)


def test_large_retrievals_arrive_through_the_collector(
    collector: Collector, jaeger: Jaeger
) -> None:
    """100 documents of 2 KB and 1536-d vectors per retrieval, 12 retrievals exported at once:
    about 8 MB, twice the Collector's 4 MiB gRPC message limit."""
    service = unique_service("large")
    provider = ragtel.configure(service, endpoint=collector.otlp_grpc_endpoint, protocol="grpc")
    before = ragtel.stats()
    _large_retrieval(provider, retrievals=12)  # type: ignore[arg-type]
    after = ragtel.stats()
    assert after.get("spans_lost_export_failed", 0) == before.get("spans_lost_export_failed", 0)
    spans = flatten_spans(jaeger.find_traces(service, min_spans=12 * 3, timeout=60))
    retrievers = [s for s in spans if kind(s) == "RETRIEVER"]
    assert len(retrievers) == 12
    for span in retrievers:
        a = span["attributes"]
        assert a["input.value"].startswith("large query")
        cap = ragtel.TraceConfig().max_documents
        assert f"retrieval.documents.{cap - 1}.document.content" in a
        assert f"retrieval.documents.{cap}.document.content" not in a
        assert a["ragtel.retrieval.documents.truncated"] is True
        assert int(a["ragtel.retrieval.documents.count"]) == 100
        assert int(a["ragtel.retrieval.documents.recorded"]) == cap
    # Embedded inside the retrieval: documents of the answer, not of the knowledge base.
    document_batches = [
        s for s in spans if s["attributes"].get("ragtel.embedding.role") == "query_document"
    ]
    assert len(document_batches) == 12
    for span in document_batches:
        a: dict[str, Any] = span["attributes"]
        vector = parse_array_attr(a["embedding.embeddings.0.embedding.vector"])
        assert len(vector) == 1536
        assert a["ragtel.embedding.truncated"] is True
        assert int(a["ragtel.embedding.count"]) == 100


def test_resource_attributes_and_headers_from_environment(
    collector: Collector, jaeger: Jaeger, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = unique_service("env")
    monkeypatch.setenv("OTEL_SERVICE_NAME", service)
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=e2e,team=search")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.otlp_http_endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"{collector.echo_header}=tenant-42")
    run_langchain_demo(None)  # type: ignore[arg-type]
    spans = flatten_spans(jaeger.find_traces(service, min_spans=len(QUESTIONS) * 10))
    resource = spans[0]["resource"]
    assert resource["service.name"] == service
    assert resource["deployment.environment"] == "e2e" and resource["team"] == "search"
    assert all(s["attributes"].get(collector.echo_attribute) == "tenant-42" for s in spans)
