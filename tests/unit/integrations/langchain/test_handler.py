from __future__ import annotations

import asyncio
import gc
import json

import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.vectorstores import InMemoryVectorStore
from opentelemetry import trace

from ragtel.config import TraceConfig
from ragtel.demo.langchain_app import HUMAN_TEMPLATE, SYSTEM_TEMPLATE, build_chain
from ragtel.demo.local_models import HashEmbeddings
from ragtel.langchain import RagtelCallbackHandler, TracedEmbeddings
from tests.conftest import needs_patchable_internals
from tests.unit.conftest import Traced, assert_capped_retrieval, assert_well_formed, tree

EXPECTED_TREE = [
    "invoke_workflow RunnableSequence",
    "  RunnableParallel<context,question>",
    "    RunnableSequence",
    "      retrieval InMemoryVectorStore",
    "        embeddings ragtel-hash-256",
    "      format_documents",
    "    RunnablePassthrough",
    "  ChatPromptTemplate",
    "  chat ragtel-extractive-1",
    "  StrOutputParser",
]


def _chain_and_handler(traced: Traced):
    handler = RagtelCallbackHandler(traced.provider, traced.config)
    embeddings = TracedEmbeddings(
        HashEmbeddings(), tracer_provider=traced.provider, config=traced.config
    )
    chain = build_chain(embeddings=embeddings)
    traced.exporter.clear()  # the index build's document embeddings
    return chain, handler


def _check_traces(traced: Traced, expected_count: int) -> None:
    traces = traced.traces()
    assert len(traces) == expected_count
    for spans in traces.values():
        assert_well_formed(spans)
        # siblings of the parallel step may start in either order
        assert sorted(tree(spans)) == sorted(EXPECTED_TREE), tree(spans)


def test_invoke_span_tree(traced: Traced) -> None:
    chain, handler = _chain_and_handler(traced)
    answer = chain.invoke("How do I download my invoice?", config={"callbacks": [handler]})
    assert answer.startswith("Invoices are issued")
    _check_traces(traced, 1)
    assert handler.open_runs == 0


def test_stream_span_tree(traced: Traced) -> None:
    chain, handler = _chain_and_handler(traced)
    chunks = list(chain.stream("Is my data encrypted at rest?", config={"callbacks": [handler]}))
    assert "".join(chunks).startswith("All data is encrypted")
    _check_traces(traced, 1)
    llm = traced.one("LLM")
    assert llm.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    assert trace.get_current_span() is trace.INVALID_SPAN
    assert handler.open_runs == 0


def test_batch_span_trees(traced: Traced) -> None:
    chain, handler = _chain_and_handler(traced)
    questions = [f"How do I download invoice number {i}?" for i in range(32)]
    answers = chain.batch(questions, config={"callbacks": [handler], "max_concurrency": 8})
    assert len(answers) == 32
    _check_traces(traced, 32)
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_ainvoke_abatch_astream(traced: Traced) -> None:
    chain, handler = _chain_and_handler(traced)
    config = {"callbacks": [handler]}
    await chain.ainvoke("How can I reach support?", config=config)
    assert trace.get_current_span() is trace.INVALID_SPAN
    questions = [f"How can I reach support about ticket {i}?" for i in range(32)]
    await chain.abatch(questions, config={**config, "max_concurrency": 8})
    assert trace.get_current_span() is trace.INVALID_SPAN
    chunks = [c async for c in chain.astream("Is my data encrypted?", config=config)]
    assert chunks
    assert trace.get_current_span() is trace.INVALID_SPAN
    _check_traces(traced, 34)
    assert handler.open_runs == 0


async def test_concurrent_ainvoke_gather(traced: Traced) -> None:
    chain, handler = _chain_and_handler(traced)
    await asyncio.gather(
        *(
            chain.ainvoke(f"What is the largest object {i}?", config={"callbacks": [handler]})
            for i in range(16)
        )
    )
    _check_traces(traced, 16)


