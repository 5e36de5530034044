"""langchain-classic's RAG constructors, as their documentation builds them.

Per pattern and per way of calling it (invoke, threads, asyncio, streaming): one trace per call,
the question and the answer on the root, every retrieval with its documents, every embedding inside
its retrieval, the model under the root. EMBEDDING spans carry the run's session and user like every
other span, and query-time ``embed_documents`` calls never grow the monitor's knowledge base.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_classic.chains import (
    RetrievalQA,
    create_history_aware_retriever,
    create_retrieval_chain,
)
from langchain_classic.chains.combine_documents import create_stuff_documents_chain
from langchain_classic.retrievers import (
    ContextualCompressionRetriever,
    EnsembleRetriever,
    MultiQueryRetriever,
)
from langchain_classic.retrievers.document_compressors import EmbeddingsFilter
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable
from langchain_core.vectorstores import InMemoryVectorStore

from ragtel.langchain import RagtelCallbackHandler
from tests.unit.conftest import Traced
from tests.workloads import lc_kb
from tests.workloads.lc_models import STANDALONE_MARK, ToolCallingChatModel
from tests.workloads.spans import Run, assert_documents, attrs, runs

QUESTIONS = [
    "How do I download my invoice?",
    "Is my data encrypted at rest?",
    "How large can a single object be?",
    "Which payment methods are accepted?",
]
QA_PROMPT = ChatPromptTemplate.from_messages(
    [("system", "Answer only from this context: {context}"), ("human", "{input}")]
)
CONDENSE_PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", f"Rewrite the latest user question as a {STANDALONE_MARK}."),
        MessagesPlaceholder("chat_history"),
        ("human", "{input}"),
    ]
)
HISTORY = [HumanMessage("Hello"), AIMessage("Hi, how can I help?")]


def _qa(retriever: Runnable[Any, Any]) -> Runnable[Any, Any]:
    return create_retrieval_chain(
        retriever, create_stuff_documents_chain(ToolCallingChatModel(), QA_PROMPT)
    )


def retrieval_chain(vectors: InMemoryVectorStore) -> Runnable[Any, Any]:
    return _qa(lc_kb.scored_retriever(vectors))


def history_aware(vectors: InMemoryVectorStore) -> Runnable[Any, Any]:
    retriever = create_history_aware_retriever(
        ToolCallingChatModel(), lc_kb.scored_retriever(vectors), CONDENSE_PROMPT
    )
    return _qa(retriever)


def retrieval_qa(vectors: InMemoryVectorStore) -> Runnable[Any, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated in favour of create_retrieval_chain
        return RetrievalQA.from_chain_type(
            ToolCallingChatModel(), retriever=lc_kb.scored_retriever(vectors)
        )


def multi_query(vectors: InMemoryVectorStore) -> Runnable[Any, Any]:
    return _qa(
        MultiQueryRetriever.from_llm(lc_kb.scored_retriever(vectors), ToolCallingChatModel())
    )


def ensemble(vectors: InMemoryVectorStore) -> Runnable[Any, Any]:
    retrievers = [lc_kb.scored_retriever(vectors, k=2), lc_kb.scored_retriever(vectors, k=3)]
    return _qa(EnsembleRetriever(retrievers=retrievers, weights=[0.5, 0.5]))


def compression(vectors: InMemoryVectorStore) -> Runnable[Any, Any]:
    # The same traced embeddings as the store: EmbeddingsFilter embeds the query and the documents.
    compressor = EmbeddingsFilter(embeddings=vectors.embeddings, similarity_threshold=0.01)
    return _qa(
        ContextualCompressionRetriever(
            base_compressor=compressor, base_retriever=lc_kb.scored_retriever(vectors, k=4)
        )
    )


PATTERNS: dict[str, Callable[[InMemoryVectorStore], Runnable[Any, Any]]] = {
    "create_retrieval_chain": retrieval_chain,
    "create_history_aware_retriever": history_aware,
    "RetrievalQA": retrieval_qa,
    "MultiQueryRetriever": multi_query,
    "EnsembleRetriever": ensemble,
    "ContextualCompressionRetriever": compression,
}


def _input(pattern: str, question: str) -> dict[str, Any]:
    if pattern == "RetrievalQA":
        return {"query": question}
    if pattern == "create_history_aware_retriever":
        return {"input": question, "chat_history": HISTORY}
    return {"input": question}


def _answer(pattern: str, output: dict[str, Any]) -> str:
    return str(output["result" if pattern == "RetrievalQA" else "answer"])


def _check(run: Run, question: str, answer: str | None = None) -> None:
    root = run.root
    assert run.kind(root) == "CHAIN"
    assert question in json.loads(attrs(root)["input.value"]).values(), attrs(root)["input.value"]
    output = json.loads(attrs(root)["output.value"])
    if answer is not None:
        assert answer in output.values()
    retrievals = run.of_kind("RETRIEVER")
    assert retrievals, run.tree()
    for retrieval in retrievals:
        # Retrievers of the store give scores; the combining ones pass them on in metadata.
        # EmbeddingsFilter rebuilds each document without its id (langchain-community's
        # _DocumentWithState), so the compression retriever's own output has none to record.
        rebuilt = attrs(retrieval)["ragtel.retriever.name"] == "ContextualCompressionRetriever"
        assert_documents(retrieval, scored=True, ids=not rebuilt)
    embeddings = run.of_kind("EMBEDDING")
    assert embeddings, run.tree()
    for embedding in embeddings:
        assert run.nearest(embedding, ["RETRIEVER"]) is not None, run.tree()
    llms = run.of_kind("LLM")
    assert llms
    final = llms[-1]
    assert attrs(final)["output.value"] in output.values()


@pytest.fixture
def handler(traced: Traced) -> RagtelCallbackHandler:
    return RagtelCallbackHandler(traced.provider, traced.config)


@pytest.fixture(params=list(PATTERNS))
def pattern(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def chain(pattern: str, traced: Traced) -> Runnable[Any, Any]:
    return PATTERNS[pattern](lc_kb.store(traced))


def test_invoke(
    pattern: str, chain: Runnable[Any, Any], traced: Traced, handler: RagtelCallbackHandler
) -> None:
    metadata = {"session_id": "chat-42", "user_id": "u-7"}
    output = chain.invoke(
        _input(pattern, QUESTIONS[0]), config={"callbacks": [handler], "metadata": metadata}
    )
    (run,) = runs(traced.spans)
    _check(run, QUESTIONS[0], _answer(pattern, output))
    for span in run.spans:
        assert attrs(span)["session.id"] == "chat-42", span.name
        assert attrs(span)["user.id"] == "u-7", span.name
    assert handler.open_runs == 0


def test_threads(
    pattern: str, chain: Runnable[Any, Any], traced: Traced, handler: RagtelCallbackHandler
) -> None:
    with ThreadPoolExecutor(4) as pool:
        outputs = list(
            pool.map(
                lambda q: chain.invoke(_input(pattern, q), config={"callbacks": [handler]}),
                QUESTIONS,
            )
        )
    found = runs(traced.spans)
    assert len(found) == len(QUESTIONS)
    answers = {_answer(pattern, o) for o in outputs}
    for run in found:
        question = next(q for q in QUESTIONS if json.dumps(q) in attrs(run.root)["input.value"])
        _check(run, question)
        assert attrs(run.of_kind("LLM")[-1])["output.value"] in answers


async def test_ainvoke_concurrent(
    pattern: str, chain: Runnable[Any, Any], traced: Traced, handler: RagtelCallbackHandler
) -> None:
    questions = [f"{q} (case {i})" for i in range(4) for q in QUESTIONS]
    await asyncio.gather(
        *(chain.ainvoke(_input(pattern, q), config={"callbacks": [handler]}) for q in questions)
    )
    found = runs(traced.spans)
    assert len(found) == len(questions), [r.tree() for r in found][:3]
    for run in found:
        question = next(q for q in questions if json.dumps(q) in attrs(run.root)["input.value"])
        _check(run, question)
    assert handler.open_runs == 0


def test_stream(
    pattern: str, chain: Runnable[Any, Any], traced: Traced, handler: RagtelCallbackHandler
) -> None:
    chunks = list(chain.stream(_input(pattern, QUESTIONS[1]), config={"callbacks": [handler]}))
    assert chunks
    (run,) = runs(traced.spans)
    _check(run, QUESTIONS[1])


async def test_astream(
    pattern: str, chain: Runnable[Any, Any], traced: Traced, handler: RagtelCallbackHandler
) -> None:
    chunks = [
        c
        async for c in chain.astream(_input(pattern, QUESTIONS[2]), config={"callbacks": [handler]})
    ]
    assert chunks
    (run,) = runs(traced.spans)
    _check(run, QUESTIONS[2])


async def test_astream_events(
    pattern: str, chain: Runnable[Any, Any], traced: Traced, handler: RagtelCallbackHandler
) -> None:
    events = [
        e
        async for e in chain.astream_events(
            _input(pattern, QUESTIONS[3]), config={"callbacks": [handler]}, version="v2"
        )
    ]
    assert any(e["event"] == "on_retriever_end" for e in events)
    (run,) = runs(traced.spans)
    _check(run, QUESTIONS[3])
