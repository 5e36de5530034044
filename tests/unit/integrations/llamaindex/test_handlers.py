from __future__ import annotations

import asyncio
import gc
import json
import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
from llama_index.core import Document as LIDocument
from llama_index.core import VectorStoreIndex
from llama_index.core.base.llms.types import (
    ChatMessage,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from llama_index.core.prompts import ChatPromptTemplate, PromptTemplate, SelectorPromptTemplate
from llama_index.core.prompts.utils import is_chat_model
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.tools import FunctionTool
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from pydantic import Field

import ragtel
from ragtel.config import TraceConfig
from ragtel.demo.corpus import DOCUMENTS, QUESTIONS
from ragtel.demo.langchain_app import HUMAN_TEMPLATE, SYSTEM_TEMPLATE, build_chain
from ragtel.demo.llamaindex_app import (
    ExtractiveLLM,
    HashEmbedding,
    build_index,
    build_query_engine,
)
from ragtel.demo.local_models import HashEmbeddings
from ragtel.langchain import RagtelCallbackHandler, TracedEmbeddings
from ragtel.llamaindex import (
    RagtelSpanHandler,
    StreamTimeout,
    instrument_llamaindex,
    uninstrument_llamaindex,
)
from ragtel.recording import Recorder
from tests.conftest import needs_patchable_internals
from tests.unit.conftest import Traced, assert_capped_retrieval, assert_well_formed, tree

QUESTION = "How do I download my invoice?"
ANSWER = DOCUMENTS[0][1]

QUERY_ROOT = "invoke_workflow RetrieverQueryEngine.query"
EXPECTED_TREE = [
    QUERY_ROOT,
    "  retrieval SimpleVectorStore",
    "    embeddings ragtel-hash-256",
    "  CompactAndRefine.synthesize",
    "    ChatPromptTemplate",
    "    chat ragtel-extractive-1",
]
EXPECTED_ASYNC_TREE = [
    line.replace(".query", ".aquery").replace(".synthesize", ".asynthesize")
    for line in EXPECTED_TREE
]


def _ragtel_handlers() -> list[Any]:
    root = get_dispatcher()
    return [
        h
        for h in [*root.span_handlers, *root.event_handlers]
        if type(h).__name__.startswith("Ragtel")
    ]


@pytest.fixture
def handler(traced: Traced) -> Iterator[RagtelSpanHandler]:
    assert _ragtel_handlers() == []
    handler = RagtelSpanHandler(traced.provider, traced.config).attach()
    yield handler
    handler.detach()
    assert _ragtel_handlers() == []
    assert ragtel.stats().get("internal_errors", 0) == 0


@pytest.fixture
def engine(handler: RagtelSpanHandler, traced: Traced) -> Any:
    engine = build_query_engine()
    traced.exporter.clear()  # the index build's document embeddings
    return engine


def _check_traces(traced: Traced, count: int, expected: Sequence[str] = EXPECTED_TREE) -> None:
    traces = traced.traces()
    assert len(traces) == count
    for spans in traces.values():
        assert_well_formed(spans)
        assert tree(spans) == list(expected), tree(spans)
    assert trace.get_current_span() is trace.INVALID_SPAN


# -- one well-formed trace per query -----------------------------------------------------------


def test_query_span_tree(engine: Any, traced: Traced, handler: RagtelSpanHandler) -> None:
    assert str(engine.query(QUESTION)) == ANSWER
    _check_traces(traced, 1)
    assert handler.open_steps == 0


async def test_aquery_span_tree(engine: Any, traced: Traced, handler: RagtelSpanHandler) -> None:
    assert str(await engine.aquery(QUESTION)) == ANSWER
    _check_traces(traced, 1, EXPECTED_ASYNC_TREE)
    assert handler.open_steps == 0


async def test_sixteen_concurrent_aqueries(
    engine: Any, traced: Traced, handler: RagtelSpanHandler
) -> None:
    questions = [f"How do I download invoice number {i}?" for i in range(16)]
    answers = await asyncio.gather(*(engine.aquery(q) for q in questions))
    assert len(answers) == 16
    _check_traces(traced, 16, EXPECTED_ASYNC_TREE)
    # each trace carries its own question, on every step that records one
    for spans in traced.traces().values():
        inputs = {s.attributes.get("input.value") for s in spans if s.name.endswith("aquery")}
        retrieval = next(s for s in spans if s.name.startswith("retrieval"))
        assert inputs == {retrieval.attributes["input.value"]}
    assert handler.open_steps == 0


def test_queries_from_eight_threads(
    engine: Any, traced: Traced, handler: RagtelSpanHandler
) -> None:
    questions = [f"Is my data encrypted at rest, case {i}?" for i in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(engine.query, questions))
    assert len(answers) == 16
    _check_traces(traced, 16)
    assert handler.open_steps == 0


# -- what the steps record ----------------------------------------------------------------------


def test_embedding_vector_under_retrieval_and_scored_nodes(engine: Any, traced: Traced) -> None:
    engine.query(QUESTION)
    retriever = traced.one("RETRIEVER")
    embedding = traced.one("EMBEDDING")
    assert embedding.parent.span_id == retriever.context.span_id
    a = embedding.attributes
    assert a["ragtel.embedding.role"] == "query"
    assert a["embedding.embeddings.0.embedding.text"] == QUESTION
    assert a["embedding.embeddings.0.embedding.vector"] == tuple(
        HashEmbeddings().embed_query(QUESTION)
    )
    assert a["gen_ai.embeddings.dimension.count"] == 256
    assert a["embedding.model_name"] == a["gen_ai.request.model"] == "ragtel-hash-256"

    r = retriever.attributes
    assert r["input.value"] == r["gen_ai.retrieval.query.text"] == QUESTION
    assert r["gen_ai.retrieval.top_k"] == 3
    assert r["gen_ai.data_source.id"] == "SimpleVectorStore"
    ids = [r[f"retrieval.documents.{i}.document.id"] for i in range(3)]
    assert "billing-1" in ids
    i = ids.index("billing-1")
    assert r[f"retrieval.documents.{i}.document.content"] == ANSWER
    assert json.loads(r[f"retrieval.documents.{i}.document.metadata"])["topic"] == "billing"
    scores = [r[f"retrieval.documents.{n}.document.score"] for n in range(3)]
    assert scores == sorted(scores, reverse=True) and all(isinstance(s, float) for s in scores)
    docs = json.loads(r["gen_ai.retrieval.documents"])
    assert [d["id"] for d in docs] == ids and docs[i]["score"] == scores[i]
    assert "output.value" not in r and "output.mime_type" not in r


def test_generation_attributes(engine: Any, traced: Traced) -> None:
    engine.query(QUESTION)
    a = traced.one("LLM").attributes
    assert a["llm.model_name"] == a["gen_ai.request.model"] == "ragtel-extractive-1"
    # A provider the registry does not list keeps its name; OpenInference's list has none.
    assert a["gen_ai.provider.name"] == "ragtel"
    assert "llm.provider" not in a
    assert json.loads(a["llm.invocation_parameters"]) == {"temperature": 0.0}
    assert a["gen_ai.request.temperature"] == 0.0
    assert a["llm.input_messages.0.message.role"] == "system"
    assert ANSWER in a["llm.input_messages.0.message.content"]
    assert a["llm.input_messages.1.message.role"] == "user"
    assert a["llm.input_messages.1.message.content"] == QUESTION
    assert a["llm.output_messages.0.message.role"] == "assistant"
    assert a["output.value"] == ANSWER
    assert a["llm.token_count.prompt"] == a["gen_ai.usage.input_tokens"] > 0
    assert a["llm.token_count.completion"] == a["gen_ai.usage.output_tokens"] > 0
    assert tuple(a["gen_ai.response.finish_reasons"]) == ("stop",)
    assert a["gen_ai.response.model"] == "ragtel-extractive-1"


def test_prompt_records_the_template_used_and_its_variables(engine: Any, traced: Traced) -> None:
    engine.query(QUESTION)
    prompt = traced.one("PROMPT")
    llm = traced.one("LLM")
    assert prompt.parent.span_id == llm.parent.span_id  # siblings, as in LangChain
    assert prompt.end_time <= llm.start_time
    p = prompt.attributes
    assert json.loads(p["ragtel.prompt.template"]) == [
        {"role": "system", "template": SYSTEM_TEMPLATE},
        {"role": "user", "template": HUMAN_TEMPLATE},
    ]
    variables = json.loads(p["llm.prompt_template.variables"])
    assert variables["question"] == QUESTION and ANSWER in variables["context"]
    assert tuple(p["ragtel.prompt.variable_names"]) == ("context", "question")
    assert p["output.value"].startswith("system: ") and "\nuser: " in p["output.value"]
    # The LLM span that the prompt fed carries its template too: Phoenix's Prompt Template.
    a = llm.attributes
    assert a["llm.prompt_template.template"] == p["llm.prompt_template.template"]
    assert a["llm.prompt_template.variables"] == p["llm.prompt_template.variables"]


def test_selector_template_records_the_chat_form_and_partials(
    handler: RagtelSpanHandler, traced: Traced
) -> None:
    completion = PromptTemplate("Completion form: {context_str} / {query_str} ({tone})")
    chat = ChatPromptTemplate(
        message_templates=[
            ChatMessage(role=MessageRole.SYSTEM, content="Be {tone}. Context: {context_str}"),
            ChatMessage(role=MessageRole.USER, content="{query_str}"),
        ]
    )
    selector = SelectorPromptTemplate(
        default_template=completion, conditionals=[(is_chat_model, chat)]
    ).partial_format(tone="brief")
    ExtractiveLLM().predict(selector, context_str="Invoices are PDFs.", query_str="Invoices?")
    p = traced.one("PROMPT").attributes
    assert json.loads(p["ragtel.prompt.template"]) == [
        {"role": "system", "template": "Be {tone}. Context: {context_str}"},
        {"role": "user", "template": "{query_str}"},
    ]
    variables = {k: v for k, v in p.items() if k.startswith("gen_ai.prompt.variable.")}
    assert variables == {
        "gen_ai.prompt.variable.tone": "brief",
        "gen_ai.prompt.variable.context_str": "Invoices are PDFs.",
        "gen_ai.prompt.variable.query_str": "Invoices?",
    }
    assert p["output.value"].startswith("system: Be brief. Context: Invoices are PDFs.")


# -- one generation, one LLM span -----------------------------------------------------------------


class _CompletionOnly(CustomLLM):
    """A CustomLLM implementing only complete/stream_complete, as most do."""

    raw: Any = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="completion-only")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text="fine", raw=self.raw, additional_kwargs=dict(self.extra))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        def gen() -> Iterator[CompletionResponse]:
            text = ""
            for piece in ("fi", "ne"):
                text += piece
                yield CompletionResponse(text=text, delta=piece)

        return gen()