def test_retrieval_and_generation_attributes(traced: Traced) -> None:
    chain, handler = _chain_and_handler(traced)
    chain.invoke("How do I download my invoice?", config={"callbacks": [handler]})
    retriever = traced.one("RETRIEVER")
    attrs = retriever.attributes
    assert attrs["input.value"] == "How do I download my invoice?"
    assert attrs["gen_ai.retrieval.query.text"] == "How do I download my invoice?"
    ids = [attrs[f"retrieval.documents.{i}.document.id"] for i in range(3)]
    assert "billing-1" in ids
    i = ids.index("billing-1")
    assert attrs[f"retrieval.documents.{i}.document.content"].startswith("Invoices are issued")
    assert json.loads(attrs[f"retrieval.documents.{i}.document.metadata"])["topic"] == "billing"
    assert attrs["ragtel.retrieval.documents.count"] == 3
    docs = json.loads(attrs["gen_ai.retrieval.documents"])
    assert [d["id"] for d in docs] == ids
    # The score is the document's (as LlamaIndex gives it), not repeated in its metadata; the
    # documents are the output, with no output.value or a mime type for one.
    assert isinstance(attrs[f"retrieval.documents.{i}.document.score"], float)
    assert "score" not in json.loads(attrs[f"retrieval.documents.{i}.document.metadata"])
    assert "output.value" not in attrs and "output.mime_type" not in attrs

    llm = traced.one("LLM")
    a = llm.attributes
    assert a["llm.model_name"] == a["gen_ai.request.model"] == "ragtel-extractive-1"
    assert a["gen_ai.provider.name"] == "ragtel"
    assert a["llm.input_messages.0.message.role"] == "system"
    assert "Invoices are issued" in a["llm.input_messages.0.message.content"]
    assert a["llm.input_messages.1.message.content"] == "How do I download my invoice?"
    assert a["llm.output_messages.0.message.role"] == "assistant"
    assert a["output.value"].startswith("Invoices are issued")
    assert a["llm.token_count.prompt"] == a["gen_ai.usage.input_tokens"] > 0
    assert a["llm.token_count.completion"] == a["gen_ai.usage.output_tokens"] > 0
    assert (
        a["llm.token_count.total"] == a["llm.token_count.prompt"] + a["llm.token_count.completion"]
    )
    assert tuple(a["gen_ai.response.finish_reasons"]) == ("stop",)
    out = json.loads(a["gen_ai.output.messages"])
    assert out[0]["role"] == "assistant" and out[0]["finish_reason"] == "stop"
    assert json.loads(a["llm.invocation_parameters"])["temperature"] == 0.0


def test_prompt_records_every_template_and_variables(traced: Traced) -> None:
    chain, handler = _chain_and_handler(traced)
    chain.invoke("How do I download my invoice?", config={"callbacks": [handler]})
    prompt = traced.one("PROMPT").attributes
    assert SYSTEM_TEMPLATE in prompt["llm.prompt_template.template"]
    assert HUMAN_TEMPLATE in prompt["llm.prompt_template.template"]
    templates = json.loads(prompt["ragtel.prompt.template"])
    assert templates == [
        {"role": "system", "template": SYSTEM_TEMPLATE},
        {"role": "user", "template": HUMAN_TEMPLATE},
    ]
    variables = json.loads(prompt["llm.prompt_template.variables"])
    assert variables["question"] == "How do I download my invoice?"
    assert "Invoices are issued" in variables["context"]
    assert tuple(prompt["ragtel.prompt.variable_names"]) == ("context", "question")
    assert prompt["gen_ai.prompt.variable.question"] == "How do I download my invoice?"
    assert "Invoices are issued" in prompt["gen_ai.prompt.variable.context"]
    rendered = prompt["output.value"]
    assert rendered.startswith("system: You are the Acme Cloud") and "\nuser: How do I" in rendered


