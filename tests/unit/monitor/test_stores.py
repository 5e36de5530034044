"""knowledge_base_from on the vector stores RAG tutorials and deployments use: FAISS, Chroma and
Qdrant, built with the frameworks' own wrappers and the real database clients (Chroma in memory,
Qdrant in local mode: no server, nothing leaves the process)."""

from __future__ import annotations

import uuid
import warnings
from typing import Any

import chromadb
import numpy as np
import pytest
import qdrant_client
from langchain_chroma import Chroma
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_qdrant import QdrantVectorStore as LangChainQdrant
from langchain_qdrant import RetrievalMode, SparseEmbeddings, SparseVector
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.vector_stores.chroma import ChromaVectorStore
from llama_index.vector_stores.qdrant import QdrantVectorStore as LlamaIndexQdrant
from qdrant_client import models

import ragtel
from ragtel.monitor import EmbeddingMonitor, MonitorConfig, knowledge_base_from
from ragtel.monitor._stores import PAGE
from ragtel.recording.monitor_hook import set_monitor

# Non-Latin, emoji and a paragraph of code: texts come back exactly as they went in.
TEXTS = ["Invoices are issued on the 1st.", "退款需要五个工作日。", "パスワードはメールで再設定 🔑",
         "def reset(user):\n    send_mail(user.email)"]  # fmt: skip
IDS = [str(uuid.UUID(int=i + 1)) for i in range(len(TEXTS))]  # Qdrant ids are UUIDs or ints
EMBEDDINGS = DeterministicFakeEmbedding(size=8)


def _same_direction(a: Any, b: Any) -> bool:
    """Qdrant keeps cosine collections' vectors normalised; the direction is what is compared."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return bool(np.allclose(a / np.linalg.norm(a), b / np.linalg.norm(b), atol=1e-5))


def _chroma_client() -> Any:
    return chromadb.EphemeralClient(settings=chromadb.Settings(anonymized_telemetry=False))


def _langchain_faiss(texts: list[str], ids: list[str]) -> Any:
    with warnings.catch_warnings():  # langchain-community announces its sunset on import
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_community.vectorstores import FAISS
    return FAISS.from_texts(texts, EMBEDDINGS, ids=ids)


def _langchain_chroma(texts: list[str], ids: list[str]) -> Any:
    store = Chroma(f"kb-{uuid.uuid4().hex}", EMBEDDINGS, client=_chroma_client())
    store.add_texts(texts, ids=ids)
    return store


def _langchain_qdrant(texts: list[str], ids: list[str]) -> Any:
    return LangChainQdrant.from_texts(texts, EMBEDDINGS, ids=ids, location=":memory:",
                                      collection_name="kb")  # fmt: skip


LANGCHAIN_STORES = {"faiss": _langchain_faiss, "chroma": _langchain_chroma,
                    "qdrant": _langchain_qdrant}  # fmt: skip


@pytest.mark.parametrize("make", LANGCHAIN_STORES.values(), ids=LANGCHAIN_STORES.keys())
def test_langchain_stores_and_their_retrievers(make: Any) -> None:
    store = make(TEXTS, IDS)
    for source in (store, store.as_retriever()):
        kb = knowledge_base_from(source)
        assert sorted(kb.ids) == sorted(IDS)
        by_id = dict(zip(kb.ids, kb.texts, strict=True))
        assert [by_id[i] for i in IDS] == TEXTS
        for key, text, vector in kb.rows():
            assert text is not None
            assert _same_direction(vector, EMBEDDINGS.embed_query(text)), key


class _WordCounts(SparseEmbeddings):
    """A sparse model for hybrid search: one dimension per character, its count as the value."""

    def embed_documents(self, texts: list[str]) -> list[SparseVector]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> SparseVector:
        counts: dict[int, float] = {}
        for char in text:
            counts[ord(char) % 4096] = counts.get(ord(char) % 4096, 0.0) + 1.0
        return SparseVector(indices=list(counts), values=list(counts.values()))


def test_a_hybrid_qdrant_collection_gives_its_dense_vectors() -> None:
    """Hybrid retrieval keeps a named dense and a named sparse vector per point: the dense one
    is the knowledge base's embedding."""
    store = LangChainQdrant.from_texts(
        TEXTS, EMBEDDINGS, ids=IDS, location=":memory:", collection_name="hybrid",
        sparse_embedding=_WordCounts(), retrieval_mode=RetrievalMode.HYBRID,
        vector_name="dense", sparse_vector_name="words",
    )  # fmt: skip
    assert store.similarity_search(TEXTS[1], k=1)[0].page_content == TEXTS[1]  # hybrid search
    kb = knowledge_base_from(store)
    assert kb.vectors.shape == (len(TEXTS), 8)
    for text, vector in zip(kb.texts, kb.vectors, strict=True):
        assert text is not None and _same_direction(vector, EMBEDDINGS.embed_query(text))


