from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain_core.vectorstores import InMemoryVectorStore, VectorStoreRetriever

import ragtel
from ragtel import TraceConfig
from ragtel.demo.corpus import QUESTIONS
from ragtel.demo.langchain_app import build_chain
from ragtel.demo.local_models import HashEmbeddings
from ragtel.langchain import RagtelCallbackHandler
from tests.unit.conftest import Traced, assert_well_formed


@pytest.fixture
def instrumented(traced: Traced) -> Iterator[Traced]:
    ragtel.instrument(traced.provider, traced.config)
    try:
        yield traced
    finally:
        ragtel.uninstrument()


def test_every_runnable_is_traced_without_callbacks(instrumented: Traced) -> None:
    build_chain().invoke(QUESTIONS[0])
    (spans,) = instrumented.traces().values()
    assert assert_well_formed(spans).name == "invoke_workflow RunnableSequence"
    (retrieval,) = [s for s in spans if s.attributes["openinference.span.kind"] == "RETRIEVER"]
    assert retrieval.attributes["gen_ai.retrieval.top_k"] == 3  # the retriever's search_kwargs
    assert {s.attributes["openinference.span.kind"] for s in spans} >= {
        "CHAIN",
        "RETRIEVER",
        "PROMPT",
        "LLM",
    }


def test_instrument_is_idempotent(instrumented: Traced) -> None:
    ragtel.instrument(instrumented.provider, instrumented.config)
    build_chain().invoke(QUESTIONS[1])
    assert len(instrumented.by_kind("LLM")) == 1


def test_explicit_handler_does_not_duplicate_spans(instrumented: Traced) -> None:
    handler = RagtelCallbackHandler(instrumented.provider, instrumented.config)
    build_chain().invoke(QUESTIONS[2], config={"callbacks": [handler]})
    assert len(instrumented.by_kind("LLM")) == 1
    assert len(instrumented.by_kind("RETRIEVER")) == 1


def test_uninstrument_stops_tracing(traced: Traced) -> None:
    ragtel.instrument(traced.provider, traced.config)
    ragtel.uninstrument()
    ragtel.uninstrument()
    build_chain().invoke(QUESTIONS[3])
    assert traced.spans == ()
    # The retriever's k is reported only while instrumented: LangChain's own method is back.
    store = InMemoryVectorStore(HashEmbeddings())
    retriever = VectorStoreRetriever(vectorstore=store, search_kwargs={"k": 2})
    assert "ls_retriever_k" not in retriever._get_ls_params()


def test_session_and_langchain_metadata_are_stamped(instrumented: Traced) -> None:
    chain = build_chain()
    with ragtel.session(
        session_id="sess-1", user_id="u-7", metadata={"tenant": "acme"}, tags=["beta"]
    ) as session:
        chain.invoke(QUESTIONS[0])
    assert session.trace_ids == [ragtel.last_trace_id()]
    for span in instrumented.spans:
        a = span.attributes
        assert a["session.id"] == a["gen_ai.conversation.id"] == "sess-1"
        assert a["user.id"] == "u-7"
        assert '"tenant":"acme"' in a["metadata"]
        assert "beta" in a["tag.tags"]
    instrumented.exporter.clear()
    chain.invoke(QUESTIONS[1], config={"metadata": {"thread_id": "th-9", "user_id": "u-1"}})
    llm = instrumented.one("LLM").attributes
    assert llm["session.id"] == "th-9" and llm["user.id"] == "u-1"


def test_feedback_joins_the_trace_it_judges(instrumented: Traced) -> None:
    ragtel.configure(exporter=instrumented.exporter)
    build_chain().invoke(QUESTIONS[0])
    trace_id = ragtel.last_trace_id()
    assert trace_id is not None
    ragtel.record_feedback(trace_id, score=0.0, label="thumbs_down", comment="wrong answer")
    ragtel.export.current_provider().force_flush()  # type: ignore[attr-defined]
    spans = instrumented.traces()[int(trace_id, 16)]
    feedback = next(s for s in spans if s.name == "feedback")
    root = assert_well_formed(spans)
    assert feedback.parent.span_id == root.context.span_id
    a = feedback.attributes
    assert a["gen_ai.evaluation.name"] == "user_feedback"
    assert a["gen_ai.evaluation.score.value"] == 0.0
    assert a["gen_ai.evaluation.score.label"] == "thumbs_down"
    assert a["gen_ai.evaluation.explanation"] == "wrong answer"


@pytest.mark.parametrize("capture", [True, False])
def test_feedback_text_goes_through_the_text_policy(instrumented: Traced, capture: bool) -> None:
    ragtel.configure(exporter=instrumented.exporter, config=TraceConfig(capture_content=capture))
    comment = "wrong; my key sk-proj-AbCdEfGhIjKlMnOpQrStUv leaked \ud800"
    ragtel.record_feedback("ab" * 16, score=0.0, label="bad \ud800", comment=comment)
    ragtel.export.current_provider().force_flush()  # type: ignore[attr-defined]
    feedback = [s for s in instrumented.exporter.get_finished_spans() if s.name == "feedback"]
    a = feedback[-1].attributes
    assert a["gen_ai.evaluation.score.label"] == "bad \ufffd"
    if capture:
        assert a["gen_ai.evaluation.explanation"] == "wrong; my key [REDACTED] leaked \ufffd"
    else:
        assert "gen_ai.evaluation.explanation" not in a


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trace_id": "xyz", "score": 1.0}, "not hexadecimal"),
        ({"trace_id": "0" * 32, "score": 1.0}, "not a valid"),
        ({"trace_id": "ab" * 16}, "needs a score"),
    ],
)
def test_feedback_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ragtel.record_feedback(**kwargs)


def test_instrument_before_configure_records_with_what_configure_set() -> None:
    # The documented two lines, in the "wrong" order: the handler instrument() makes first must
    # still record to configure()'s exporter, under configure()'s settings.
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    ragtel.instrument()
    try:
        exporter = InMemorySpanExporter()
        ragtel.configure(exporter=exporter, config=ragtel.TraceConfig(max_documents=1))
        build_chain().invoke(QUESTIONS[4])
        ragtel.export.current_provider().force_flush()  # type: ignore[attr-defined]
    finally:
        ragtel.uninstrument()
    spans = exporter.get_finished_spans()
    (retriever,) = [s for s in spans if s.attributes["openinference.span.kind"] == "RETRIEVER"]
    assert retriever.attributes["ragtel.retrieval.documents.recorded"] == 1
    assert "retrieval.documents.1.document.content" not in retriever.attributes