async def test_wrapper_calls_make_one_llm_span_each(
    handler: RagtelSpanHandler, traced: Traced
) -> None:
    llm = _CompletionOnly()
    message = [ChatMessage(role=MessageRole.USER, content="How are you?")]
    llm.complete("How are you?")
    await llm.acomplete("How are you?")  # -> complete
    llm.chat(message)  # -> complete
    await llm.achat(message)  # -> chat -> complete
    "".join(r.delta or "" for r in llm.stream_complete("How are you?"))
    "".join(r.delta or "" for r in llm.stream_chat(message))  # -> stream_complete
    [r async for r in await llm.astream_complete("How are you?")]  # -> stream_complete (lazily)
    [r async for r in await llm.astream_chat(message)]  # -> stream_chat -> stream_complete
    await ExtractiveLLM().achat(message)  # the demo model: achat -> chat
    spans = traced.by_kind("LLM")
    assert len(spans) == 9 == len(traced.spans)
    assert len(traced.traces()) == 9
    ops = [s.attributes["gen_ai.operation.name"] for s in spans]
    assert ops == ["text_completion"] * 2 + ["chat"] * 2 + ["text_completion", "chat"] * 2 + [
        "chat"
    ]
    for span in spans[:4]:
        assert span.attributes["output.value"] == "fine"
    for span in spans[4:8]:
        assert span.attributes["output.value"] == "fine"
        assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    assert handler.open_steps == 0