def test_a_qdrant_collection_with_several_dense_vectors_needs_the_one_named() -> None:
    client = qdrant_client.QdrantClient(location=":memory:")
    config = models.VectorParams(size=8, distance=models.Distance.COSINE)
    client.create_collection("two", vectors_config={"title": config, "body": config})
    client.upsert("two", [
        models.PointStruct(id=i + 1, vector={"title": EMBEDDINGS.embed_query(f"t{i}"),
                                            "body": EMBEDDINGS.embed_query(t)},
                           payload={"page_content": t})
        for i, t in enumerate(TEXTS)
    ])  # fmt: skip
    unnamed = LangChainQdrant(client, "two", EMBEDDINGS, vector_name="body")
    unnamed.vector_name = ""  # as a wrapper that does not say which vector it searches
    with pytest.raises(TypeError, match=r"several named vectors \(title, body\)"):
        knowledge_base_from(unnamed)
    kb = knowledge_base_from(LangChainQdrant(client, "two", EMBEDDINGS, vector_name="body"))
    for text, vector in zip(kb.texts, kb.vectors, strict=True):
        assert text is not None and _same_direction(vector, EMBEDDINGS.embed_query(text))


def _llamaindex_chroma() -> Any:
    collection = _chroma_client().get_or_create_collection(f"kb-{uuid.uuid4().hex}")
    return ChromaVectorStore(chroma_collection=collection)


def _llamaindex_qdrant() -> Any:
    return LlamaIndexQdrant(client=qdrant_client.QdrantClient(location=":memory:"),
                            collection_name="kb")  # fmt: skip


def _llamaindex_faiss() -> Any:
    import faiss
    from llama_index.vector_stores.faiss import FaissVectorStore

    return FaissVectorStore(faiss_index=faiss.IndexFlatL2(6))


LLAMAINDEX_STORES = {"faiss": _llamaindex_faiss, "chroma": _llamaindex_chroma,
                     "qdrant": _llamaindex_qdrant}  # fmt: skip


@pytest.mark.parametrize("kind", LLAMAINDEX_STORES)
def test_llamaindex_indexes_on_external_vector_stores(kind: str) -> None:
    embed = MockEmbedding(embed_dim=6)
    with warnings.catch_warnings():  # local Qdrant: "payload indexes have no effect"
        warnings.simplefilter("ignore", UserWarning)
        index = VectorStoreIndex.from_documents(
            [Document(text=t, id_=f"d{i}") for i, t in enumerate(TEXTS)],
            storage_context=StorageContext.from_defaults(vector_store=LLAMAINDEX_STORES[kind]()),
            embed_model=embed,
        )
    # Chroma and Qdrant keep the texts in the store, FAISS in the index's docstore.
    assert bool(index.docstore.docs) == (kind == "faiss")
    kb = knowledge_base_from(index)
    assert kb.vectors.shape == (len(TEXTS), 6)
    assert sorted(t or "" for t in kb.texts) == sorted(TEXTS)
    # The ids are the node ids a retrieval span reports.
    nodes = index.as_retriever(similarity_top_k=len(TEXTS)).retrieve("invoices")
    assert {n.node.node_id for n in nodes} == set(kb.ids)
    alone = knowledge_base_from(index.vector_store)
    assert np.allclose(np.sort(alone.vectors, axis=0), np.sort(kb.vectors, axis=0))
    if kind == "faiss":  # the store alone knows rows, not nodes or texts
        assert alone.ids == ("0", "1", "2", "3") and alone.texts == (None,) * len(TEXTS)
    else:
        assert alone.ids == kb.ids and alone.texts == kb.texts


def test_a_chroma_collection_itself() -> None:
    collection = _chroma_client().get_or_create_collection("plain-collection")
    vectors = np.random.default_rng(0).normal(size=(len(TEXTS), 4)).astype(np.float32)
    collection.add(ids=IDS, embeddings=vectors, documents=TEXTS)
    kb = knowledge_base_from(collection)
    order = [kb.ids.index(i) for i in IDS]
    assert np.allclose(kb.vectors[order], vectors) and [kb.texts[i] for i in order] == TEXTS