def test_llm_span_carries_the_template_of_the_prompt_that_fed_it(traced: Traced) -> None:
    """Phoenix builds its Prompt Template section from llm.prompt_template.* on the LLM span."""
    chain, handler = _chain_and_handler(traced)
    config = {"callbacks": [handler], "metadata": {"prompt_version": "support-v3"}}
    chain.invoke("How do I download my invoice?", config=config)
    prompt = traced.one("PROMPT").attributes
    llm = traced.one("LLM").attributes
    assert llm["llm.prompt_template.template"] == prompt["llm.prompt_template.template"]
    assert SYSTEM_TEMPLATE in llm["llm.prompt_template.template"]
    variables = json.loads(llm["llm.prompt_template.variables"])
    assert variables["question"] == "How do I download my invoice?"
    assert llm["llm.prompt_template.version"] == "support-v3"


async def test_each_llm_span_gets_the_template_of_its_own_run(traced: Traced) -> None:
    chain, handler = _chain_and_handler(traced)
    questions = ["How do I download my invoice?", "Is my data encrypted?", "How do I get help?"]
    await chain.abatch(questions, config={"callbacks": [handler]})
    llms = traced.by_kind("LLM")
    assert len(llms) == len(questions)
    for llm in llms:
        a = llm.attributes
        asked = a["llm.input_messages.1.message.content"]
        assert json.loads(a["llm.prompt_template.variables"])["question"] == asked
        assert "llm.prompt_template.version" not in a


def test_a_model_called_without_a_prompt_step_has_no_template(traced: Traced) -> None:
    handler = RagtelCallbackHandler(traced.provider, traced.config)
    model = FakeListChatModel(responses=["hi"])
    (model | RunnableLambda(lambda m: m.content)).invoke("hello", config={"callbacks": [handler]})
    assert not any(k.startswith("llm.prompt_template") for k in traced.one("LLM").attributes)


def test_embedding_span_under_retriever_with_vectors(traced: Traced) -> None:
    chain, handler = _chain_and_handler(traced)
    chain.invoke("How do I download my invoice?", config={"callbacks": [handler]})
    retriever = traced.one("RETRIEVER")
    embedding = traced.one("EMBEDDING")
    assert embedding.parent.span_id == retriever.context.span_id
    vector = embedding.attributes["embedding.embeddings.0.embedding.vector"]
    assert len(vector) == 256 and all(isinstance(v, float) for v in vector)
    assert vector == tuple(HashEmbeddings().embed_query("How do I download my invoice?"))
    assert embedding.attributes["gen_ai.embeddings.dimension.count"] == 256
    assert embedding.attributes["ragtel.embedding.role"] == "query"


def test_error_marks_span_and_result_propagates(traced: Traced) -> None:
    handler = RagtelCallbackHandler(traced.provider, traced.config)

    def boom(_: str) -> str:
        raise KeyError("missing")

    chain = RunnableLambda(boom) | RunnableLambda(lambda x: x)
    with pytest.raises(KeyError):
        chain.invoke("x", config={"callbacks": [handler]})
    spans = traced.spans
    failed = [s for s in spans if s.status.status_code == trace.StatusCode.ERROR]
    assert {s.name for s in failed} == {"boom", "invoke_workflow RunnableSequence"}
    assert all(any(e.name == "exception" for e in s.events) for s in failed)
    assert {s.attributes["error.type"] for s in failed} == {"KeyError"}
    assert not [s for s in spans if s not in failed and "error.type" in s.attributes]
    assert handler.open_runs == 0


class _ManyDocs(BaseRetriever):
    count: int = 100

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(
                page_content=f"document {i} " + "x" * 200,
                id=f"d{i}",
                metadata={"score": 1.0 - i / 1000, "source": f"s{i}", "page": i},
            )
            for i in range(self.count)
        ]