@pytest.mark.parametrize(
    ("raw", "extra", "expected"),
    [
        (  # OpenAI-like response object
            SimpleNamespace(
                id="chatcmpl-1",
                model="gpt-x",
                usage=SimpleNamespace(prompt_tokens=11, completion_tokens=3, total_tokens=14),
                choices=[SimpleNamespace(finish_reason="stop")],
            ),
            {},
            (11, 3, 14, "stop", "gpt-x"),
        ),
        (  # Anthropic-like, as a dict
            {
                "model": "claude-x",
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 7, "output_tokens": 2},
            },
            {},
            (7, 2, 9, "end_turn", "claude-x"),
        ),
        (  # counts copied into additional_kwargs
            None,
            {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
            (5, 1, 6, None, None),
        ),
    ],
)
def test_token_usage_forms(
    handler: RagtelSpanHandler, traced: Traced, raw: Any, extra: dict[str, Any], expected: tuple
) -> None:
    _CompletionOnly(raw=raw, extra=extra).complete("How are you?")
    a = traced.one("LLM").attributes
    prompt, completion, total, finish, model = expected
    assert a["gen_ai.usage.input_tokens"] == a["llm.token_count.prompt"] == prompt
    assert a["gen_ai.usage.output_tokens"] == a["llm.token_count.completion"] == completion
    assert a["llm.token_count.total"] == total
    assert a.get("gen_ai.response.finish_reasons") == ((finish,) if finish else None)
    assert a.get("gen_ai.response.model") == model


