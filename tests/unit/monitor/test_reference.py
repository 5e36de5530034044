"""The monitor's knowledge-base sample holds distinct documents: a document observed again (an
index rebuilt in process, a store loaded beside the recorded index build) keeps one slot and is
counted once, replicas sample the same documents, and repeats do not weigh in the sample."""

from __future__ import annotations

import numpy as np

from ragtel.monitor import EmbeddingMonitor, KnowledgeBase, MonitorConfig

TEXTS = [
    "Refunds are paid within 14 days of the returned item's arrival.",
    "退款将在收到退货后 14 天内支付。",
    "返品到着後14日以内に返金します。",
    "Die Rückerstattung erfolgt innerhalb von 14 Tagen 💶",
    "VPN access needs a hardware key 🔑 registered with IT.",
    "broken surrogate \ud800 in a scraped page",
]


def _documents(n: int, dim: int = 16, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    vectors = np.random.default_rng(seed).normal(size=(n, dim))
    texts = [f"{TEXTS[i % len(TEXTS)]} (section {i})" for i in range(n)]
    return vectors, texts


def _sample_texts(monitor: EmbeddingMonitor) -> set[str | None]:
    _, kb = monitor.knowledge_base_sample()
    assert kb is not None
    return set(kb.texts)


def test_an_index_rebuilt_in_process_keeps_each_document_once() -> None:
    vectors, texts = _documents(300)
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=100))
    monitor.observe_context(vectors, texts=texts)
    version, first = monitor.knowledge_base_sample()
    assert first is not None and first.sampled_from == 300  # no repeat yet: exact
    order = np.random.default_rng(1).permutation(300)
    for batch in np.array_split(order, 7):  # rebuilt, in another order and other batches
        monitor.observe_context(vectors[batch], texts=[texts[i] for i in batch])
    again_version, again = monitor.knowledge_base_sample()
    assert again is not None and again_version == version  # nothing to export again
    assert set(again.texts) == set(first.texts)
    assert monitor.context_count == 600
    # 300 documents, not 600 vectors: estimated from the sample of 100, about 10% off.
    assert again.sampled_from is not None and 240 <= again.sampled_from <= 360
    assert monitor.document_count == again.sampled_from


def test_the_recorded_index_build_and_a_loaded_store_count_each_document_once() -> None:
    vectors, texts = _documents(40)
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=100))
    monitor.observe_context(vectors, texts=texts, recorded=True)  # the index build
    store = KnowledgeBase.from_rows(vectors, [f"doc-{i}" for i in range(40)], texts)
    monitor.observe_knowledge_base(store)  # the same store, loaded by the serving code
    _, kb = monitor.knowledge_base_sample()
    assert kb is not None and len(kb) == 40 and kb.sampled_from is None
    assert monitor.document_count == 40
    assert sorted(kb.ids) == sorted(f"doc-{i}" for i in range(40))  # the store's ids kept


def test_replicas_of_a_service_sample_the_same_documents() -> None:
    vectors, texts = _documents(2_000)
    first = EmbeddingMonitor(MonitorConfig(sample_size=150))
    second = EmbeddingMonitor(MonitorConfig(sample_size=150))
    first.observe_context(vectors, texts=texts)
    order = np.random.default_rng(2).permutation(2_000)
    for batch in np.array_split(order, 13):
        second.observe_context(vectors[batch], texts=[texts[i] for i in batch])
    assert _sample_texts(first) == _sample_texts(second)
    salted = EmbeddingMonitor(MonitorConfig(sample_size=150, seed=7))
    salted.observe_context(vectors, texts=texts)
    assert _sample_texts(salted) != _sample_texts(first)  # another seed, another sample


def test_repeated_documents_do_not_weigh_more_in_the_sample() -> None:
    # 10,000 documents whose first coordinate is their number; the upper half observed five
    # times over (re-indexed often). A sample of observations would hold about 83% of the upper
    # half; a sample of documents holds about half, and counts 10,000 of them.
    n = 10_000
    rows = np.column_stack([np.arange(n, dtype=np.float64), np.ones(n)])
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=400))
    monitor.observe_context(rows)  # vectors only: keyed by the vector itself
    for _ in range(4):
        monitor.observe_context(rows[n // 2 :])
    _, kb = monitor.knowledge_base_sample()
    assert kb is not None and len(kb) == 400
    upper = float((kb.vectors[:, 0] >= n // 2).mean())
    assert 0.4 < upper < 0.6
    assert monitor.context_count == 30_000
    assert kb.sampled_from is not None and 8_500 <= kb.sampled_from <= 11_500


def test_without_repeats_the_count_stays_exact_beyond_the_sample() -> None:
    vectors, texts = _documents(20_000, dim=8)
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=1_000))
    for batch in np.array_split(np.arange(20_000), 9):
        monitor.observe_context(vectors[batch], texts=[texts[i] for i in batch])
    assert monitor.document_count == 20_000
    _, kb = monitor.knowledge_base_sample()
    assert kb is not None and kb.sampled_from == 20_000


def test_a_passage_embedded_again_replaces_its_vector() -> None:
    vectors, texts = _documents(10)
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=100))
    monitor.observe_context(vectors, texts=texts)
    version, _ = monitor.knowledge_base_sample()
    newer = vectors.copy()
    newer[3] *= -1.0  # the same passage through a new embedding model version
    monitor.observe_context(newer[3:4], texts=texts[3:4])
    again_version, kb = monitor.knowledge_base_sample()
    assert kb is not None and again_version != version and len(kb) == 10
    row = kb.texts.index(texts[3])
    assert np.allclose(kb.vectors[row], newer[3], atol=1e-6)
    assert monitor.document_count == 10


def test_documents_without_text_are_told_apart_by_id_then_by_vector() -> None:
    vectors, _ = _documents(12)
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=100))
    monitor.observe_context(vectors[:6], ids=[f"img-{i}" for i in range(6)], texts=[""] * 6)
    monitor.observe_context(vectors[6:], texts=[None] * 6)
    monitor.observe_context(vectors[6:])  # the same vectors again, no labels: no new document
    assert monitor.document_count == 12 and monitor.context_count == 18