def test_large_retrieval_is_capped_with_markers_and_nothing_evicted(traced: Traced) -> None:
    handler = RagtelCallbackHandler(traced.provider, traced.config)
    _ManyDocs().invoke("many", config={"callbacks": [handler]})
    span = traced.one("RETRIEVER")
    a = span.attributes
    assert span.dropped_attributes == 0
    assert a["input.value"] == "many" and a["openinference.span.kind"] == "RETRIEVER"
    assert_capped_retrieval(a, total=100, cap=traced.config.max_documents)
    assert a["retrieval.documents.7.document.score"] == pytest.approx(0.993)


def test_user_provider_with_default_limits_loses_nothing_silently() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()  # SDK defaults: 128 attributes per span
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    handler = RagtelCallbackHandler(provider)
    _ManyDocs().invoke("many", config={"callbacks": [handler]})
    (span,) = exporter.get_finished_spans()
    assert span.dropped_attributes == 0
    assert span.attributes["input.value"] == "many"
    assert span.attributes["ragtel.retrieval.documents.truncated"] is True
    assert 20 <= span.attributes["ragtel.retrieval.documents.recorded"] < 50


def test_nested_foreign_spans_nest_under_step_in_sync(traced: Traced) -> None:
    handler = RagtelCallbackHandler(traced.provider, traced.config)
    tracer = traced.provider.get_tracer("http-client")

    def fetch(query: str) -> str:
        with tracer.start_as_current_span("GET /search"):
            return query

    chain = RunnableLambda(lambda x: x) | RunnableLambda(fetch)
    chain.invoke("q", config={"callbacks": [handler]})
    by_name = {s.name: s for s in traced.spans}
    assert by_name["GET /search"].parent.span_id == by_name["fetch"].context.span_id
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_chat_model_usage_from_llm_output(traced: Traced) -> None:
    handler = RagtelCallbackHandler(traced.provider, traced.config)
    model = FakeListChatModel(responses=["ok"])
    prompt = ChatPromptTemplate.from_messages([("system", "Be {tone}."), ("human", "{q}")])
    (prompt | model).invoke({"tone": "brief", "q": "hi"}, config={"callbacks": [handler]})
    llm = traced.one("LLM").attributes
    assert llm["llm.input_messages.0.message.content"] == "Be brief."
    assert llm["llm.output_messages.0.message.content"] == "ok"


def test_tool_span(traced: Traced) -> None:
    from langchain_core.tools import tool

    @tool
    def lookup_plan(customer: str) -> str:
        """Find the plan a customer is on."""
        return f"{customer} is on Business"

    handler = RagtelCallbackHandler(traced.provider, traced.config)
    assert lookup_plan.invoke({"customer": "acme"}, config={"callbacks": [handler]}) == (
        "acme is on Business"
    )
    span = traced.one("TOOL")
    a = span.attributes
    assert span.name == "execute_tool lookup_plan"
    assert a["tool.name"] == a["gen_ai.tool.name"] == "lookup_plan"
    assert a["gen_ai.tool.description"] == "Find the plan a customer is on."
    assert json.loads(a["input.value"]) == {"customer": "acme"}
    assert a["output.value"] == a["gen_ai.tool.call.result"] == "acme is on Business"


def test_completion_model_span(traced: Traced) -> None:
    from langchain_core.language_models.fake import FakeListLLM

    handler = RagtelCallbackHandler(traced.provider, traced.config)
    FakeListLLM(responses=["forty-two"]).invoke("The answer?", config={"callbacks": [handler]})
    llm = traced.one("LLM")
    a = llm.attributes
    assert a["gen_ai.operation.name"] == "text_completion"
    assert a["llm.input_messages.0.message.content"] == "The answer?"
    assert a["llm.output_messages.0.message.content"] == "forty-two"