def test_parameters_are_recorded_without_secrets(
    handler: RagtelSpanHandler, traced: Traced
) -> None:
    _CompletionOnly().complete("How are you?", max_tokens=20, api_key="sk-live-123")
    params = json.loads(traced.one("LLM").attributes["llm.invocation_parameters"])
    assert params == {"max_tokens": 20, "api_key": "[REDACTED]"}
    assert traced.one("LLM").attributes["gen_ai.request.max_tokens"] == 20


# -- retrieval at scale ---------------------------------------------------------------------------


class _ManyNodes(BaseRetriever):
    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count
        self.similarity_top_k = count

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [
            NodeWithScore(
                node=TextNode(
                    id_=f"d{i}",
                    text=f"document {i} " + "x" * 200,
                    metadata={"source": f"s{i}", "page": i},
                ),
                score=1.0 - i / 1000,
            )
            for i in range(self.count)
        ]


def test_top_k_100_is_capped_with_markers_and_nothing_evicted(
    handler: RagtelSpanHandler, traced: Traced
) -> None:
    nodes = _ManyNodes(100).retrieve("many")
    assert len(nodes) == 100
    span = traced.one("RETRIEVER")
    a = span.attributes
    assert span.dropped_attributes == 0
    assert a["input.value"] == "many" and a["openinference.span.kind"] == "RETRIEVER"
    assert a["gen_ai.retrieval.top_k"] == 100
    assert_capped_retrieval(a, total=100, cap=traced.config.max_documents)
    assert a["retrieval.documents.7.document.score"] == pytest.approx(0.993)


def test_vector_index_top_k_100(handler: RagtelSpanHandler, traced: Traced) -> None:
    documents = [(f"n{i}", f"note {i} about invoices and plans", {"i": i}) for i in range(120)]
    index = build_index(documents=documents)
    traced.exporter.clear()
    index.as_retriever(similarity_top_k=100).retrieve("invoices")
    span = traced.one("RETRIEVER")
    assert span.dropped_attributes == 0
    assert span.attributes["input.value"] == "invoices"
    assert span.attributes["ragtel.retrieval.documents.count"] == 100
    assert traced.one("EMBEDDING").parent.span_id == span.context.span_id


# -- index builds ----------------------------------------------------------------------------------


class _Monitor:
    def __init__(self) -> None:
        self.context: list[list[float]] = []

    def observe_context(self, vectors: list[list[float]], **labels: Any) -> None:
        self.context.extend(vectors)

    def observe_query(self, vector: list[float]) -> None:
        return None


def test_index_build_batches_lose_no_vector(traced: Traced) -> None:
    monitor = _Monitor()
    recorder = Recorder(traced.provider, traced.config, framework="llamaindex", monitor=monitor)
    handler = RagtelSpanHandler(recorder=recorder).attach()
    try:
        documents = [LIDocument(text=f"Note {i} about billing.", id_=f"n{i}") for i in range(45)]
        VectorStoreIndex.from_documents(documents, embed_model=HashEmbedding(embed_batch_size=40))
    finally:
        handler.detach()
    batch = traced.one("CHAIN")
    assert batch.name == "invoke_workflow index_documents" and batch.parent is None
    spans = traced.by_kind("EMBEDDING")
    requests = sorted(
        (s for s in spans if s.name != "embeddings (continued)"), key=lambda s: s.start_time
    )
    assert [s.attributes["ragtel.embedding.count"] for s in requests] == [40, 5]
    for span in requests:
        assert span.parent.span_id == batch.context.span_id
        assert span.attributes["ragtel.embedding.role"] == "document"
        assert span.dropped_attributes == 0
    big, small = requests
    cap = traced.config.max_vectors
    # The request over the cap goes on in child spans: the knowledge base is recorded whole.
    (part,) = [s for s in spans if s.parent.span_id == big.context.span_id]
    assert part.attributes["ragtel.embedding.offset"] == cap
    assert big.attributes["ragtel.embedding.parts"] == 1
    assert f"embedding.embeddings.{cap - 1}.embedding.vector" in big.attributes
    assert f"embedding.embeddings.{39 - cap}.embedding.vector" in part.attributes
    last_text = part.attributes[f"embedding.embeddings.{39 - cap}.embedding.text"]
    assert last_text == "Note 39 about billing."
    assert "ragtel.embedding.truncated" not in big.attributes
    assert "ragtel.embedding.truncated" not in small.attributes
    assert small.attributes["embedding.embeddings.4.embedding.text"] == "Note 44 about billing."
    assert ragtel.stats().get("vectors_not_recorded", 0) == 0
    assert len(monitor.context) == 45  # the monitor sees every vector


