"""The knowledge base the LangChain workloads search: the demo corpus in an in-memory store."""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.tools import BaseTool, create_retriever_tool
from langchain_core.vectorstores import InMemoryVectorStore

from ragtel.demo.corpus import DOCUMENTS
from ragtel.demo.langchain_app import ScoredRetriever  # LangChain's documented way to keep scores
from ragtel.demo.local_models import HashEmbeddings
from ragtel.langchain import TracedEmbeddings
from tests.unit.conftest import Traced

TOOL = "search_docs"
TOOL_DESCRIPTION = "Search the Acme Cloud documentation."


def store(traced: Traced | None) -> InMemoryVectorStore:
    """The corpus, embedded through ``TracedEmbeddings`` (on ``traced``'s provider if given, else
    on the one ``ragtel.configure()`` set up)."""
    embeddings = (
        TracedEmbeddings(HashEmbeddings(), tracer_provider=traced.provider, config=traced.config)
        if traced is not None
        else TracedEmbeddings(HashEmbeddings())
    )
    vectors = InMemoryVectorStore(embeddings)
    vectors.add_documents(
        [Document(page_content=text, metadata=meta, id=doc_id) for doc_id, text, meta in DOCUMENTS]
    )
    if traced is not None:
        traced.exporter.clear()  # the knowledge base's own embedding spans
    return vectors


def scored_retriever(vectors: InMemoryVectorStore, k: int = 2) -> ScoredRetriever:
    return ScoredRetriever(vectorstore=vectors, search_kwargs={"k": k})


def retriever_tool(vectors: InMemoryVectorStore) -> BaseTool:
    return create_retriever_tool(scored_retriever(vectors), TOOL, TOOL_DESCRIPTION)
