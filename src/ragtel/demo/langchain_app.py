"""The demo's LangChain RAG chain: retriever | format -> ChatPromptTemplate -> model -> parser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore, VectorStoreRetriever

from ragtel.demo.corpus import DOCUMENTS
from ragtel.demo.local_models import ExtractiveChatModel, HashEmbeddings

SYSTEM_TEMPLATE = (
    "You are the Acme Cloud support assistant. Answer only from this context:\n{context}"
)
HUMAN_TEMPLATE = "{question}"


class ScoredRetriever(VectorStoreRetriever):
    """A vector-store retriever that keeps the similarity score, in ``metadata["score"]``.

    LangChain's own ``VectorStoreRetriever`` drops scores; most RAG apps want them in traces.
    """

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        found = self.vectorstore.similarity_search_with_score(query, **self.search_kwargs)
        return [_with_score(doc, score) for doc, score in found]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        found = await self.vectorstore.asimilarity_search_with_score(query, **self.search_kwargs)
        return [_with_score(doc, score) for doc, score in found]


def _with_score(doc: Document, score: float) -> Document:
    return Document(
        page_content=doc.page_content,
        id=doc.id,
        metadata={**doc.metadata, "score": float(score)},
    )


def prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages(
        [("system", SYSTEM_TEMPLATE), ("human", HUMAN_TEMPLATE)]
    )


def format_documents(documents: Sequence[Document]) -> str:
    return "\n".join(d.page_content for d in documents)


def build_chain(
    embeddings: Embeddings | None = None,
    model: BaseChatModel | None = None,
    documents: Sequence[tuple[str, str, dict[str, Any]]] = DOCUMENTS,
    k: int = 3,
) -> Runnable[str, str]:
    """The classic LCEL RAG chain over the built-in corpus (or ``documents``)."""
    store = InMemoryVectorStore(embeddings or HashEmbeddings())
    store.add_documents(
        [Document(page_content=text, metadata=meta, id=doc_id) for doc_id, text, meta in documents]
    )
    retriever = ScoredRetriever(vectorstore=store, search_kwargs={"k": k})
    return (
        RunnableParallel(
            context=retriever | RunnableLambda(format_documents),
            question=RunnablePassthrough(),
        )
        | prompt()
        | (model or ExtractiveChatModel())
        | StrOutputParser()
    )