def test_default_batches_record_every_vector(handler: RagtelSpanHandler, traced: Traced) -> None:
    build_index()  # 14 documents, LlamaIndex's default batches of 10
    spans = traced.by_kind("EMBEDDING")
    assert sorted(s.attributes["ragtel.embedding.count"] for s in spans) == [4, 10]
    assert all("ragtel.embedding.truncated" not in s.attributes for s in spans)
    assert_well_formed(traced.spans)


# -- streaming -------------------------------------------------------------------------------------


@pytest.fixture
def streaming_engine(handler: RagtelSpanHandler, traced: Traced) -> Any:
    engine = build_query_engine(streaming=True)
    traced.exporter.clear()
    return engine


def test_streaming_query_spans_end_with_the_stream(
    streaming_engine: Any, traced: Traced, handler: RagtelSpanHandler
) -> None:
    response = streaming_engine.query(QUESTION)
    assert {s.name for s in traced.spans} == {
        "retrieval SimpleVectorStore",
        "embeddings ragtel-hash-256",
    }  # the query and synthesizer wait for the stream
    assert trace.get_current_span() is trace.INVALID_SPAN
    assert "".join(response.response_gen) == ANSWER
    _check_traces(traced, 1)
    llm = traced.one("LLM").attributes
    assert llm["output.value"] == ANSWER
    assert llm["gen_ai.response.time_to_first_chunk"] >= 0
    query = next(s for s in traced.spans if s.name == QUERY_ROOT)
    assert query.attributes["output.value"] == ANSWER
    assert query.end_time >= traced.one("LLM").end_time
    assert handler.open_steps == 0


async def test_async_streaming_query(
    streaming_engine: Any, traced: Traced, handler: RagtelSpanHandler
) -> None:
    response = await streaming_engine.aquery(QUESTION)
    assert "".join([t async for t in response.async_response_gen()]) == ANSWER
    _check_traces(traced, 1, EXPECTED_ASYNC_TREE)
    assert handler.open_steps == 0


def test_streaming_queries_from_threads(
    streaming_engine: Any, traced: Traced, handler: RagtelSpanHandler
) -> None:
    def ask(i: int) -> str:
        return "".join(streaming_engine.query(f"{QUESTION} ({i})").response_gen)

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert len(list(pool.map(ask, range(8)))) == 8
    _check_traces(traced, 8)
    assert handler.open_steps == 0


def test_stream_closed_early_ends_its_spans(
    streaming_engine: Any, traced: Traced, handler: RagtelSpanHandler
) -> None:
    response = streaming_engine.query(QUESTION)
    tokens = response.response_gen
    first = [next(tokens), next(tokens)]
    del tokens, response
    gc.collect()
    _check_traces(traced, 1)
    llm = traced.one("LLM").attributes
    assert llm["output.value"] == "".join(first)
    assert llm["ragtel.llm.stream.abandoned"] in ("closed", "collected")
    assert all(s.status.status_code != trace.StatusCode.ERROR for s in traced.spans)
    assert handler.open_steps == 0


def test_stream_never_consumed_ends_when_collected(
    streaming_engine: Any, traced: Traced, handler: RagtelSpanHandler
) -> None:
    response = streaming_engine.query(QUESTION)
    del response
    gc.collect()
    spans = traced.spans
    assert sorted(tree(spans)) == sorted(
        line for line in EXPECTED_TREE if "Template" not in line and "chat" not in line
    )
    assert_well_formed(spans)
    assert handler.open_steps == 0


def test_stream_left_open_ends_after_the_timeout(traced: Traced) -> None:
    handler = RagtelSpanHandler(traced.provider, traced.config, stream_timeout=0.2).attach()
    try:
        engine = build_query_engine(streaming=True)
        traced.exporter.clear()
        response = engine.query(QUESTION)
        deadline = time.monotonic() + 5
        while len(traced.spans) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        query = next(s for s in traced.spans if s.name == QUERY_ROOT)
        assert query.status.status_code == trace.StatusCode.ERROR
        assert StreamTimeout.__name__ in query.status.description
        assert handler.open_steps == 0
        # consumed late: the generation is still recorded, in the same trace
        assert "".join(response.response_gen) == ANSWER
        assert traced.one("LLM").context.trace_id == query.context.trace_id
    finally:
        handler.detach()
    assert handler.open_steps == 0


# -- content capture off ---------------------------------------------------------------------------


