"""The recorder fed records directly, as any adapter does: span names, tree and attributes are what
a trace viewer shows, whatever framework produced the records."""

from __future__ import annotations

import json

import numpy as np
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import ragtel
from ragtel import _stats
from ragtel.config import TraceConfig
from ragtel.export import span_limits_for
from ragtel.recording import Recorder
from ragtel.recording.records import Document, Message, PromptTemplate, RunContext, Usage
from tests.unit.conftest import tree

DOCS = [
    Document("Invoices are issued on the 1st.", "doc-1", 0.91, {"source": "billing.md"}),
    Document("Refunds take 5 days.", "doc-2", 0.52, None),
    Document("Passwords reset by email.", "doc-3", None, {"source": "account.md"}),
]


def _recorder(**config: object) -> tuple[Recorder, InMemorySpanExporter]:
    settings = TraceConfig(monitor=False, **config)  # type: ignore[arg-type]
    provider = TracerProvider(span_limits=span_limits_for(settings))
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Recorder(provider, settings, monitor=None), exporter


def _one(exporter: InMemorySpanExporter, name: str) -> dict[str, object]:
    (span,) = [s for s in exporter.get_finished_spans() if s.name == name]
    return dict(span.attributes or {})


def test_a_run_of_records_becomes_one_trace_in_both_conventions() -> None:
    rec, exporter = _recorder()
    root = rec.start_chain("qa", {"question": "invoice?"}, None, RunContext(session_id="s-1"))
    retrieval = rec.start_retrieval("retriever", "invoice?", root, top_k=3, data_source="kb")
    retrieval.end_retrieval(DOCS)
    template = PromptTemplate([("system", "Use {context}"), ("user", "{question}")], {"q": 1})
    prompt = rec.start_prompt("prompt", template, root)
    prompt.end_prompt([Message("system", "Use ..."), Message("user", "invoice?")])
    llm = rec.start_generation(
        "llm", root, model="m-1", provider="acme", params={"temperature": 0.2, "api_key": "k"},
        messages=[Message("user", "invoice?")],
    )  # fmt: skip
    llm.end_generation(
        [Message("assistant", "On the 1st.")], usage=Usage(12, 4), finish_reasons=["stop"]
    )
    root.end_chain("On the 1st.")

    spans = exporter.get_finished_spans()
    assert tree(spans) == ["invoke_workflow qa", "  retrieval kb", "  prompt", "  chat m-1"]
    assert len({s.context.trace_id for s in spans}) == 1
    assert ragtel.last_trace_id() == format(spans[0].context.trace_id, "032x")

    a = _one(exporter, "retrieval kb")
    assert a["openinference.span.kind"] == "RETRIEVER"
    assert a["gen_ai.operation.name"] == "retrieval"
    assert a["input.value"] == a["gen_ai.retrieval.query.text"] == "invoice?"
    assert a["gen_ai.retrieval.top_k"] == 3
    assert a["retrieval.documents.0.document.id"] == "doc-1"
    assert a["retrieval.documents.1.document.score"] == 0.52
    assert "retrieval.documents.2.document.score" not in a  # the store gave none
    assert json.loads(str(a["retrieval.documents.2.document.metadata"])) == {"source": "account.md"}
    assert json.loads(str(a["gen_ai.retrieval.documents"]))[0] == {
        "id": "doc-1",
        "score": 0.91,
        "content": "Invoices are issued on the 1st.",
        "metadata": {"source": "billing.md"},
    }
    assert a["ragtel.retrieval.documents.count"] == 3
    assert "session.id" not in a  # a run context is the step's own, as its adapter gives it

    g = _one(exporter, "chat m-1")
    assert (g["llm.token_count.prompt"], g["llm.token_count.completion"]) == (12, 4)
    assert g["llm.token_count.total"] == 16
    assert g["gen_ai.usage.input_tokens"] == 12
    assert g["gen_ai.response.finish_reasons"] == ("stop",)
    assert g["llm.output_messages.0.message.content"] == "On the 1st."
    assert json.loads(str(g["llm.invocation_parameters"])) == {
        "temperature": 0.2,
        "api_key": "[REDACTED]",
    }
    assert g["gen_ai.request.temperature"] == 0.2
    assert g["gen_ai.provider.name"] == "acme"  # no registry member applies: a custom value
    assert "llm.provider" not in g  # OpenInference's list is closed

    root_attrs = _one(exporter, "invoke_workflow qa")
    assert root_attrs["gen_ai.operation.name"] == "invoke_workflow"
    assert root_attrs["gen_ai.workflow.name"] == "qa"
    assert root_attrs["session.id"] == root_attrs["gen_ai.conversation.id"] == "s-1"
    assert json.loads(str(root_attrs["input.value"])) == {"question": "invoice?"}


