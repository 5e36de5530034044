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

from ragtel.monitor._stores import Sampled, llamaindex_faiss_pages, store_pages


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
    knowledge_base = _read(source, max_documents)
    if max_documents is not None and len(knowledge_base) > max_documents:
        kept = Sampled.of(iter([(knowledge_base.ids, knowledge_base.texts,
                                 knowledge_base.vectors)]), max_documents)  # fmt: skip
        return _sampled(kept, type(source).__name__)
    return knowledge_base


def _read(source: Any, max_documents: int | None) -> KnowledgeBase:
    if isinstance(source, KnowledgeBase):
        return source
    if isinstance(source, np.ndarray):
        return KnowledgeBase.from_rows(source)
    # LangChain: a retriever holds its store in ``vectorstore``.
    store = getattr(source, "vectorstore", source)
    entries = getattr(store, "store", None)
    if isinstance(entries, Mapping) and hasattr(store, "similarity_search"):
        return _from_langchain_memory(entries, type(store).__name__)
    # LlamaIndex: an index has a vector store and a docstore with the node texts.
    vector_store = getattr(source, "vector_store", None)
    if vector_store is not None and hasattr(source, "docstore"):
        embeddings = _simple_embeddings(vector_store)
        if embeddings is not None:
            return _with_texts(embeddings, source.docstore)
        pages = llamaindex_faiss_pages(source, vector_store)
        if pages is not None:
            return _sampled(Sampled.of(pages, max_documents), type(vector_store).__name__)
        store = vector_store
    embeddings = _simple_embeddings(store)
    if embeddings is not None:
        return _from_pairs(embeddings.items(), {})
    pages = store_pages(store)
    if pages is None:
        raise TypeError(_UNSUPPORTED.format(kind=type(store).__name__))
    return _sampled(Sampled.of(pages, max_documents), type(store).__name__)


def _sampled(sample: Sampled, kind: str) -> KnowledgeBase:
    if not sample.vectors:
        raise ValueError(f"the {kind} is empty: no document vectors to compare queries with")
    rows = KnowledgeBase.from_rows(np.array(sample.vectors), sample.ids, sample.texts)
    if sample.seen == len(rows):
        return rows
    # A sample: say of how many, so that the cut is visible where the knowledge base is used.
    return KnowledgeBase(rows.vectors, rows.ids, rows.texts, sampled_from=sample.seen)


def _from_langchain_memory(entries: Mapping[str, Any], kind: str) -> KnowledgeBase:
    ids, texts, vectors = [], [], []
    for key, entry in entries.items():
        vector = entry.get("vector") if isinstance(entry, Mapping) else None
        if vector is None:
            raise TypeError(_UNSUPPORTED.format(kind=kind))
        ids.append(str(entry.get("id", key)))
        text = entry.get("text")
        texts.append(text if isinstance(text, str) else None)
        vectors.append(vector)
    if not vectors:
        raise ValueError(f"the {kind} is empty: no document vectors to compare queries with")
    return KnowledgeBase.from_rows(vectors, ids, texts)


def _simple_embeddings(store: Any) -> Mapping[str, Any] | None:
    """LlamaIndex SimpleVectorStore keeps ``data.embedding_dict`` (node id -> vector)."""
    data = getattr(store, "data", None)
    found = getattr(data, "embedding_dict", None)
    return found if isinstance(found, Mapping) else None


def _with_texts(embeddings: Mapping[str, Any], docstore: Any) -> KnowledgeBase:
    texts: dict[str, str | None] = {}
    for node_id in embeddings:
        try:
            node = docstore.get_node(node_id, raise_error=False)
            texts[node_id] = node.get_content() if node is not None else None
        except Exception:  # a docstore without the node (a store that keeps text elsewhere)
            texts[node_id] = None
    return _from_pairs(embeddings.items(), texts)


def _from_pairs(pairs: Iterable[tuple[str, Any]], texts: Mapping[str, str | None]) -> KnowledgeBase:
    ids, vectors = [], []
    for node_id, vector in pairs:
        ids.append(str(node_id))
        vectors.append(vector)
    if not vectors:
        raise ValueError("the index is empty: no document vectors to compare queries with")
    return KnowledgeBase.from_rows(vectors, ids, [texts.get(i) for i in ids])
