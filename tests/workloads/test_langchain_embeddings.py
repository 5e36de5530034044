"""Embedding calls LangChain gives no callback for, made where real apps make them.

``TracedEmbeddings`` spans must stay in the trace of the run that made the call, under async and
executor threads as in plain sync code, and embeddings of documents made while answering a query
(EmbeddingsFilter re-embeds what was retrieved) are not the knowledge base the monitor measures.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_classic.retrievers import ContextualCompressionRetriever, MultiQueryRetriever
from langchain_classic.retrievers.document_compressors import EmbeddingsFilter
from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from langchain_core.vectorstores import InMemoryVectorStore

from ragtel.config import TraceConfig
from ragtel.langchain import RagtelCallbackHandler
from ragtel.monitor import EmbeddingMonitor
from ragtel.recording.monitor_hook import set_monitor
from tests.unit.conftest import Traced
from tests.workloads import lc_kb
from tests.workloads.lc_models import ToolCallingChatModel
from tests.workloads.spans import attrs, one_run

QUESTION = "How do I download my invoice?"


class RerankingRetriever(BaseRetriever):
    """Asks a nested retriever, then embeds the query itself to re-rank: a common custom step."""

    inner: BaseRetriever
    embeddings: Embeddings

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        docs = self.inner.invoke(query, config={"callbacks": run_manager.get_child()})
        vector = self.embeddings.embed_query(query)
        return _rerank(docs, vector, self.embeddings)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        docs = await self.inner.ainvoke(query, config={"callbacks": run_manager.get_child()})
        vector = await self.embeddings.aembed_query(query)
        return _rerank(docs, vector, self.embeddings)


def _rerank(docs: list[Document], vector: list[float], embeddings: Embeddings) -> list[Document]:
    def score(doc: Document) -> float:
        return float(doc.metadata.get("score", 0.0)) + 0.0 * len(vector)

    return sorted(docs, key=score, reverse=True)


@pytest.fixture
def handler(traced: Traced) -> RagtelCallbackHandler:
    return RagtelCallbackHandler(traced.provider, traced.config)


@pytest.fixture
def vectors(traced: Traced) -> InMemoryVectorStore:
    return lc_kb.store(traced)


@pytest.mark.parametrize("call", ["invoke", "ainvoke"])
async def test_similarity_search_in_a_lambda(
    vectors: InMemoryVectorStore, traced: Traced, handler: RagtelCallbackHandler, call: str
) -> None:
    # A sync function in a RunnableLambda: under ainvoke LangChain runs it on an executor thread.
    search = RunnableLambda(lambda q: vectors.similarity_search(q, k=2), name="search")
    chain = search | RunnableLambda(lambda docs: docs[0].page_content, name="first")
    config = {"callbacks": [handler], "metadata": {"session_id": "s-1", "user_id": "u-1"}}
    if call == "invoke":
        chain.invoke(QUESTION, config=config)
    else:
        await chain.ainvoke(QUESTION, config=config)
    run = one_run(traced.spans)
    (embedding,) = run.of_kind("EMBEDDING")
    assert run.parent(embedding).name == "search"  # type: ignore[union-attr]
    # The run's session and user, like every other span of the run.
    assert attrs(embedding)["session.id"] == "s-1"
    assert attrs(embedding)["user.id"] == "u-1"


@pytest.mark.parametrize("call", ["invoke", "ainvoke"])
async def test_retriever_that_embeds_after_a_nested_retriever(
    vectors: InMemoryVectorStore, traced: Traced, handler: RagtelCallbackHandler, call: str
) -> None:
    retriever = RerankingRetriever(
        inner=lc_kb.scored_retriever(vectors), embeddings=vectors.embeddings
    )
    if call == "invoke":
        retriever.invoke(QUESTION, config={"callbacks": [handler]})
    else:
        await retriever.ainvoke(QUESTION, config={"callbacks": [handler]})
    run = one_run(traced.spans)
    outer, inner = run.of_kind("RETRIEVER")
    assert run.root is outer and run.parent(inner) is outer
    first, second = run.of_kind("EMBEDDING")
    assert run.parent(first) is inner
    assert run.parent(second) is outer


@pytest.fixture
def monitor(traced: Traced) -> Any:  # after traced, which resets the shared monitor
    monitor = EmbeddingMonitor()
    set_monitor(monitor)
    yield monitor
    set_monitor(None)


@pytest.mark.parametrize("pattern", ["EmbeddingsFilter", "MultiQueryRetriever"])
async def test_query_time_document_embeddings_are_not_the_knowledge_base(
    monitor: Any, pattern: str
) -> None:
    traced = Traced(TraceConfig(monitor=True))
    handler = RagtelCallbackHandler(traced.provider, traced.config)
    vectors = lc_kb.store(traced)
    knowledge_base = monitor.context_count
    assert knowledge_base == len(vectors.store)
    base = lc_kb.scored_retriever(vectors, k=4)
    if pattern == "EmbeddingsFilter":
        compressor = EmbeddingsFilter(embeddings=vectors.embeddings, similarity_threshold=0.01)
        retriever: BaseRetriever = ContextualCompressionRetriever(
            base_compressor=compressor, base_retriever=base
        )
    else:
        retriever = MultiQueryRetriever.from_llm(base, ToolCallingChatModel())
    retriever.invoke(QUESTION, config={"callbacks": [handler]})
    await retriever.ainvoke(QUESTION, config={"callbacks": [handler]})
    assert monitor.context_count == knowledge_base
    # Every query embedding is measured against the knowledge base, and says so on its span.
    for span in traced.by_kind("EMBEDDING"):
        if attrs(span)["ragtel.embedding.role"] == "query":
            assert attrs(span)["ragtel.monitor.centroid_distance"] >= 0
