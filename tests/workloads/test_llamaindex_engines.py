"""LlamaIndex chat engines, the router query engine and the ingestion pipeline.

Per call (sync, threads, asyncio, streaming): one trace, the engine at the root with the question
and the answer (streamed answers too, once the stream is consumed), retrieval with its documents,
each model call under the root. An ingestion run is one trace of document embeddings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from llama_index.core import Document, SummaryIndex
from llama_index.core.chat_engine import CondensePlusContextChatEngine, ContextChatEngine
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.llms import ChatMessage
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.query_engine import RouterQueryEngine
from llama_index.core.schema import MetadataMode
from llama_index.core.tools import QueryEngineTool

from ragtel.demo.corpus import DOCUMENTS
from ragtel.demo.llamaindex_app import HashEmbedding
from ragtel.llamaindex import RagtelSpanHandler
from tests.unit.conftest import Traced
from tests.workloads.li_models import FunctionCallingFakeLLM
from tests.workloads.spans import Run, assert_documents, attrs, one_run, runs

QUESTIONS = [
    "How do I download my invoice?",
    "Is my data encrypted at rest?",
    "How large can a single object be?",
]
HISTORY = [ChatMessage(role="user", content="Hello"), ChatMessage(role="assistant", content="Hi!")]


def condense_plus_context(li_index: Any) -> Any:
    retriever = li_index.as_retriever(similarity_top_k=2)
    return CondensePlusContextChatEngine.from_defaults(
        retriever, llm=FunctionCallingFakeLLM(), chat_history=list(HISTORY)
    )


def context_chat(li_index: Any) -> Any:
    retriever = li_index.as_retriever(similarity_top_k=2)
    return ContextChatEngine.from_defaults(
        retriever, llm=FunctionCallingFakeLLM(), chat_history=list(HISTORY)
    )


ENGINES: dict[str, Callable[[Any], Any]] = {
    "CondensePlusContextChatEngine": condense_plus_context,
    "ContextChatEngine": context_chat,
}


@pytest.fixture(params=list(ENGINES))
def make_engine(request: pytest.FixtureRequest, li_index: Any) -> Callable[[], Any]:
    # One engine per conversation, as a chat app keeps one per session.
    return lambda: ENGINES[request.param](li_index)


def _check(run: Run, question: str, answer: str) -> None:
    root = run.root
    assert run.kind(root) == "CHAIN"
    assert attrs(root)["input.value"] == question
    assert answer and attrs(root)["output.value"] == answer
    (retrieval,) = run.of_kind("RETRIEVER")
    assert_documents(retrieval, scored=True)
    (embedding,) = run.of_kind("EMBEDDING")
    assert run.parent(embedding) is retrieval
    llms = run.of_kind("LLM")
    assert llms
    assert attrs(llms[-1])["output.value"] == answer


def test_chat(
    make_engine: Callable[[], Any], traced: Traced, li_handler: RagtelSpanHandler
) -> None:
    answer = str(make_engine().chat(QUESTIONS[0]))
    _check(one_run(traced.spans), QUESTIONS[0], answer)
    assert li_handler.open_steps == 0


def _check_each(traced: Traced, answers: list[str]) -> None:
    """One trace per question, each with its own answer."""
    found = runs(traced.spans)
    assert len(found) == len(QUESTIONS)
    for run in found:
        question = attrs(run.root)["input.value"]
        _check(run, question, answers[QUESTIONS.index(question)])


def test_chat_in_threads(
    make_engine: Callable[[], Any], traced: Traced, li_handler: RagtelSpanHandler
) -> None:
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda q: str(make_engine().chat(q)), QUESTIONS))
    _check_each(traced, answers)


async def test_achat_concurrent(
    make_engine: Callable[[], Any], traced: Traced, li_handler: RagtelSpanHandler
) -> None:
    answers = [str(a) for a in await asyncio.gather(*(make_engine().achat(q) for q in QUESTIONS))]
    _check_each(traced, answers)
    assert li_handler.open_steps == 0


def test_stream_chat(
    make_engine: Callable[[], Any], traced: Traced, li_handler: RagtelSpanHandler
) -> None:
    response = make_engine().stream_chat(QUESTIONS[1])
    answer = "".join(response.response_gen)
    _check(one_run(traced.spans), QUESTIONS[1], answer)
    assert li_handler.open_steps == 0


async def test_astream_chat_concurrent(
    make_engine: Callable[[], Any], traced: Traced, li_handler: RagtelSpanHandler
) -> None:
    async def one(question: str) -> str:
        response = await make_engine().astream_chat(question)
        return "".join([token async for token in response.async_response_gen()])

    answers = await asyncio.gather(*(one(q) for q in QUESTIONS))
    _check_each(traced, answers)
    assert li_handler.open_steps == 0


# -- router ------------------------------------------------------------------------------------


def _router(li_index: Any) -> RouterQueryEngine:
    llm = FunctionCallingFakeLLM()
    summary = SummaryIndex.from_documents([Document(text="Acme Cloud release notes.")])
    tools = [
        QueryEngineTool.from_defaults(
            li_index.as_query_engine(llm=llm, similarity_top_k=2),
            name="docs",
            description="The Acme Cloud documentation.",
        ),
        QueryEngineTool.from_defaults(
            summary.as_query_engine(llm=llm), name="notes", description="Release notes."
        ),
    ]
    # With a function-calling model LlamaIndex picks its Pydantic selector: a tool call.
    return RouterQueryEngine.from_defaults(tools, llm=llm)


def _check_router(run: Run, question: str, answer: str) -> None:
    root = run.root
    assert root.name.startswith("invoke_workflow RouterQueryEngine") and run.kind(root) == "CHAIN"
    assert attrs(root)["input.value"] == question
    assert attrs(root)["output.value"] == answer
    selector, synthesis = run.of_kind("LLM")
    assert run.parent(selector) is root
    (retrieval,) = run.of_kind("RETRIEVER")
    assert_documents(retrieval, scored=True)
    assert run.nearest(synthesis, ["CHAIN"]) is not root  # inside the chosen engine
    assert attrs(synthesis)["output.value"] == answer


def test_router_query(li_index: Any, traced: Traced, li_handler: RagtelSpanHandler) -> None:
    engine = _router(li_index)
    answer = str(engine.query(QUESTIONS[0]))
    _check_router(one_run(traced.spans), QUESTIONS[0], answer)


async def test_router_aquery_concurrent(
    li_index: Any, traced: Traced, li_handler: RagtelSpanHandler
) -> None:
    engine = _router(li_index)
    answers = [str(a) for a in await asyncio.gather(*(engine.aquery(q) for q in QUESTIONS))]
    found = runs(traced.spans)
    assert len(found) == len(QUESTIONS)
    for run in found:
        question = attrs(run.root)["input.value"]
        _check_router(run, question, answers[QUESTIONS.index(question)])


# -- ingestion ---------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["run", "arun"])
async def test_ingestion_pipeline(traced: Traced, li_handler: RagtelSpanHandler, call: str) -> None:
    pipeline = IngestionPipeline(
        transformations=[
            SentenceSplitter(chunk_size=64, chunk_overlap=0),
            HashEmbedding(embed_batch_size=8),
        ]
    )
    docs = [Document(text=text, id_=doc_id, metadata=meta) for doc_id, text, meta in DOCUMENTS]
    nodes = pipeline.run(documents=docs) if call == "run" else await pipeline.arun(documents=docs)
    run = one_run(traced.spans)
    embeddings = run.of_kind("EMBEDDING")
    assert len(embeddings) == -(-len(nodes) // 8)  # one span per request to the model
    texts = [
        attrs(s)[f"embedding.embeddings.{i}.embedding.text"]
        for s in embeddings
        for i in range(attrs(s)["ragtel.embedding.count"])
    ]
    # What the model was given: each node's text with its metadata, as LlamaIndex embeds it.
    assert texts == [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    for span in embeddings:
        assert attrs(span)["ragtel.embedding.role"] == "document"
        assert attrs(span)["gen_ai.embeddings.dimension.count"] == 256
