"""A LangChain RAG pipeline built only from LangChain's public pieces, as its docs teach them.

retriever (a custom ``BaseRetriever`` returning the documents a test chose, or a vector store)
-> format -> ``ChatPromptTemplate`` (system, history, question) -> chat model -> parser.
The embeddings are a user ``Embeddings`` subclass that accepts any ``str`` (LangChain's
``DeterministicFakeEmbedding`` hashes UTF-8 and raises on lone surrogates, which would make the
pipeline itself fail before ragtel sees anything).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

ANSWER = "Invoices are issued on the first day of each month."


class CodepointEmbeddings(Embeddings):
    """A deterministic bag-of-codepoints embedding: any ``str`` works, surrogates included."""

    def __init__(self, size: int = 32) -> None:
        self.size = size

    def _one(self, text: str) -> list[float]:
        vec = [0.0] * self.size
        for ch in text[:2000]:
            vec[ord(ch) % self.size] += 1.0
        norm = sum(v * v for v in vec) ** 0.5 or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._one(text)


class ListRetriever(BaseRetriever):
    """Returns the documents it was given, whatever the query (LangChain's custom-retriever
    pattern)."""

    documents: list[Document]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return list(self.documents)


def _format(docs: Sequence[Document]) -> str:
    return "\n\n".join(d.page_content for d in docs)


def _history(inputs: dict[str, Any]) -> list[BaseMessage]:
    return [
        HumanMessage(text) if role == "user" else AIMessage(text)
        for role, text in inputs.get("history_pairs") or []
    ]


PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "Answer from this context only:\n{context}"),
        MessagesPlaceholder("history"),
        ("human", "{question}"),
    ]
)


def build_chain(
    retriever: BaseRetriever, *, answer: str = ANSWER, model_kwargs: dict[str, Any] | None = None
) -> Runnable:
    """``chain.invoke({"question": ..., "history_pairs": [(role, text), ...]})`` -> answer."""
    model: Runnable = FakeListChatModel(responses=[answer])
    if model_kwargs:
        model = model.bind(**model_kwargs)
    return (
        {
            "context": RunnableLambda(lambda x: x["question"]) | retriever | _format,
            "question": RunnableLambda(lambda x: x["question"]),
            "history": RunnableLambda(_history),
        }
        | PROMPT
        | model
        | StrOutputParser()
    )


def vector_store_chain(documents: Sequence[Document], embeddings: Embeddings) -> Runnable:
    """The same chain over an ``InMemoryVectorStore`` (k=4), questions as plain strings."""
    store = InMemoryVectorStore(embeddings)
    store.add_documents(list(documents))
    retriever = store.as_retriever(search_kwargs={"k": 4})
    return (
        {"context": retriever | _format, "question": RunnablePassthrough()}
        | ChatPromptTemplate.from_messages(
            [("system", "Answer from this context only:\n{context}"), ("human", "{question}")]
        )
        | FakeListChatModel(responses=[ANSWER])
        | StrOutputParser()
    )


def support_documents(count: int = 12) -> list[Document]:
    """Short support-desk documents with ids and metadata."""
    topics = ["billing", "storage", "support", "security"]
    return [
        Document(
            id=f"{topics[i % 4]}-{i}",
            page_content=f"{topics[i % 4].title()} note {i}: "
            + hashlib.sha256(str(i).encode()).hexdigest()[:24],
            metadata={"topic": topics[i % 4], "n": i},
        )
        for i in range(count)
    ]
