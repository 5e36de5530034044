"""The knowledge base built by another process: an ingestion job (its own Python process)
embeds it through ``TracedEmbeddings`` and exports to the real Collector, which forwards to Jaeger;
this process only answers questions. ``ragtel drift`` reading Jaeger alone finds the topic the
knowledge base lacks, with the reference taken

- from the ingestion job's index build (same service: every one of its 240 document vectors is
  recorded, over continuation spans), or
- from the sample this process's monitor exported (the serving service differs from the job's and
  opens the store the job left: a dumped ``InMemoryVectorStore``, a Chroma collection persisted
  on disk, or one kept by a real Chroma server; ``ragtel.observe_knowledge_base``), or
- from that Chroma server itself (``ragtel drift --knowledge-base http://HOST:PORT``).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from backends import ChromaServer, Collector, Jaeger, flatten_spans, poll
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore
from ragtel_pipeline import unique_service
from tests.synthetic import SyntheticStream, make_stream

import ragtel
from ragtel.cli import main as ragtel_main
from ragtel.langchain import TracedEmbeddings
from ragtel.recording.monitor_hook import set_monitor

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
QUERIES = 600


def _stream() -> SyntheticStream:
    # 384-d vectors shaped like all-MiniLM-L6-v2's; 6 topics of 40 passages, one more asked about.
    return make_stream(seed=4, documents_per_topic=40, queries=QUERIES, change_at=QUERIES // 2)


def _texts(stream: SyntheticStream) -> list[str]:
    return [f"passage {i} on topic {int(t)}" for i, t in enumerate(stream.document_topics)]


def _ingest(stream: SyntheticStream, tmp: Path, service: str, collector: Collector,
            store: Path | str | None = None) -> dict[str, Any]:  # fmt: skip
    """Run the ingestion job in its own process; return its ragtel.stats()."""
    documents = tmp / "documents.npz"
    np.savez(documents, vectors=stream.documents, texts=np.array(_texts(stream)))
    command = [sys.executable, str(HERE / "ingestion_job.py"), str(documents), service,
               collector.otlp_grpc_endpoint] + ([str(store)] if store else [])  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src"),
                               "RAGTEL_MONITOR": "false"})  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


class _QueryModel(Embeddings):
    """The serving process's embedding model: the stream's query vectors for its questions."""

    def __init__(self, stream: SyntheticStream) -> None:
        self.questions = [
            f"question {q} ({'off-topic' if off else 'on-topic'})"
            for q, off in enumerate(stream.off_topic)
        ]
        self.table = dict(zip(self.questions, stream.queries.tolist(), strict=True))

    def embed_query(self, text: str) -> list[float]:
        return self.table[text]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.table[t] for t in texts]


def _serve(stream: SyntheticStream, service: str, collector: Collector) -> dict[str, bool]:
    """Embed every question through TracedEmbeddings; return trace id -> off-topic."""
    model = _QueryModel(stream)
    provider = ragtel.configure(
        service_name=service, endpoint=collector.otlp_grpc_endpoint, protocol="grpc"
    )
    embeddings = TracedEmbeddings(model, model_name="synthetic-minilm")
    traces: dict[str, bool] = {}
    for q, question in enumerate(model.questions):
        embeddings.embed_query(question)
        trace_id = ragtel.last_trace_id()
        assert trace_id is not None
        traces[trace_id] = bool(stream.off_topic[q])
        if q % 100 == 99:
            assert provider.force_flush(30_000)  # type: ignore[attr-defined]
    assert provider.force_flush(60_000)  # type: ignore[attr-defined]
    return traces


def _wait(jaeger: Jaeger, service: str, spans: int) -> None:
    def stored() -> bool:
        return len(flatten_spans(jaeger.query_traces(service, num_traces=5000))) >= spans

    poll(stored, timeout=90, interval=1.0, what=f"{spans} spans of {service} in Jaeger")


def _drift(jaeger: Jaeger, service: str, out: Path, *options: str) -> dict[str, Any]:
    code = ragtel_main(["drift", f"jaeger+{jaeger.query_url}", "--service", service,
                        "--out", str(out), "--no-progress", *options])  # fmt: skip
    assert code == 0
    return dict(json.loads((out / "summary.json").read_text()))


def _assert_gap_found(summary: dict[str, Any], traces: dict[str, bool]) -> None:
    assert summary["counts"]["queries"] == QUERIES
    assert summary["gaps"], "no gap found"
    top = summary["gaps"][0]["trace_ids"]
    off = {t for t, o in traces.items() if o}
    hits = sum(t in off for t in top)
    assert hits / len(top) >= 0.9, (hits, len(top))
    assert hits / len(off) >= 0.8, (hits, len(off))
    # Named from texts two processes recorded: the questions' word for the missing topic, and
    # not one of the knowledge base's passages (read back from the other process's spans).
    counts = summary["counts"]
    assert counts["sampled_documents_with_text"] == counts["sampled_documents"] > 0
    name = summary["gaps"][0]["terms"][0]
    assert name["term"] == "off-topic", summary["gaps"][0]["terms"]
    assert name["knowledge_base_documents"] == 0


def test_index_built_by_another_process_is_the_reference(
    collector: Collector, jaeger: Jaeger, tmp_path: Path
) -> None:
    stream = _stream()
    service = unique_service("kb-ingest")
    set_monitor(None)
    stats = _ingest(stream, tmp_path, service, collector)
    assert stats.get("vectors_not_recorded", 0) == 0
    # 240 vectors, 32 per span (max_vectors): the batch's span and 7 continuation spans.
    traces = _serve(stream, service, collector)
    _wait(jaeger, service, 8 + QUERIES)
    summary = _drift(jaeger, service, tmp_path / "report")
    assert summary["knowledge_base"] == "index builds in the traces"
    assert summary["counts"]["documents"] == len(stream.documents)
    _assert_gap_found(summary, traces)


def _open_store(kind: str, path: Path, server: ChromaServer | None) -> Any:
    """The store as the serving process opens what the ingestion job left behind."""
    if kind == "in-memory":
        return InMemoryVectorStore.load(str(path), embedding=None)  # type: ignore[arg-type]
    import chromadb
    from ingestion_job import CHROMA_COLLECTION
    from langchain_chroma import Chroma

    if server is not None:
        return Chroma(CHROMA_COLLECTION, client=server.client())
    settings = chromadb.Settings(anonymized_telemetry=False)
    return Chroma(CHROMA_COLLECTION, persist_directory=str(path), client_settings=settings)


@pytest.mark.parametrize("kind", ["in-memory", "chroma", "chroma-server"])
def test_the_serving_process_exports_the_knowledge_base_it_loaded(
    kind: str, collector: Collector, jaeger: Jaeger, tmp_path: Path
) -> None:
    stream = _stream()
    store_path = tmp_path / ("store.json" if kind == "in-memory" else "chroma")
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(ChromaServer(store_path)) if kind == "chroma-server" else None
        _serve_from_store(kind, stream, store_path, server, collector, jaeger, tmp_path)


def _serve_from_store(
    kind: str,
    stream: SyntheticStream,
    store_path: Path,
    server: ChromaServer | None,
    collector: Collector,
    jaeger: Jaeger,
    tmp_path: Path,
) -> None:
    store_arg = server.url if server is not None else store_path
    _ingest(stream, tmp_path, unique_service("kb-job"), collector, store=store_arg)
    service = unique_service("kb-serve")
    set_monitor(None)  # a fresh process-wide monitor for this "process"
    store = _open_store(kind, store_path, server)
    ragtel.configure(service_name=service, endpoint=collector.otlp_grpc_endpoint, protocol="grpc")
    kb = ragtel.observe_knowledge_base(store)
    assert sorted(kb.ids) == sorted(f"doc-{i}" for i in range(len(stream.documents)))
    assert kb.texts[kb.ids.index("doc-7")] == _texts(stream)[7]
    assert np.allclose(kb.vectors[kb.ids.index("doc-7")], stream.documents[7], atol=1e-6)
    traces = _serve(stream, service, collector)
    # Queries, plus the sample (240 vectors, 32 per span: 8 spans) exported before the first.
    _wait(jaeger, service, QUERIES + 8)
    summary = _drift(jaeger, service, tmp_path / "report")
    assert summary["knowledge_base"] == "the knowledge-base sample exported by the monitor"
    assert summary["counts"]["documents"] == len(stream.documents)
    _assert_gap_found(summary, traces)
    set_monitor(None)
    if server is not None:
        # Offline, from the server itself: the same gap, the sample in the traces replaced.
        summary = _drift(jaeger, service, tmp_path / "from-server", "--knowledge-base", server.url)
        assert summary["knowledge_base"] == f"store {server.url}"
        assert summary["counts"]["documents"] == len(stream.documents)
        _assert_gap_found(summary, traces)