def test_capture_off_keeps_texts_out_of_the_exported_bytes() -> None:
    traced = Traced(TraceConfig(monitor=False, capture_content=False))
    handler = RagtelSpanHandler(traced.provider, traced.config).attach()
    try:
        engine = build_query_engine()
        for question in QUESTIONS:
            engine.query(question)
        streaming = build_query_engine(streaming=True)
        "".join(streaming.query(QUESTION).response_gen)
    finally:
        handler.detach()
    payload = encode_spans(traced.spans).SerializeToString()
    assert b"ragtel.content.captured" in payload
    texts = [*QUESTIONS, *(text for _, text, _ in DOCUMENTS), SYSTEM_TEMPLATE[:40]]
    for text in texts:
        assert text.encode() not in payload, text
    for word in (b"Invoices are issued", b"billing.md", b"Acme Cloud support"):
        assert word not in payload
    assert traced.by_kind("LLM") and traced.by_kind("EMBEDDING")


# -- the same pipeline reads alike in both frameworks ----------------------------------------------

# Keys only one framework can give, per span kind. LangChain's InMemoryVectorStore retriever drops
# scores and reports its k only under ragtel.instrument(); LlamaIndex's NodeWithScore carries
# both. LangChain tags retriever runs with the store's and the embeddings' class names, and puts
# its own version into run metadata.
FRAMEWORK_ONLY = {
    "llamaindex": {
        "RETRIEVER": {"retrieval.documents.*.document.score", "gen_ai.retrieval.top_k"},
    },
    "langchain": {
        "RETRIEVER": {"tag.tags"},
    },
}
COMPARED_KINDS = ("RETRIEVER", "EMBEDDING", "PROMPT", "LLM")


def _keys_by_kind(spans: Sequence[Any]) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for span in spans:
        kind = span.attributes.get("openinference.span.kind")
        keys.setdefault(kind, set()).update(re.sub(r"\.\d+\.", ".*.", k) for k in span.attributes)
    return keys


def _names_by_kind(spans: Sequence[Any]) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for span in spans:
        kind = span.attributes.get("openinference.span.kind")
        names.setdefault(kind, set()).add(span.name.split(" ")[0])
    return names


def test_langchain_and_llamaindex_demos_record_the_same_keys() -> None:
    lc = Traced()
    callbacks = {"callbacks": [RagtelCallbackHandler(lc.provider, lc.config)]}
    chain = build_chain(
        embeddings=TracedEmbeddings(HashEmbeddings(), tracer_provider=lc.provider, config=lc.config)
    )
    lc.exporter.clear()
    li = Traced()
    handler = RagtelSpanHandler(li.provider, li.config).attach()
    try:
        engine = build_query_engine()
        li.exporter.clear()
        for question in QUESTIONS:
            assert chain.invoke(question, config=callbacks) == str(engine.query(question))
    finally:
        handler.detach()
    lc_keys, li_keys = _keys_by_kind(lc.spans), _keys_by_kind(li.spans)
    lc_names, li_names = _names_by_kind(lc.spans), _names_by_kind(li.spans)
    for kind in COMPARED_KINDS:
        assert kind in lc_keys and kind in li_keys, kind
        only_li = li_keys[kind] - lc_keys[kind]
        only_lc = lc_keys[kind] - li_keys[kind]
        assert only_li <= FRAMEWORK_ONLY["llamaindex"].get(kind, set()), (kind, only_li)
        assert only_lc <= FRAMEWORK_ONLY["langchain"].get(kind, set()), (kind, only_lc)
        if kind != "PROMPT":  # the prompt span is named after the template class in both
            assert lc_names[kind] == li_names[kind], kind
    for spans in (lc.spans, li.spans):
        assert {s.kind for s in spans if s.attributes["openinference.span.kind"] == "LLM"} == {
            trace.SpanKind.CLIENT
        }
    # The same similarity, recorded as each store gives it, to the last bits of a double (the two
    # stores' arithmetic differs there), not rounded by either.
    for lc_span, li_span in zip(lc.by_kind("RETRIEVER"), li.by_kind("RETRIEVER"), strict=True):
        for n in range(3):
            key = f"retrieval.documents.{n}.document.score"
            assert lc_span.attributes[key] == pytest.approx(li_span.attributes[key], rel=1e-12)


# -- context, errors, tools, lifecycle -------------------------------------------------------------


class _SearchingRetriever(BaseRetriever):
    def __init__(self, tracer: trace.Tracer, fail: bool = False) -> None:
        super().__init__()
        self._tracer = tracer
        self._fail = fail

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        with self._tracer.start_as_current_span("GET /search"):
            if self._fail:
                raise KeyError("index offline")
            return [NodeWithScore(node=TextNode(id_="a", text="found"), score=0.5)]


