"""The knowledge base as the monitor and the analysis see it: document vectors, ids and texts.

``knowledge_base_from`` reads one out of the objects users keep it in. The frameworks are read by
the attributes their stores expose, never imported: the monitor runs inside the user's pipeline
and must not pull LangChain or LlamaIndex in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ragtel.monitor._stores import (
    PAGE,
    Page,
    Sampled,
    langchain_memory_rows,
    llamaindex_faiss_pages,
    store_pages,
)


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """Document vectors (one row each, float32) with their ids and texts (None: not known).
    ``sampled_from`` is how many documents the source held when these are a sample of them
    (``knowledge_base_from(..., max_documents=N)``), None when they are all of them."""

    vectors: np.ndarray
    ids: tuple[str, ...]
    texts: tuple[str | None, ...]
    sampled_from: int | None = None

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or not self.vectors.shape[0]:
            raise ValueError("a knowledge base needs at least one vector, all of one dimension")
        if not np.isfinite(self.vectors).all():
            raise ValueError("the knowledge base holds vectors with NaN or infinite values")
        if len(self.ids) != len(self.vectors) or len(self.texts) != len(self.vectors):
            raise ValueError("a knowledge base needs one id and one text (or None) per vector")

    @classmethod
    def from_rows(
        cls,
        vectors: Any,
        ids: Sequence[Any] | None = None,
        texts: Sequence[str | None] | None = None,
    ) -> KnowledgeBase:
        """From any array-like of vectors; ids default to the row numbers."""
        try:
            matrix = np.asarray(vectors, dtype=np.float32)
        except (TypeError, ValueError) as error:
            message = f"knowledge-base vectors are not numbers of one dimension: {error}"
            raise ValueError(message) from None
        if matrix.ndim == 1 and matrix.size == 0:
            matrix = matrix.reshape(0, 0)
        count = matrix.shape[0] if matrix.ndim else 0
        return cls(
            matrix,
            tuple(str(i) for i in ids) if ids is not None else tuple(str(i) for i in range(count)),
            tuple(texts) if texts is not None else (None,) * count,
        )

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def rows(self) -> Iterator[tuple[str, str | None, np.ndarray]]:
        """(id, text, vector) per document."""
        return zip(self.ids, self.texts, self.vectors, strict=True)


_UNSUPPORTED = (
    "ragtel cannot read document vectors from {kind}: it does not expose them. Pass a "
    "LangChain InMemoryVectorStore, FAISS, Chroma or QdrantVectorStore, a LlamaIndex "
    "VectorStoreIndex on a SimpleVectorStore, FaissVectorStore, ChromaVectorStore or "
    "QdrantVectorStore, or a KnowledgeBase built with KnowledgeBase.from_rows(vectors, ids, "
    "texts); for `ragtel drift`, export the vectors to .npy, .jsonl or .parquet, or pass a Chroma "
    "or Qdrant directory, with --knowledge-base."
)


def knowledge_base_from(source: Any, *, max_documents: int | None = None) -> KnowledgeBase:
    """The knowledge base held by ``source``.

    Accepted: a LangChain ``InMemoryVectorStore``, ``FAISS``, ``Chroma`` or
    ``QdrantVectorStore`` (or a retriever over one); a LlamaIndex ``VectorStoreIndex`` on its
    default ``SimpleVectorStore`` or on a ``FaissVectorStore``, ``ChromaVectorStore`` or
    ``QdrantVectorStore`` (or the vector store itself); a Chroma collection; a
    ``KnowledgeBase``; or a 2-D array of vectors.
    ``max_documents`` keeps a uniform sample of that many documents, read page by page from the
    FAISS, Chroma and Qdrant stores so that a large one is read in bounded memory.
    Raises ``TypeError`` for stores that do not expose their vectors, ``ValueError`` for an empty
    store or vectors that are not finite numbers of one dimension.
    """
    if isinstance(source, np.ndarray):
        source = KnowledgeBase.from_rows(source)
    if isinstance(source, KnowledgeBase):
        if max_documents is None or len(source) <= max_documents:
            return source
        whole = iter([(source.ids, source.texts, source.vectors)])
        return _sampled(Sampled.of(whole, max_documents), "knowledge base")
    pages, kind = _pages(source)
    return _sampled(Sampled.of(pages, max_documents), kind)


def _pages(source: Any) -> tuple[Iterator[Page], str]:
    """The source's documents as pages of (ids, texts, vectors), and what to call the source."""
    # LangChain: a retriever holds its store in ``vectorstore``.
    store = getattr(source, "vectorstore", source)
    entries = getattr(store, "store", None)
    if isinstance(entries, Mapping) and hasattr(store, "similarity_search"):
        return _pages_of(langchain_memory_rows(entries), type(store).__name__), type(store).__name__
    # LlamaIndex: an index has a vector store and a docstore with the node texts.
    vector_store = getattr(source, "vector_store", None)
    if vector_store is not None and hasattr(source, "docstore"):
        embeddings = _simple_embeddings(vector_store)
        if embeddings is not None:
            rows = _with_texts(embeddings, source.docstore)
            return _pages_of(rows, "index"), "index"
        pages = llamaindex_faiss_pages(source, vector_store)
        if pages is not None:
            return pages, type(vector_store).__name__
        store = vector_store
    embeddings = _simple_embeddings(store)
    if embeddings is not None:
        rows = ((str(key), None, vector) for key, vector in embeddings.items())
        return _pages_of(rows, "index"), "index"
    pages = store_pages(store)
    if pages is None:
        raise TypeError(_UNSUPPORTED.format(kind=type(store).__name__))
    return pages, type(store).__name__


def _sampled(sample: Sampled, kind: str) -> KnowledgeBase:
    if not sample.vectors:
        raise ValueError(f"the {kind} is empty: no document vectors to compare queries with")
    rows = KnowledgeBase.from_rows(np.array(sample.vectors), sample.ids, sample.texts)
    if sample.seen == len(rows):
        return rows
    # A sample: say of how many, so that the cut is visible where the knowledge base is used.
    return KnowledgeBase(rows.vectors, rows.ids, rows.texts, sampled_from=sample.seen)


def _pages_of(rows: Iterable[tuple[str, str | None, Any]], kind: str) -> Iterator[Page]:
    """Rows of an in-memory store, in pages, so that a sample of them is all that is copied."""
    page: list[tuple[str, str | None, Any]] = []
    for row in rows:
        if row[2] is None:
            raise TypeError(_UNSUPPORTED.format(kind=kind))
        page.append(row)
        if len(page) == PAGE:
            yield _transposed(page)
            page = []
    if page:
        yield _transposed(page)


def _transposed(page: list[tuple[str, str | None, Any]]) -> Page:
    return [r[0] for r in page], [r[1] for r in page], [r[2] for r in page]


def _simple_embeddings(store: Any) -> Mapping[str, Any] | None:
    """LlamaIndex SimpleVectorStore keeps ``data.embedding_dict`` (node id -> vector)."""
    data = getattr(store, "data", None)
    found = getattr(data, "embedding_dict", None)
    return found if isinstance(found, Mapping) else None


def _with_texts(
    embeddings: Mapping[str, Any], docstore: Any
) -> Iterator[tuple[str, str | None, Any]]:
    for node_id, vector in embeddings.items():
        try:
            node = docstore.get_node(node_id, raise_error=False)
            text = node.get_content() if node is not None else None
        except Exception:  # a docstore without the node (a store that keeps text elsewhere)
            text = None
        yield str(node_id), text if isinstance(text, str) else None, vector