@pytest.mark.parametrize("make", LANGCHAIN_STORES.values(), ids=LANGCHAIN_STORES.keys())
def test_a_large_store_is_read_page_by_page_into_a_uniform_sample(make: Any) -> None:
    count = 2 * PAGE + 300  # several pages and a partial one
    texts = [f"document number {n}" for n in range(count)]
    ids = [str(uuid.UUID(int=n + 1)) for n in range(count)]
    store = make(texts, ids)
    everything = knowledge_base_from(store)
    assert len(everything) == count and len(set(everything.ids)) == count
    assert everything.sampled_from is None
    kb = knowledge_base_from(store, max_documents=500)
    assert len(kb) == 500 and len(set(kb.ids)) == 500
    assert kb.sampled_from == count  # the cut is visible
    numbers = np.array([int(t.rsplit(" ", 1)[1]) for t in kb.texts if t])
    assert len(numbers) == 500
    # Uniform over the whole store, not its first pages: each third holds about a third.
    thirds = np.bincount(numbers * 3 // count, minlength=3)
    assert thirds.min() > 120, thirds
    for key, text, vector in list(kb.rows())[:20]:
        assert ids[int((text or "").rsplit(" ", 1)[1])] == key
        assert _same_direction(vector, EMBEDDINGS.embed_query(text or ""))


def test_the_sample_holds_its_own_rows_not_views_of_the_pages() -> None:
    """A sampled row that is a view keeps its page alive: a sample spread over every page of a
    large store would hold the whole store."""
    from ragtel.monitor._stores import Sampled

    sample = Sampled(limit=10)
    pages = [np.random.default_rng(n).normal(size=(PAGE, 4)).astype(np.float32) for n in range(3)]
    for n, page in enumerate(pages):
        keys = [f"{n}-{row}" for row in range(PAGE)]
        sample.add(keys, [None] * PAGE, page)
    assert sample.seen == 3 * PAGE and len(sample.vectors) == 10
    for key, vector in zip(sample.ids, sample.vectors, strict=True):
        n, row = map(int, key.split("-"))
        assert vector.base is None and np.array_equal(vector, pages[n][row])


def test_a_faiss_index_that_cannot_give_its_vectors_back_is_a_clear_error() -> None:
    import faiss

    store = _langchain_faiss(TEXTS, IDS)
    rng = np.random.default_rng(1)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatL2(8), 8, 2)
    training = rng.normal(size=(200, 8)).astype(np.float32)
    ivf.train(training)
    ivf.add(np.array([EMBEDDINGS.embed_query(t) for t in TEXTS], dtype=np.float32))
    store.index = ivf
    with pytest.raises(TypeError, match="make_direct_map"):
        knowledge_base_from(store)
    ivf.make_direct_map()
    kb = knowledge_base_from(store)
    assert kb.ids == tuple(IDS) and kb.texts == tuple(TEXTS)
    # An index that maps its own ids cannot be read by row (FAISS would abort the process on
    # reconstruct_n); the test process surviving is part of the assertion.
    id_map = faiss.IndexIDMap(faiss.IndexFlatL2(8))
    id_map.add_with_ids(training[:4], np.arange(100, 104))
    store.index = id_map
    with pytest.raises(TypeError, match="IndexIDMap"):
        knowledge_base_from(store)


def test_a_store_whose_properties_raise_is_not_supported_rather_than_a_crash() -> None:
    class Haunted:
        @property
        def _collection(self) -> Any:
            raise ValueError("Chroma collection not initialized")

        @property
        def client(self) -> Any:
            raise RuntimeError("not connected")

    with pytest.raises(TypeError, match="Haunted"):
        knowledge_base_from(Haunted())


def test_an_empty_store_and_a_bad_sample_size_are_value_errors() -> None:
    empty = Chroma("empty-kb", EMBEDDINGS, client=_chroma_client())
    with pytest.raises(ValueError, match="empty"):
        knowledge_base_from(empty)
    with pytest.raises(ValueError, match="max_documents"):
        knowledge_base_from(_langchain_chroma(TEXTS, IDS), max_documents=0)


def test_the_monitor_measures_queries_against_a_chroma_knowledge_base() -> None:
    """The path of a query-time process whose index another process built into Chroma."""
    store = _langchain_chroma(TEXTS, IDS)
    monitor = EmbeddingMonitor(MonitorConfig(window_size=10, baseline_size=5))
    set_monitor(monitor)
    try:
        kb = ragtel.observe_knowledge_base(store)
    finally:
        set_monitor(None)
    assert len(kb) == len(TEXTS)
    # A query worded as a stored document is at distance 0 from the knowledge base; another not.
    same = monitor.observe_query(np.asarray(EMBEDDINGS.embed_query(TEXTS[1])))
    assert same is not None and same.nearest_cosine == pytest.approx(0.0, abs=1e-5)
    other = monitor.observe_query(np.asarray(EMBEDDINGS.embed_query("an unrelated question")))
    assert other is not None and other.nearest_cosine > 0.1
    _, sample = monitor.knowledge_base_sample()
    assert sample is not None and sorted(t or "" for t in sample.texts) == sorted(TEXTS)
