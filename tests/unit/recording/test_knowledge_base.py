"""The monitor's knowledge-base sample is exported as a trace of its own, before the first query
it measures and after it changed, through the text policy; ``ragtel drift`` takes it as the
reference when the traces hold no index build."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import ragtel
from ragtel.analysis.cli import main as drift_main
from ragtel.config import TraceConfig
from ragtel.export import OTLPFileExporter, span_limits_for
from ragtel.monitor import EmbeddingMonitor, KnowledgeBase, MonitorConfig, knowledge_base_from
from ragtel.recording import Recorder, knowledge_base
from tests.synthetic import make_stream

SAMPLE = "ragtel knowledge base sample"


def _setup(
    monitor: EmbeddingMonitor, **config: object
) -> tuple[Recorder, InMemorySpanExporter, TracerProvider]:
    settings = TraceConfig(max_vectors=16, **config)  # type: ignore[arg-type]
    provider = TracerProvider(span_limits=span_limits_for(settings))
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    knowledge_base.forget(monitor)
    return Recorder(provider, settings, monitor=monitor), exporter, provider


def _query(rec: Recorder, vector: np.ndarray, text: str = "how do I pay?") -> None:
    step = rec.start_embedding("q", None, model="mini", texts=[text], role="query")
    step.end_embedding([vector.tolist()])


def _sample_rows(spans: tuple[ReadableSpan, ...]) -> dict[int, tuple[str | None, str | None]]:
    """Batch index -> (id, text) of every sampled document found on the sample's spans."""
    rows: dict[int, tuple[str | None, str | None]] = {}
    for span in spans:
        a = span.attributes or {}
        if a.get("ragtel.embedding.role") != "knowledge_base_sample":
            continue
        offset = int(a.get("ragtel.embedding.offset", 0))  # type: ignore[call-overload]
        ids = list(a.get("ragtel.embedding.document_ids", ()))  # type: ignore[call-overload]
        i = 0
        while f"embedding.embeddings.{i}.embedding.vector" in a:
            text = a.get(f"embedding.embeddings.{i}.embedding.text")
            rows[offset + i] = (ids[i] if i < len(ids) else None, text)  # type: ignore[assignment]
            i += 1
    return rows


KEY = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0"  # a credential pasted into a document


def _kb(n: int = 40, dim: int = 8) -> KnowledgeBase:
    rows = np.random.default_rng(3).normal(size=(n, dim))
    texts = [f"passage {i} uses {KEY}" for i in range(n)]
    return KnowledgeBase.from_rows(rows, [f"doc-{i}" for i in range(n)], texts)


def test_the_sample_is_exported_once_as_its_own_trace_before_the_first_query() -> None:
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=30, seed=0))
    rec, exporter, _ = _setup(monitor)
    monitor.observe_knowledge_base(_kb())
    _query(rec, np.ones(8))
    query_trace = ragtel.last_trace_id()
    spans = exporter.get_finished_spans()
    sample = [s for s in spans if (s.attributes or {}).get("ragtel.embedding.role")
              == "knowledge_base_sample"]  # fmt: skip
    (root,) = [s for s in sample if s.parent is None]
    assert root.name == SAMPLE and len(sample) == 2  # 30 vectors, 16 per span
    assert {s.context.trace_id for s in sample} == {root.context.trace_id}
    assert format(root.context.trace_id, "032x") != query_trace  # not the application's run
    assert "gen_ai.operation.name" not in (root.attributes or {})
    rows = _sample_rows(spans)
    assert sorted(rows) == list(range(30))
    for doc_id, text in rows.values():  # ids and texts through the text policy
        assert doc_id is not None and text == f"passage {doc_id[4:]} uses [REDACTED]"
    exporter.clear()
    _query(rec, np.ones(8))  # unchanged sample: nothing new
    assert [s.name for s in exporter.get_finished_spans()] == ["embeddings mini"]


def test_a_changed_sample_is_exported_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=30, seed=0))
    rec, exporter, _ = _setup(monitor)
    monitor.observe_knowledge_base(_kb(10))
    _query(rec, np.ones(8))
    version = monitor.knowledge_base_version
    monitor.observe_knowledge_base(_kb(10))  # the same documents again: no change
    assert monitor.knowledge_base_version == version
    monitor.observe_knowledge_base(_kb(20))  # ten of them new
    _query(rec, np.ones(8))  # changed, but within the interval: not yet
    assert len([s for s in exporter.get_finished_spans() if s.name == SAMPLE]) == 1
    monkeypatch.setattr(knowledge_base, "MIN_INTERVAL_S", 0.0)
    _query(rec, np.ones(8))
    assert len([s for s in exporter.get_finished_spans() if s.name == SAMPLE]) == 2
    assert len(_sample_rows(exporter.get_finished_spans())) == 20