def test_foreign_spans_nest_under_the_step_and_nothing_stays_current(
    handler: RagtelSpanHandler, traced: Traced
) -> None:
    tracer = traced.provider.get_tracer("http-client")
    with tracer.start_as_current_span("request") as outer:
        _SearchingRetriever(tracer).retrieve("q")
        assert trace.get_current_span() is outer
    by_name = {s.name: s for s in traced.spans}
    retrieval = traced.one("RETRIEVER")
    assert by_name["GET /search"].parent.span_id == retrieval.context.span_id
    assert retrieval.parent.span_id == by_name["request"].context.span_id
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_foreign_spans_nest_under_the_step_in_async(
    handler: RagtelSpanHandler, traced: Traced
) -> None:
    tracer = traced.provider.get_tracer("http-client")
    await asyncio.gather(*(_SearchingRetriever(tracer).aretrieve(f"q{i}") for i in range(4)))
    retrievals = {s.context.span_id for s in traced.by_kind("RETRIEVER")}
    searches = [s for s in traced.spans if s.name == "GET /search"]
    assert len(searches) == 4 and {s.parent.span_id for s in searches} == retrievals
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_errors_mark_the_spans_and_propagate_unchanged(
    handler: RagtelSpanHandler, traced: Traced
) -> None:
    from llama_index.core.query_engine import RetrieverQueryEngine

    engine = RetrieverQueryEngine.from_args(
        _SearchingRetriever(traced.provider.get_tracer("t"), fail=True), llm=ExtractiveLLM()
    )
    with pytest.raises(KeyError, match="index offline"):
        engine.query("q")
    failed = [s for s in traced.spans if s.status.status_code == trace.StatusCode.ERROR]
    assert {s.name for s in failed} >= {
        "invoke_workflow RetrieverQueryEngine.query",
        "retrieval",  # a retriever of no known store: the operation alone, as the registry says
    }
    assert all(any(e.name == "exception" for e in s.events) for s in failed)
    assert handler.open_steps == 0
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_tool_call_is_one_tool_span(handler: RagtelSpanHandler, traced: Traced) -> None:
    def lookup_invoice(number: int) -> str:
        """Find an invoice by number."""
        return f"invoice {number}: paid"

    tool = FunctionTool.from_defaults(fn=lookup_invoice)
    assert tool(number=7).content == "invoice 7: paid"
    span = traced.one("TOOL")
    assert span.name == "execute_tool lookup_invoice"
    assert span.attributes["gen_ai.tool.call.result"] == "invoice 7: paid"
    assert "7" in span.attributes["gen_ai.tool.call.arguments"]


