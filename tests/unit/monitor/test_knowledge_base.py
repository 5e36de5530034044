"""knowledge_base_from: the knowledge base read out of the stores users keep it in."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.vectorstores import InMemoryVectorStore, VectorStore
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding

from ragtel.monitor import EmbeddingMonitor, KnowledgeBase, MonitorConfig, knowledge_base_from

TEXTS = ["Invoices are issued on the 1st.", "Refunds take 5 days.", "Passwords reset by email."]


def test_langchain_in_memory_store_and_its_retriever() -> None:
    embeddings = DeterministicFakeEmbedding(size=8)
    store = InMemoryVectorStore(embeddings)
    store.add_texts(TEXTS, ids=["inv", "ref", "pwd"])
    for source in (store, store.as_retriever()):
        kb = knowledge_base_from(source)
        assert kb.ids == ("inv", "ref", "pwd") and kb.texts == tuple(TEXTS)
        assert kb.vectors.shape == (3, 8) and kb.vectors.dtype == np.float32
        assert np.allclose(kb.vectors[1], embeddings.embed_query(TEXTS[1]), atol=1e-6)


def test_llamaindex_vector_store_index_with_node_texts() -> None:
    index = VectorStoreIndex.from_documents(
        [Document(text=t, id_=f"d{i}") for i, t in enumerate(TEXTS)],
        embed_model=MockEmbedding(embed_dim=5),
    )
    kb = knowledge_base_from(index)
    assert kb.vectors.shape == (3, 5)
    assert sorted(t or "" for t in kb.texts) == sorted(TEXTS)
    assert set(kb.ids) == set(index.vector_store.data.embedding_dict)
    # The vector store alone gives ids and vectors, but no texts.
    bare = knowledge_base_from(index.vector_store)
    assert bare.vectors.shape == (3, 5) and bare.texts == (None, None, None)


class _RemoteStore(VectorStore):
    """A store that keeps its vectors elsewhere (a database): nothing to read in process."""

    def add_texts(self, texts: Any, metadatas: Any = None, **kwargs: Any) -> list[str]:
        return []

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Any]:
        return []

    @classmethod
    def from_texts(cls, texts: Any, embedding: Any, metadatas: Any = None, **kw: Any) -> Any:
        return cls()


def test_a_store_that_does_not_expose_vectors_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"_RemoteStore.*--knowledge-base"):
        knowledge_base_from(_RemoteStore())
    with pytest.raises(TypeError, match="does not expose them"):
        knowledge_base_from(object())


def test_empty_or_broken_knowledge_bases_are_value_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        knowledge_base_from(InMemoryVectorStore(DeterministicFakeEmbedding(size=4)))
    with pytest.raises(ValueError, match="NaN"):
        KnowledgeBase.from_rows([[1.0, float("nan")]])
    with pytest.raises(ValueError, match="one id"):
        KnowledgeBase.from_rows([[1.0], [2.0]], ids=["a"])


def test_the_monitor_samples_a_knowledge_base_with_its_ids_and_texts() -> None:
    rows = np.random.default_rng(0).normal(size=(50, 6))
    kb = KnowledgeBase.from_rows(rows, [f"id-{i}" for i in range(50)], [f"t{i}" for i in range(50)])
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=20, seed=1))
    assert monitor.knowledge_base_sample() == (0, None)
    monitor.observe_knowledge_base(kb)
    version, sample = monitor.knowledge_base_sample()
    assert version > 0 and sample is not None and len(sample) == 20
    for doc_id, text, vector in sample.rows():
        i = int(doc_id.removeprefix("id-"))
        assert text == f"t{i}" and np.allclose(vector, rows[i], atol=1e-6)
    monitor.observe_context(rows[:5])  # no labels: the sample may change, ids become numbered
    assert monitor.knowledge_base_version >= version


def test_a_sample_says_how_many_documents_it_was_drawn_from() -> None:
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=8))
    store.add_texts(TEXTS, ids=["inv", "ref", "pwd"])
    kb = knowledge_base_from(store, max_documents=2)
    assert len(kb) == 2 and kb.sampled_from == 3
    assert set(kb.ids) <= {"inv", "ref", "pwd"}
    for doc_id, text, _ in kb.rows():
        assert text == TEXTS[["inv", "ref", "pwd"].index(doc_id)]
    whole = knowledge_base_from(store, max_documents=5)
    assert len(whole) == 3 and whole.sampled_from is None


def test_in_memory_stores_are_sampled_over_every_page() -> None:
    # More documents than one page: the sample must reach into every page, not stop at the first.
    count = 2_600
    texts = [f"document {i} of the handbook, 手册 {i}" for i in range(count)]
    embeddings = DeterministicFakeEmbedding(size=4)
    store = InMemoryVectorStore(embeddings)
    store.add_texts(texts, ids=[f"d{i}" for i in range(count)])
    index = VectorStoreIndex.from_documents(
        [Document(text=t, id_=f"n{i}") for i, t in enumerate(texts[:1_500])],
        embed_model=MockEmbedding(embed_dim=3),
    )
    for source, total in ((store, count), (index, 1_500)):
        kb = knowledge_base_from(source, max_documents=300)
        assert len(kb) == 300 and kb.sampled_from == total and len(set(kb.ids)) == 300
        numbers = [int(t.split()[1]) for t in kb.texts if t is not None]
        assert len(numbers) == 300
        assert min(numbers) < total // 3 and max(numbers) >= 2 * total // 3
    sampled = knowledge_base_from(store, max_documents=300)
    for doc_id, text, vector in list(sampled.rows())[:20]:
        assert text == texts[int(doc_id[1:])]
        assert np.allclose(vector, embeddings.embed_query(text), atol=1e-6)