def test_the_text_policy_applies_to_every_text_of_a_record() -> None:
    rec, exporter = _recorder(max_text_chars=12, redact=lambda t: t.replace("Alice", "<name>"))
    step = rec.start_retrieval("r", "Alice's key sk-abcdefghijklmnopqrstuv", None)
    step.end_retrieval([Document("Alice wrote a very long document", "d")])
    a = _one(exporter, "retrieval")
    assert a["input.value"] == "<name>'s key"  # masked and redacted before the cut
    assert a["retrieval.documents.0.document.content"] == "<name> wrote"
    assert a["ragtel.text.truncated_count"] == 2  # the query and the document
    assert a["ragtel.text.truncated"] is True


def test_documents_returned_again_in_later_runs_are_recorded_as_the_first_time() -> None:
    calls: list[str] = []

    def redact(text: str) -> str:
        calls.append(text)
        return text.replace("Alice", "<name>")

    for config in ({}, {"redact": redact}):
        rec, exporter = _recorder(max_text_chars=24, **config)
        for metadata_value in (1, True, 1.0, "1", 1, "1"):
            step = rec.start_retrieval("r", "q", None)
            doc = Document("Alice wrote a long document", "d", 0.5, {"n": metadata_value})
            step.end_retrieval([doc])
        spans = [dict(s.attributes or {}) for s in exporter.get_finished_spans()]
        content = "<name> wrote a long docu" if config else "Alice wrote a long docume"[:24]
        for a, expected in zip(spans, ("1", "true", "1.0", '"1"', "1", '"1"'), strict=True):
            assert a["retrieval.documents.0.document.content"] == content
            assert a["retrieval.documents.0.document.metadata"] == '{"n":' + expected + "}"
            assert a["ragtel.text.truncated_count"] == 1  # the document's text, in every run
            (genai,) = json.loads(str(a["gen_ai.retrieval.documents"]))
            assert genai["content"] == content
    # A user's redact function sees every document of every run, as documented.
    assert calls.count("Alice wrote a long document") == 6


def test_no_content_captured_leaves_structure_only() -> None:
    rec, exporter = _recorder(capture_content=False)
    step = rec.start_retrieval("r", "secret question", None)
    step.end_retrieval(DOCS)
    a = _one(exporter, "retrieval")
    assert a["ragtel.content.captured"] is False
    assert not [k for k, v in a.items() if isinstance(v, str) and "question" in v]
    assert "retrieval.documents.0.document.content" not in a
    assert a["retrieval.documents.0.document.id"] == "doc-1"


def test_the_byte_budget_cuts_documents_and_says_so() -> None:
    _stats.reset()
    rec, exporter = _recorder(max_span_bytes=4096)
    documents = [Document("x" * 1000, f"d{i}") for i in range(10)]
    step = rec.start_retrieval("r", "q", None, RunContext())
    step.end_retrieval(documents)
    a = _one(exporter, "retrieval")
    recorded = a["ragtel.retrieval.documents.recorded"]
    assert isinstance(recorded, int) and 0 < recorded < 10
    assert f"retrieval.documents.{recorded - 1}.document.content" in a
    assert f"retrieval.documents.{recorded}.document.content" not in a
    assert a["ragtel.retrieval.documents.truncated"] is True
    assert a["ragtel.span.bytes_truncated"] == 1
    assert ragtel.stats()["documents_not_recorded"] == 10 - recorded


def _batch(exporter: InMemorySpanExporter) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The attributes of an embedding batch's span and of its continuation spans, in order."""
    spans = exporter.get_finished_spans()
    (main,) = [s for s in spans if s.name.startswith("embeddings ") and "continued" not in s.name]
    parts = [s for s in spans if s.name == "embeddings (continued)"]
    for part in parts:
        assert part.parent is not None and part.parent.span_id == main.context.span_id
    parts.sort(key=lambda s: int((s.attributes or {})["ragtel.embedding.offset"]))  # type: ignore[call-overload]
    return dict(main.attributes or {}), [dict(p.attributes or {}) for p in parts]


def _vectors(attributes: dict[str, object]) -> list[tuple[float, ...]]:
    out = []
    for i in range(len(attributes)):
        vector = attributes.get(f"embedding.embeddings.{i}.embedding.vector")
        if vector is None:
            break
        out.append(tuple(vector))  # type: ignore[call-overload]
    return out


def test_embedding_vectors_become_python_floats_up_to_the_cap() -> None:
    rec, exporter = _recorder(max_vectors=2)
    texts = ["a", "b", "c"]
    step = rec.start_embedding("e", None, model="mini", texts=texts, role="query_document")
    step.end_embedding(np.arange(9, dtype=np.float32).reshape(3, 3))
    a = _one(exporter, "embeddings mini")
    assert a["embedding.embeddings.1.embedding.vector"] == (3.0, 4.0, 5.0)
    assert a["embedding.embeddings.1.embedding.text"] == "b"
    assert "embedding.embeddings.2.embedding.vector" not in a
    assert a["gen_ai.embeddings.dimension.count"] == 3
    assert (a["ragtel.embedding.truncated"], a["ragtel.embedding.recorded"]) == (True, 2)
    # Documents embedded while answering are not the knowledge base: no continuation.
    assert len(exporter.get_finished_spans()) == 1