def test_a_failed_sample_export_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=30, seed=0))
    rec, exporter, _ = _setup(monitor)
    monitor.observe_knowledge_base(_kb(10))
    working = monitor.knowledge_base_sample

    def broken() -> None:
        raise RuntimeError("store unavailable")

    monkeypatch.setattr(monitor, "knowledge_base_sample", broken)
    _query(rec, np.ones(8))  # the query is recorded; the sample is not
    assert [s.name for s in exporter.get_finished_spans()] == ["embeddings mini"]
    assert ragtel.stats().get("internal_errors", 0) >= 1
    monkeypatch.setattr(monitor, "knowledge_base_sample", working)
    _query(rec, np.ones(8))  # within the interval: not asked again yet
    assert not [s for s in exporter.get_finished_spans() if s.name == SAMPLE]
    monkeypatch.setattr(knowledge_base, "MIN_INTERVAL_S", 0.0)
    _query(rec, np.ones(8))  # same version as the failed attempt, exported now
    assert len([s for s in exporter.get_finished_spans() if s.name == SAMPLE]) == 1
    assert len(_sample_rows(exporter.get_finished_spans())) == 10


def test_without_content_capture_the_sample_is_vectors_only() -> None:
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=30, seed=0))
    rec, exporter, _ = _setup(monitor, capture_content=False)
    monitor.observe_knowledge_base(_kb(10))
    _query(rec, np.ones(8))
    rows = _sample_rows(exporter.get_finished_spans())
    assert len(rows) == 10 and set(rows.values()) == {(None, None)}


def _drift_on_exported_sample(
    tmp_path: Path, kb: KnowledgeBase, sample_size: int
) -> tuple[dict[str, object], list[ReadableSpan]]:
    """The index was built elsewhere: the file holds queries and the monitor's sample only."""
    stream = make_stream(seed=0)
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=sample_size, seed=0))
    settings = TraceConfig()
    provider = TracerProvider(span_limits=span_limits_for(settings))
    path = tmp_path / "spans.jsonl"
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(OTLPFileExporter(path)))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    knowledge_base.forget(monitor)
    rec = Recorder(provider, settings, monitor=monitor)
    monitor.observe_knowledge_base(kb)
    for i, vector in enumerate(stream.queries):
        kind = "off" if stream.off_topic[i] else "on"
        _query(rec, vector, f"question {i} {kind}")
    provider.shutdown()
    out = tmp_path / "report"
    assert drift_main(["drift", str(path), "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    top = summary["gaps"][0]["queries_text"]
    assert sum(" off" in t for t in top) / len(top) >= 0.9
    return summary, list(memory.get_finished_spans())


def _stream_kb() -> KnowledgeBase:
    documents = make_stream(seed=0).documents
    texts = [f"document {i}" for i in range(len(documents))]
    return KnowledgeBase.from_rows(documents, None, texts)


def test_ragtel_drift_takes_the_exported_sample_as_reference(tmp_path: Path) -> None:
    summary, _ = _drift_on_exported_sample(tmp_path, _stream_kb(), 1000)
    assert summary["knowledge_base"] == "the knowledge-base sample exported by the monitor"
    counts = summary["counts"]
    assert isinstance(counts, dict)
    assert counts["documents"] == counts["knowledge_base_documents"] == 720  # < the 1,000 sample


def test_a_sampled_knowledge_base_says_how_many_documents_it_stands_for(tmp_path: Path) -> None:
    # A store read with max_documents=600 (of 720), then kept by a monitor sampling 500: the
    # span, summary.json and the report all say the reference is 500 of 720 documents.
    read = knowledge_base_from(_stream_kb(), max_documents=600)
    assert read.sampled_from == 720
    summary, spans = _drift_on_exported_sample(tmp_path, read, 500)
    (root,) = [s for s in spans if s.name == SAMPLE and s.parent is None]
    assert (root.attributes or {})["ragtel.knowledge_base.documents"] == 720
    assert summary["knowledge_base"] == (
        "the knowledge-base sample exported by the monitor (500 of 720 documents)"
    )
    counts = summary["counts"]
    assert isinstance(counts, dict)
    assert counts["documents"] == 500 and counts["knowledge_base_documents"] == 720
    assert "(500 of 720 documents)" in (tmp_path / "report" / "report.html").read_text()


def test_no_sample_when_the_traces_hold_the_index_build() -> None:
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=30, seed=0))
    rec, exporter, _ = _setup(monitor)
    step = rec.start_embedding("i", None, model="mini", texts=["a", "b"], role="document")
    step.end_embedding([[1.0] * 8, [0.5] * 8])
    _query(rec, np.ones(8))
    assert SAMPLE not in [s.name for s in exporter.get_finished_spans()]
    assert monitor.context_count == 2  # the monitor measured against them all the same