@needs_patchable_internals
def test_a_failing_recorder_never_reaches_the_application(traced: Traced) -> None:
    class Broken(Recorder):
        def start_chain(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("recorder bug")

    handler = RagtelSpanHandler(recorder=Broken(traced.provider, traced.config)).attach()
    try:
        engine = build_query_engine()
        assert str(engine.query(QUESTION)) == ANSWER
        assert ragtel.stats()["internal_errors"] >= 1
    finally:
        handler.detach()
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_instrument_and_uninstrument_leave_no_handler_behind(traced: Traced) -> None:
    root = get_dispatcher()
    before = (list(root.span_handlers), list(root.event_handlers))
    handle = instrument_llamaindex(traced.provider, traced.config)
    assert instrument_llamaindex(traced.provider, traced.config) is handle  # idempotent
    assert handle in root.span_handlers and handle.event_handler in root.event_handlers
    build_query_engine().query(QUESTION)
    assert any(s.name == QUERY_ROOT for s in traced.spans)
    uninstrument_llamaindex(handle)
    uninstrument_llamaindex(handle)  # idempotent
    assert (list(root.span_handlers), list(root.event_handlers)) == before
    count = len(traced.spans)
    build_query_engine().query(QUESTION)
    assert len(traced.spans) == count


def test_ragtel_instrument_covers_llamaindex(traced: Traced) -> None:
    root = get_dispatcher()
    before = (list(root.span_handlers), list(root.event_handlers))
    ragtel.instrument(traced.provider, traced.config)
    try:
        assert _ragtel_handlers()
        build_query_engine().query(QUESTION)
    finally:
        ragtel.uninstrument()
    assert (list(root.span_handlers), list(root.event_handlers)) == before
    assert any(s.name == QUERY_ROOT for s in traced.spans)


CHAT_TREE = [
    "invoke_workflow ContextChatEngine.{method}",
    "  retrieval SimpleVectorStore",
    "    embeddings ragtel-hash-256",
    "  CompactAndRefine.{synthesize}",
    "    ChatPromptTemplate",
    "    chat ragtel-extractive-1",
]


def _chat_engine(traced: Traced) -> Any:
    engine = build_index().as_chat_engine(
        chat_mode="context", llm=ExtractiveLLM(), similarity_top_k=2
    )
    traced.exporter.clear()
    return engine


def _wait_for_spans(traced: Traced, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(traced.spans) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_streaming_chat_engine(handler: RagtelSpanHandler, traced: Traced) -> None:
    engine = _chat_engine(traced)
    assert "".join(engine.stream_chat(QUESTION).response_gen) == ANSWER
    _wait_for_spans(traced, len(CHAT_TREE))  # the engine writes its history from a thread
    expected = [line.format(method="stream_chat", synthesize="synthesize") for line in CHAT_TREE]
    _check_traces(traced, 1, expected)
    assert handler.open_steps == 0


async def test_async_streaming_chat_engine(handler: RagtelSpanHandler, traced: Traced) -> None:
    engine = _chat_engine(traced)
    response = await engine.astream_chat(QUESTION)
    assert "".join([t async for t in response.async_response_gen()]) == ANSWER
    for _ in range(100):
        if len(traced.spans) >= len(CHAT_TREE):
            break
        await asyncio.sleep(0.01)
    expected = [line.format(method="astream_chat", synthesize="asynthesize") for line in CHAT_TREE]
    _check_traces(traced, 1, expected)
    assert handler.open_steps == 0


async def test_concurrent_async_streams(
    streaming_engine: Any, traced: Traced, handler: RagtelSpanHandler
) -> None:
    async def ask() -> str:
        response = await streaming_engine.aquery(QUESTION)
        return "".join([t async for t in response.async_response_gen()])

    answers = await asyncio.gather(*(ask() for _ in range(8)))
    assert answers == [ANSWER] * 8
    _check_traces(traced, 8, EXPECTED_ASYNC_TREE)
    assert handler.open_steps == 0


class _TracedClientLLM(_CompletionOnly):
    """A model whose client is instrumented by someone else (an HTTP client span per call)."""

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        with trace.get_tracer("http-client").start_as_current_span("POST /v1/completions"):
            return CompletionResponse(text="fine")


class _TracedClientEmbedding(HashEmbedding):
    def _get_query_embedding(self, query: str) -> list[float]:
        with trace.get_tracer("http-client").start_as_current_span("POST /v1/embeddings"):
            return super()._get_query_embedding(query)


def test_model_client_spans_nest_under_generation_and_embedding(
    handler: RagtelSpanHandler, traced: Traced, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace, "get_tracer", traced.provider.get_tracer)
    asyncio.run(_TracedClientLLM().achat([ChatMessage(role=MessageRole.USER, content="hi")]))
    _TracedClientEmbedding().get_query_embedding("hi")
    by_name = {s.name: s for s in traced.spans}
    llm, embedding = traced.one("LLM"), traced.one("EMBEDDING")
    assert by_name["POST /v1/completions"].parent.span_id == llm.context.span_id
    assert by_name["POST /v1/embeddings"].parent.span_id == embedding.context.span_id
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_session_and_instrument_tags_reach_every_span(engine: Any, traced: Traced) -> None:
    from llama_index.core.instrumentation.dispatcher import instrument_tags

    with ragtel.session(session_id="conv-7"), instrument_tags({"user_id": "u-1", "tenant": "acme"}):
        engine.query(QUESTION)
    for span in traced.spans:
        assert span.attributes["session.id"] == "conv-7", span.name
    query = next(s for s in traced.spans if s.name == QUERY_ROOT)
    assert query.attributes["user.id"] == "u-1"
    assert json.loads(query.attributes["metadata"])["tenant"] == "acme"


def test_every_hook_swallows_an_internal_error(
    traced: Traced, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hooks guard their bodies by hand (a decorator costs a frame per event): a tracker
    # that fails on every call shows none was left out.
    from ragtel.integrations.llamaindex.handlers import RagtelEventHandler, RagtelSpanHandler
    from ragtel.integrations.llamaindex.tracker import _Tracker

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("tracker bug")

    handler = RagtelSpanHandler(traced.provider, traced.config)
    events = RagtelEventHandler(handler._tracker)
    for name in ("enter", "exit", "drop", "event", "close"):
        monkeypatch.setattr(_Tracker, name, broken)
    calls = [
        lambda: handler.span_enter("s-1", None, None, None, None),
        lambda: handler.span_exit("s-1", None, None, None),
        lambda: handler.span_drop("s-1", None, None, RuntimeError("user error")),
        lambda: events.handle(SimpleNamespace()),
        handler.close,
    ]
    for call in calls:
        before = ragtel.stats().get("internal_errors", 0)
        assert call() is None
        assert ragtel.stats().get("internal_errors", 0) == before + 1
