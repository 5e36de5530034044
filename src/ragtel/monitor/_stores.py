"""Document vectors read out of the vector stores RAG pipelines keep their knowledge base in.

FAISS, Chroma and Qdrant (LangChain's and LlamaIndex's wrappers, or a Chroma collection itself)
are recognised by the attributes they expose, never by importing them: the monitor runs inside
the user's pipeline and must not pull a database client in. Each store is read page by page;
with ``limit`` only a uniform sample of that many documents is kept, so a store of millions of
documents is read in bounded memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

PAGE = 1024  # documents per request to the store

Page = tuple[Sequence[Any], Sequence[str | None], Any]  # ids, texts, vectors


class Sampled:
    """A uniform reservoir sample (all rows while fewer than ``limit``) of (id, text, vector)."""

    def __init__(self, limit: int | None, seed: int = 0) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"max_documents must be at least 1, not {limit}")
        self._limit = limit
        self._rng = np.random.default_rng(seed)
        self.ids: list[str] = []
        self.texts: list[str | None] = []
        self.vectors: list[np.ndarray] = []
        self.seen = 0

    def add(self, ids: Sequence[Any], texts: Sequence[str | None], vectors: Any) -> None:
        rows = np.asarray(vectors, dtype=np.float32)
        if rows.ndim != 2 or len(rows) != len(ids) or len(texts) != len(ids):
            raise ValueError("the store returned a page whose ids, texts and vectors disagree")
        for row, (key, text) in enumerate(zip(ids, texts, strict=True)):
            slot = len(self.ids)
            if self._limit is not None and slot >= self._limit:
                slot = int(self._rng.integers(0, self.seen + 1))
                if slot >= self._limit:
                    self.seen += 1
                    continue
                # Copies: a view would keep its whole page alive while the sample holds it,
                # and a sample spread over every page would then hold the whole store.
                self.ids[slot], self.texts[slot] = str(key), text
                self.vectors[slot] = rows[row].copy()
            else:
                self.ids.append(str(key))
                self.texts.append(text)
                self.vectors.append(rows[row].copy())
            self.seen += 1

    @classmethod
    def of(cls, pages: Iterator[Page], limit: int | None) -> Sampled:
        """The sample of every row of ``pages``."""
        sample = cls(limit)
        for ids, texts, vectors in pages:
            sample.add(ids, texts, vectors)
        return sample


def store_pages(source: Any) -> Iterator[Page] | None:
    """Pages of (ids, texts, vectors) of a FAISS, Chroma or Qdrant store; None for any other
    object. Reading happens as the pages are iterated."""
    for pages in (_faiss_pages, _chroma_pages, _qdrant_pages):
        found = pages(source)
        if found is not None:
            return found
    return None


def langchain_memory_rows(entries: Mapping[Any, Any]) -> Iterator[tuple[str, str | None, Any]]:
    """(id, text, vector or None) per entry of LangChain's ``InMemoryVectorStore.store``, which
    its ``dump`` writes as JSON: id -> {"id", "vector", "text", "metadata"}."""
    for key, entry in entries.items():
        if not isinstance(entry, Mapping):
            yield str(key), None, None
            continue
        text = entry.get("text")
        text = text if isinstance(text, str) else None
        yield str(entry.get("id", key)), text, entry.get("vector")


def _attribute(source: Any, name: str) -> Any:
    """``source.name``, or None: recognising a store must not fail on a property that raises
    (LangChain's ``Chroma._collection`` before its client is set up)."""
    try:
        return getattr(source, name, None)
    except Exception:
        return None


# ---- FAISS: LangChain's wrapper keeps the index, a docstore and the row -> id map; LlamaIndex's
# store is the index (``client``), and the row -> node id map and the texts are its index's ------


def _is_faiss(index: Any) -> bool:
    return hasattr(index, "reconstruct_n") and hasattr(index, "ntotal")


def _faiss_pages(store: Any) -> Iterator[Page] | None:
    index: Any = _attribute(store, "index")
    row_ids = _attribute(store, "index_to_docstore_id")
    if _is_faiss(index) and isinstance(row_ids, Mapping):
        docstore = _attribute(store, "docstore")
        return _faiss_rows(index, row_ids, lambda key: _langchain_text(docstore, key))
    # LlamaIndex's FaissVectorStore alone: row numbers, no texts.
    index = _attribute(store, "client")
    if _is_faiss(index):
        return _faiss_rows(index, {}, lambda key: None)
    return None


def llamaindex_faiss_pages(index_of_store: Any, vector_store: Any) -> Iterator[Page] | None:
    """A LlamaIndex ``VectorStoreIndex`` on a ``FaissVectorStore``: node ids from the index's
    ``nodes_dict`` (row number -> node id), texts from its docstore."""
    faiss_index: Any = _attribute(vector_store, "client")
    row_ids = _attribute(_attribute(index_of_store, "index_struct"), "nodes_dict")
    if not (_is_faiss(faiss_index) and isinstance(row_ids, Mapping)):
        return None
    docstore = _attribute(index_of_store, "docstore")
    return _faiss_rows(faiss_index, row_ids, lambda key: _llamaindex_text(docstore, key))


def _faiss_rows(
    index: Any, row_ids: Mapping[Any, Any], text_of: Callable[[str], str | None]
) -> Iterator[Page]:
    total = int(index.ntotal)
    if total:
        _probe(index)
    for start in range(0, total, PAGE):
        count = min(PAGE, total - start)
        vectors = index.reconstruct_n(start, count)
        # LangChain maps row numbers to ids, LlamaIndex their strings to node ids.
        rows = range(start, start + count)
        ids = [str(row_ids.get(row, row_ids.get(str(row), row))) for row in rows]
        yield ids, [text_of(key) for key in ids], vectors


def _probe(index: Any) -> None:
    """One row first: an index type that cannot give vectors back fails here with a Python
    error, where ``reconstruct_n`` would throw inside FAISS's threads and abort the process."""
    try:
        index.reconstruct(0)
    except RuntimeError as error:
        message = str(error).splitlines()[0][:200]
        raise TypeError(
            f"ragtel cannot read vectors back from this FAISS index ({type(index).__name__}: "
            f"{message}). An IVF index can after index.make_direct_map(); otherwise pass the "
            f"vectors you indexed (KnowledgeBase.from_rows) or --knowledge-base FILE."
        ) from None


def _langchain_text(docstore: Any, key: str) -> str | None:
    try:
        found = docstore.search(key)
    except Exception:  # a custom docstore that does not know the id
        return None
    text = getattr(found, "page_content", None)  # a miss is a message string, not a Document
    return text if isinstance(text, str) else None


def _llamaindex_text(docstore: Any, key: str) -> str | None:
    try:
        node = docstore.get_node(key, raise_error=False)
        text = node.get_content() if node is not None else None
    except Exception:  # a docstore that keeps the text elsewhere
        return None
    return text if isinstance(text, str) else None


# ---- Chroma: a collection, or a wrapper holding one in ``_collection`` ------------------------


def _chroma_collection(source: Any) -> Any:
    for candidate in (source, _attribute(source, "_collection")):
        module = type(candidate).__module__
        if (
            module.startswith("chromadb")
            and hasattr(candidate, "get")
            and hasattr(candidate, "count")
        ):
            return candidate
    return None


def _chroma_pages(source: Any) -> Iterator[Page] | None:
    collection = _chroma_collection(source)
    if collection is None:
        return None

    def pages() -> Iterator[Page]:
        total = int(collection.count())
        for offset in range(0, total, PAGE):
            got = collection.get(include=["embeddings", "documents"], limit=PAGE, offset=offset)
            ids = list(got.get("ids") or [])
            if not ids:
                return
            documents = got.get("documents") or [None] * len(ids)
            texts = [d if isinstance(d, str) else None for d in documents]
            yield ids, texts, got.get("embeddings")

    return pages()


# ---- Qdrant: LangChain's and LlamaIndex's wrappers hold a client and a collection name --------


def _qdrant_pages(source: Any) -> Iterator[Page] | None:
    client: Any = _attribute(source, "client")
    name = _attribute(source, "collection_name")
    if not (isinstance(name, str) and hasattr(client, "scroll")):
        return None
    # LangChain names the dense vector ``vector_name`` ("" = unnamed), LlamaIndex
    # ``dense_vector_name``; the text is LangChain's ``content_payload_key`` or inside
    # LlamaIndex's serialised node.
    vector_name = _attribute(source, "vector_name") or _attribute(source, "dense_vector_name")
    text_keys = (_attribute(source, "content_payload_key") or "page_content", "text", "document")

    def pages() -> Iterator[Page]:
        offset = None
        while True:
            points, offset = client.scroll(name, limit=PAGE, offset=offset, with_vectors=True,
                                           with_payload=True)  # fmt: skip
            if points:
                vectors = [_qdrant_vector(p.vector, vector_name, name) for p in points]
                texts = [_qdrant_text(p.payload or {}, text_keys) for p in points]
                yield [p.id for p in points], texts, vectors
            if offset is None or not points:
                return

    return pages()


def _qdrant_vector(vector: Any, name: str | None, collection: str) -> Any:
    if not isinstance(vector, dict):
        return vector
    if name and name in vector:
        return vector[name]
    dense = [v for v in vector.values() if isinstance(v, list)]
    if len(dense) == 1:
        return dense[0]
    raise TypeError(
        f"the Qdrant collection {collection!r} has several named vectors "
        f"({', '.join(map(str, vector))}); ragtel cannot tell which is the documents' embedding"
    )


def _qdrant_text(payload: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        text = payload.get(key)
        if isinstance(text, str):
            return text
    node = payload.get("_node_content")  # LlamaIndex keeps the node as JSON
    if isinstance(node, str):
        try:
            text = json.loads(node).get("text")
        except (ValueError, AttributeError):
            return None
        return text if isinstance(text, str) else None
    return None