def test_a_knowledge_base_batch_is_recorded_whole_over_continuation_spans() -> None:
    rec, exporter = _recorder(max_vectors=4)
    before = ragtel.stats().get("vectors_not_recorded", 0)
    texts = [f"passage {i}" for i in range(10)]
    step = rec.start_embedding("e", None, model="mini", texts=texts, role="document")
    step.end_embedding(np.arange(30, dtype=np.float64).reshape(10, 3))
    main, parts = _batch(exporter)
    assert [p["ragtel.embedding.offset"] for p in parts] == [4, 8]
    assert main["ragtel.embedding.parts"] == 2 and "ragtel.embedding.truncated" not in main
    got = [v for a in (main, *parts) for v in _vectors(a)]
    assert got == [tuple(float(3 * i + j) for j in range(3)) for i in range(10)]
    assert parts[1]["embedding.embeddings.1.embedding.text"] == "passage 9"
    assert all(p["openinference.span.kind"] == "EMBEDDING" for p in parts)
    assert all(p["ragtel.embedding.role"] == "document" for p in parts)
    assert all("gen_ai.operation.name" not in p for p in parts)  # one embeddings operation
    assert ragtel.stats().get("vectors_not_recorded", 0) == before


def test_the_byte_budget_splits_a_knowledge_base_batch_and_loses_nothing() -> None:
    rec, exporter = _recorder(max_vectors=1000, max_span_bytes=64 << 10)
    rows = np.random.default_rng(0).normal(size=(40, 384))
    step = rec.start_embedding("e", None, model="mini", texts=["t"] * 40, role="document")
    step.end_embedding(rows)
    main, parts = _batch(exporter)
    assert len(parts) == 3  # 13 vectors of 4.3 kB fill one 56 kB budget: 4 spans for 40
    got = np.array([v for a in (main, *parts) for v in _vectors(a)])
    assert got.shape == (40, 384) and np.allclose(got, rows)
    assert "ragtel.embedding.truncated" not in main


def test_a_vector_larger_than_a_whole_span_is_cut_and_counted() -> None:
    rec, exporter = _recorder(max_vectors=2, max_span_bytes=4096)
    before = ragtel.stats().get("vectors_not_recorded", 0)
    rows = [[0.5] * 8, [0.25] * 1000, [0.125] * 8]  # the middle one is 11 kB
    step = rec.start_embedding("e", None, model="mini", texts=["a", "b", "c"], role="document")
    step.end_embedding(rows)
    main, parts = _batch(exporter)
    got = [v for a in (main, *parts) for v in _vectors(a)]
    assert got == [tuple(rows[0]), tuple(rows[2])]
    assert (main["ragtel.embedding.truncated"], main["ragtel.embedding.recorded"]) == (True, 2)
    assert ragtel.stats()["vectors_not_recorded"] == before + 1
    assert any(p.get("ragtel.span.bytes_truncated") for p in [main, *parts])


def test_without_vector_capture_a_knowledge_base_batch_stays_on_one_span() -> None:
    rec, exporter = _recorder(max_vectors=2, capture_embeddings=False)
    step = rec.start_embedding("e", None, model="mini", texts=["a", "b", "c"], role="document")
    step.end_embedding([[1.0], [2.0], [3.0]])
    assert len(exporter.get_finished_spans()) == 1
    a = _one(exporter, "embeddings mini")
    assert "embedding.embeddings.0.embedding.vector" not in a


def test_genai_only_writes_no_openinference_keys() -> None:
    rec, exporter = _recorder(conventions=frozenset({"genai"}))
    tool = rec.start_tool("lookup", {"id": 7}, None, description="Finds an invoice")
    tool.end_tool("found")
    a = _one(exporter, "execute_tool lookup")
    assert "openinference.span.kind" not in a and "input.value" not in a
    assert a["gen_ai.tool.name"] == "lookup"
    assert json.loads(str(a["gen_ai.tool.call.arguments"])) == {"id": 7}
    assert a["gen_ai.tool.call.result"] == "found"


def test_a_failed_step_carries_the_error() -> None:
    rec, exporter = _recorder()
    step = rec.start_chain("c", "in", None)
    step.fail(ValueError("boom"))
    step.end_chain("ignored")  # ending twice changes nothing
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError: boom"
    assert span.events[0].name == "exception"
    assert "output.value" not in (span.attributes or {})


@pytest.mark.parametrize("order", ["configure_first", "recorder_first"])
def test_a_recorder_given_nothing_follows_configure(order: str) -> None:
    exporter = InMemorySpanExporter()
    config = TraceConfig(max_documents=1, monitor=False)
    if order == "configure_first":
        ragtel.configure(exporter=exporter, config=config)
        rec = Recorder()
    else:
        rec = Recorder()
        ragtel.configure(exporter=exporter, config=config)
    rec.start_retrieval("r", "q", None).end_retrieval(DOCS)
    ragtel.export.current_provider().force_flush()  # type: ignore[attr-defined]
    (span,) = exporter.get_finished_spans()
    assert (span.attributes or {})["ragtel.retrieval.documents.recorded"] == 1