@needs_patchable_internals
def test_an_internal_error_never_reaches_the_pipeline(
    traced: Traced, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import ragtel
    from ragtel.recording import Recorder

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("recorder bug")

    chain, handler = _chain_and_handler(traced)
    expected = chain.invoke("How do I download my invoice?")
    before = ragtel.stats().get("internal_errors", 0)
    monkeypatch.setattr(Recorder, "start_chain", broken)
    with caplog.at_level("WARNING", logger="ragtel"):
        for _ in range(3):
            answer = chain.invoke("How do I download my invoice?", config={"callbacks": [handler]})
            assert answer == expected
    assert ragtel.stats()["internal_errors"] > before
    logged = [r for r in caplog.records if "internal error" in r.getMessage()]
    assert len(logged) == 1  # once per place, then only counted
    assert handler.open_runs == 0


def test_no_state_left_behind_after_streams_and_batches(traced: Traced) -> None:
    chain, handler = _chain_and_handler(traced)
    config = {"callbacks": [handler], "max_concurrency": 4}
    chain.batch([f"How do I reach support {i}?" for i in range(8)], config=config)
    for _ in range(3):
        list(chain.stream("Is my data encrypted at rest?", config={"callbacks": [handler]}))
    partial = chain.stream("Is my data encrypted at rest?", config={"callbacks": [handler]})
    next(iter(partial))
    partial.close()  # abandoned by the consumer
    del partial
    gc.collect()
    assert handler.open_runs == 0
    assert len(handler._attachments._attached) == 0  # bookkeeping does not grow with traffic
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_each_value_is_recorded_once(traced: Traced) -> None:
    """Composition steps (inner sequences, parallel maps, passthroughs) carry no input or output
    of their own: those are their children's, recorded on the children's spans."""
    chain, handler = _chain_and_handler(traced)
    question = "How do I download my invoice?"
    answer = chain.invoke(question, config={"callbacks": [handler]})
    spans = {(s.name, s.parent is None): s for s in traced.spans}
    root = spans[("invoke_workflow RunnableSequence", True)].attributes
    assert root["input.value"] == question and root["output.value"] == answer
    # GenAI's own view of the run: the question and the answer as the workflow's messages.
    (asked,) = json.loads(root["gen_ai.input.messages"])
    assert asked == {"role": "user", "parts": [{"type": "text", "content": question}]}
    (answered,) = json.loads(root["gen_ai.output.messages"])
    assert answered["parts"] == [{"type": "text", "content": answer}]
    for name in ("RunnableSequence", "RunnableParallel<context,question>", "RunnablePassthrough"):
        attrs = spans[(name, False)].attributes
        assert "input.value" not in attrs and "output.value" not in attrs, name
    lambda_step = spans[("format_documents", False)].attributes
    assert "Invoices are issued" in lambda_step["output.value"]
    assert json.loads(lambda_step["input.value"])[0]["page_content"]


class _FailingEmbeddings(HashEmbeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise ConnectionError("embedding service down")


def test_documents_embedded_outside_any_run_are_an_index_build(traced: Traced) -> None:
    """The root says what the trace is, in a backend's list of traces: an index build."""
    embeddings = TracedEmbeddings(
        HashEmbeddings(), tracer_provider=traced.provider, config=traced.config
    )
    InMemoryVectorStore.from_texts(["Invoices are monthly.", "Data is encrypted."], embeddings)
    root = traced.one("CHAIN")
    assert root.name == "invoke_workflow index_documents" and root.parent is None
    embedding = traced.one("EMBEDDING")
    assert embedding.parent.span_id == root.context.span_id
    assert embedding.attributes["ragtel.embedding.role"] == "document"
    assert embedding.attributes["ragtel.embedding.count"] == 2

    traced.exporter.clear()  # inside a run, the run is the root: no index build
    handler = RagtelCallbackHandler(traced.provider, traced.config)

    def embed_note(text: str) -> int:
        return len(embeddings.embed_documents([text]))

    RunnableLambda(embed_note).invoke("a note", config={"callbacks": [handler]})
    assert [s.name for s in traced.spans if s.parent is None] == ["invoke_workflow embed_note"]

    traced.exporter.clear()  # a failed index build fails at its root too
    failing = TracedEmbeddings(
        _FailingEmbeddings(), tracer_provider=traced.provider, config=traced.config
    )
    with pytest.raises(ConnectionError):
        failing.embed_documents(["x"])
    assert {s.name: s.status.status_code.name for s in traced.spans} == {
        "invoke_workflow index_documents": "ERROR",
        "embeddings ragtel-hash-256": "ERROR",
    }


@needs_patchable_internals
def test_every_hook_swallows_an_internal_error(
    traced: Traced, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hooks guard their bodies by hand (a decorator costs a frame per event): this checks
    # that none was left out, by making every helper a hook reaches fail.
    import inspect
    import uuid

    import ragtel

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("recorder bug")

    handler = RagtelCallbackHandler(traced.provider, traced.config)
    for name, member in vars(RagtelCallbackHandler).items():
        if name.startswith("_") and not name.startswith("__") and inspect.isfunction(member):
            monkeypatch.setattr(handler, name, broken)

    class BrokenRuns:
        def __getattr__(self, name: str) -> object:
            raise RuntimeError("recorder bug")

    monkeypatch.setattr(handler, "_runs", BrokenRuns())
    hooks = [n for n in vars(RagtelCallbackHandler) if n.startswith("on_")]
    assert len(hooks) >= 14
    for name in hooks:
        method = getattr(handler, name)
        positional = [
            p
            for p in inspect.signature(method).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty
        ]
        before = ragtel.stats().get("internal_errors", 0)
        result = method(*[None] * len(positional), run_id=uuid.uuid4(), parent_run_id=uuid.uuid4())
        assert result is None, name
        assert ragtel.stats().get("internal_errors", 0) == before + 1, name


class _HostileDocs(BaseRetriever):
    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(
                page_content='請求書 🧾 "quoted"\nkey sk-proj-AbCdEfGhIjKlMnOpQrStUv',
                id="d1",
                metadata={"score": 0.5, "api_key": "abc123", "source": "a\ud800.md"},
            ),
            Document(page_content="plain", metadata={}),
        ]


@pytest.mark.parametrize("call", ["invoke", "ainvoke", "stream"])
@pytest.mark.parametrize("max_text_chars", [4096, 60])
def test_documents_handed_to_the_next_step_are_policed_as_on_the_retriever(
    max_text_chars: int, call: str
) -> None:
    """A retriever's documents passed on (to a formatter, a stuff chain) are recorded in that
    step's input as JSON under the same text policy: secrets masked by shape and by key name,
    valid UTF-8, cut with a count when over the limit."""
    traced = Traced(TraceConfig(monitor=False, max_text_chars=max_text_chars))
    handler = RagtelCallbackHandler(traced.provider, traced.config)
    chain = _HostileDocs() | RunnableLambda(lambda docs: len(docs)).with_config(run_name="count")
    config: RunnableConfig = {"callbacks": [handler]}
    if call == "invoke":
        assert chain.invoke("q", config=config) == 2
    elif call == "ainvoke":
        assert asyncio.run(chain.ainvoke("q", config=config)) == 2
    else:
        assert list(chain.stream("q", config=config)) == [2]
    (step,) = [s for s in traced.spans if s.name == "count"]
    text = step.attributes["input.value"]
    assert "sk-proj" not in text and "abc123" not in text and "\ud800" not in text
    text.encode("utf-8")
    if max_text_chars == 60:  # the list is longer: cut whole, as any other input
        assert len(text) == max_text_chars and text.startswith('[{"id":"d1","page_content":"')
        assert step.attributes["ragtel.text.truncated_count"] >= 1
        return
    first, second = json.loads(text)
    assert first["id"] == "d1" and first["page_content"].startswith('請求書 🧾 "quoted"\nkey ')
    assert first["metadata"] == {"score": 0.5, "api_key": "[REDACTED]", "source": "a\ufffd.md"}
    assert second == {"id": None, "page_content": "plain", "metadata": {}}
    assert step.attributes["input.mime_type"] == "application/json"
