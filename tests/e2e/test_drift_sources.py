"""``ragtel drift`` reading spans from a live Jaeger and a live Phoenix.

A synthetic query stream whose second half drifts to a topic the documents lack
(``tests.synthetic.make_stream``) is recorded as the spans ragtel exports: an indexing
trace with the document vectors, then one trace per query (chain, query embedding, retrieval,
model call), spread over the last hours, and the users' thumbs up or down given afterwards with
``ragtel.record_feedback``. The same spans go to the backend over OTLP and to an
``OTLPFileExporter`` file. ``ragtel drift`` on the backend must then report what it reports on the
file: the same numbers of spans, queries, context vectors and feedback records, the same drift per
window and the same knowledge-gap clusters.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from backends import Collector, Jaeger, Phoenix, flatten_spans, poll
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from ragtel_pipeline import unique_service
from tests.synthetic import make_stream

import ragtel
from ragtel.analysis._collect import Collector as SpanCollector
from ragtel.analysis._sources import JaegerSource, Progress
from ragtel.cli import main as ragtel_main

NS = 1_000_000_000
QUERIES = 600
DIMENSIONS = 64
QUERY_INTERVAL_NS = 15 * NS  # 600 queries over the last 2.5 hours
DOCUMENTS_PER_TOPIC = 40
TOPICS = 4
DOCUMENT_BATCH = 16


@dataclass
class Exported:
    """What was sent, and the file holding the same spans."""

    service: str
    file: Path
    spans: int = 0
    query_starts: dict[str, int] = field(default_factory=dict)  # trace id -> query start
    off_topic: set[str] = field(default_factory=set)
    feedback: int = 0
    negative_feedback: int = 0


def export_drift_stream(service: str, directory: Path, **configure: Any) -> Exported:
    """Record the synthetic stream through ``ragtel.configure(service, **configure)``, with an
    ``OTLPFileExporter`` on the same provider."""
    stream = make_stream(
        seed=1,
        dim=DIMENSIONS,
        topics=TOPICS,
        subtopics=6,
        documents_per_topic=DOCUMENTS_PER_TOPIC,
        queries=QUERIES,
        change_at=QUERIES // 2,
    )
    out = Exported(service, directory / "spans.jsonl")
    lost = ("spans_lost_export_failed", "spans_lost_queue_full")
    lost_before = [ragtel.stats().get(counter, 0) for counter in lost]
    provider = ragtel.configure(service, **configure)
    assert isinstance(provider, TracerProvider)
    file_exporter = ragtel.OTLPFileExporter(out.file)
    provider.add_span_processor(SimpleSpanProcessor(file_exporter))
    tracer = provider.get_tracer("ragtel.e2e.drift")
    rng = np.random.default_rng(5)
    now = time.time_ns()
    first = now - (QUERIES + 2) * QUERY_INTERVAL_NS

    def span(name: str, start: int, attributes: dict[str, Any], parent: Any = None) -> Any:
        out.spans += 1
        context = trace.set_span_in_context(parent) if parent is not None else None
        return tracer.start_span(name, context=context, start_time=start, attributes=attributes)

    index = span("index", first, {"openinference.span.kind": "CHAIN"})
    for b, begin in enumerate(range(0, len(stream.documents), DOCUMENT_BATCH)):
        attributes: dict[str, Any] = {
            "openinference.span.kind": "EMBEDDING",
            "ragtel.embedding.role": "document",
            "embedding.model_name": "synthetic-64",
        }
        for i, row in enumerate(stream.documents[begin : begin + DOCUMENT_BATCH]):
            topic = int(stream.document_topics[begin + i])
            attributes[f"embedding.embeddings.{i}.embedding.vector"] = row.tolist()
            attributes[f"embedding.embeddings.{i}.embedding.text"] = f"passage on topic {topic}"
        span("embeddings synthetic-64", first + (b + 1) * 1000, attributes, index).end(
            first + (b + 2) * 1000
        )
    index.end(first + NS)

    judgements: list[tuple[str, int, bool]] = []
    for q, row in enumerate(stream.queries):
        t = first + (q + 1) * QUERY_INTERVAL_NS
        off = bool(stream.off_topic[q])
        text = f"question {q} ({'off-topic' if off else 'on-topic'})"
        root = span(
            "RunnableSequence", t, {"openinference.span.kind": "CHAIN", "input.value": text}
        )
        trace_id = format(root.get_span_context().trace_id, "032x")
        embedding = {
            "openinference.span.kind": "EMBEDDING",
            "ragtel.embedding.role": "query",
            "embedding.model_name": "synthetic-64",
            "embedding.embeddings.0.embedding.vector": row.tolist(),
            "embedding.embeddings.0.embedding.text": text,
        }
        span("embeddings synthetic-64", t + 1000, embedding, root).end(t + 2000)
        span("retrieval", t + 3000, {"openinference.span.kind": "RETRIEVER"}, root).end(t + 4000)
        llm = {"openinference.span.kind": "LLM", "llm.token_count.total": 42}
        span("chat synthetic", t + 5000, llm, root).end(t + 9000)
        root.end(t + 10_000)
        out.query_starts[trace_id] = t
        if off:
            out.off_topic.add(trace_id)
        if rng.random() < 0.3:
            bad = off or rng.random() < 0.1
            judgements.append((trace_id, root.get_span_context().span_id, bad))
        if q % 100 == 99:
            # Spans are made far faster than a service makes them: keep the batch processor's
            # queue (2048 spans) from overflowing on a busy machine.
            assert provider.force_flush(30_000)

    # Users judge answers later: the feedback spans start now, hours after their traces.
    for trace_id, root_id, bad in judgements:
        ragtel.record_feedback(
            trace_id,
            span_id=root_id,
            score=0.0 if bad else 1.0,
            label="thumbs_down" if bad else "thumbs_up",
        )
        out.spans += 1
        out.feedback += 1
        out.negative_feedback += bad
    assert provider.force_flush(60_000)
    file_exporter.shutdown()
    assert [ragtel.stats().get(counter, 0) for counter in lost] == lost_before
    return out


def ragtel_drift(source: str, out: Path, *options: str) -> dict[str, Any]:
    """``ragtel drift SOURCE --out OUT --no-progress OPTIONS``; returns summary.json."""
    code = ragtel_main(["drift", source, "--out", str(out), "--no-progress", *options])
    assert code == 0
    return json.loads((out / "summary.json").read_text())


def assert_same_analysis(live: dict[str, Any], from_file: dict[str, Any], sent: Exported) -> None:
    """The live source's summary agrees with the file's, and both with what was sent."""
    counts = from_file["counts"]
    assert counts["spans"] == sent.spans
    assert counts["queries"] == QUERIES
    assert counts["documents"] == TOPICS * DOCUMENTS_PER_TOPIC
    assert counts["feedback"] == sent.feedback
    assert live["counts"] == counts

    assert live["feedback"] == from_file["feedback"]
    assert live["feedback"]["negative"] == sent.negative_feedback
    assert live["feedback"]["labels"] == {
        "thumbs_down": sent.negative_feedback,
        "thumbs_up": sent.feedback - sent.negative_feedback,
    }

    assert live["window_seconds"] == from_file["window_seconds"]
    assert len(live["windows"]) == len(from_file["windows"])
    for a, b in zip(live["windows"], from_file["windows"], strict=True):
        assert a["start_unix_nano"] == b["start_unix_nano"]
        assert a["queries"] == b["queries"]
        assert a["drift"] == pytest.approx(b["drift"], rel=1e-6, abs=1e-9)
    assert live["max_drift"] == pytest.approx(from_file["max_drift"], rel=1e-6)
    assert live["crossed"] == from_file["crossed"]
    # The drift is largest after the change, when off-topic questions arrive.
    change = sorted(sent.query_starts.values())[QUERIES // 2]
    top = max(from_file["windows"], key=lambda w: w["drift"] or 0.0)
    assert int(top["end_unix_nano"]) > change

    # The off-topic half shows up as a gap, from the backend as from the file. Clustering may
    # depend on the order spans arrive in (Jaeger and Phoenix do not keep the file's order).
    assert from_file["gaps"], "the file's analysis found no gap: the stream is too small"
    live_members = {t for g in live["gaps"] for t in g["trace_ids"]}
    file_members = {t for g in from_file["gaps"] for t in g["trace_ids"]}
    overlap = len(live_members & file_members) / len(live_members | file_members)
    assert overlap >= 0.8, (len(live_members), len(file_members), overlap)
    top = set(live["gaps"][0]["trace_ids"])
    assert len(top & sent.off_topic) >= 0.8 * len(top)
    # Feedback is matched to the gap's queries by trace id: thumbs down, mostly.
    gap_feedback = live["gaps"][0]["feedback"]
    assert gap_feedback is not None and gap_feedback["count"] > 0
    assert gap_feedback["negative"] >= 0.8 * gap_feedback["count"]


def assert_since(source: str, sent: Exported, out: Path, *options: str) -> None:
    """``--since 1h``: only the queries of the last hour (no document vectors are that recent)."""
    before = time.time_ns() - 3600 * NS
    summary = ragtel_drift(source, out, "--since", "1h", *options)
    after = time.time_ns() - 3600 * NS
    most = sum(t >= before for t in sent.query_starts.values())
    least = sum(t >= after for t in sent.query_starts.values())
    assert 200 < least <= summary["counts"]["queries"] <= most
    assert summary["counts"]["documents"] == 0


# -- Jaeger ------------------------------------------------------------------------------------


def _wait_for_jaeger(jaeger: Jaeger, sent: Exported, num_traces: int = 10_000) -> None:
    """Until Jaeger's query API gives every span sent (it stores asynchronously)."""
    start = (min(sent.query_starts.values()) - 3600 * NS) / NS

    def stored() -> int:
        doc = jaeger.query_traces(sent.service, start=start, num_traces=num_traces)
        return len(flatten_spans(doc)) >= sent.spans

    poll(stored, timeout=60, interval=0.5, what=f"{sent.spans} spans in Jaeger")


def test_drift_from_jaeger(jaeger: Jaeger, tmp_path: Path) -> None:
    sent = export_drift_stream(
        unique_service("drift"), tmp_path, endpoint=jaeger.otlp_grpc_endpoint, protocol="grpc"
    )
    _wait_for_jaeger(jaeger, sent)
    from_file = ragtel_drift(str(sent.file), tmp_path / "file")
    source = f"jaeger+{jaeger.query_url}"
    live = ragtel_drift(source, tmp_path / "jaeger", "--service", sent.service)
    assert_same_analysis(live, from_file, sent)
    assert_since(source, sent, tmp_path / "jaeger-since", "--service", sent.service)

    # A busy service: more traces in a 15-minute slice (about 60 here) than Jaeger returns for
    # one query. The full slices are split until every trace is read.
    now = time.time_ns()
    busy = JaegerSource(jaeger.query_url, sent.service, now - 4 * 3600 * NS, now, max_traces=25)
    collected = SpanCollector(service=sent.service)
    for span in busy.spans(Progress(False)):
        collected.add(span)
    assert busy.split_slices > 0 and busy.truncated_slices == 0
    assert collected.spans == sent.spans
    assert collected.query_count == QUERIES
    assert collected.document_count == TOPICS * DOCUMENTS_PER_TOPIC
    assert sum(len(f) for f in collected.feedback.values()) == sent.feedback


def test_drift_from_a_jaeger_that_keeps_few_traces(jaeger: Jaeger, tmp_path: Path) -> None:
    """Jaeger's memory store refuses a search depth above its ``max_traces`` (HTTP 500)."""
    with Jaeger(max_traces=1000) as small:
        sent = export_drift_stream(
            unique_service("drift-small"),
            tmp_path,
            endpoint=small.otlp_grpc_endpoint,
            protocol="grpc",
        )
        _wait_for_jaeger(small, sent, num_traces=1000)
        from_file = ragtel_drift(str(sent.file), tmp_path / "file")
        live = ragtel_drift(
            f"jaeger+{small.query_url}", tmp_path / "jaeger", "--service", sent.service
        )
    assert_same_analysis(live, from_file, sent)


def test_drift_from_jaeger_through_the_collector(
    collector: Collector, jaeger: Jaeger, tmp_path: Path
) -> None:
    sent = export_drift_stream(
        unique_service("drift-collector"),
        tmp_path,
        endpoint=collector.otlp_http_endpoint,
        protocol="http/protobuf",
    )
    _wait_for_jaeger(jaeger, sent)
    from_file = ragtel_drift(str(sent.file), tmp_path / "file")
    live = ragtel_drift(
        f"jaeger+{jaeger.query_url}", tmp_path / "jaeger", "--service", sent.service
    )
    assert_same_analysis(live, from_file, sent)


def test_drift_from_jaeger_needs_a_known_service(
    jaeger: Jaeger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"jaeger+{jaeger.query_url}"
    assert ragtel_main(["drift", source, "--out", str(tmp_path), "--no-progress"]) == 1
    assert "needs --service" in capsys.readouterr().err
    summary = ragtel_drift(source, tmp_path / "none", "--service", unique_service("nobody"))
    assert summary["counts"]["spans"] == 0


# -- Phoenix -----------------------------------------------------------------------------------


def test_drift_from_phoenix(phoenix: Phoenix, tmp_path: Path) -> None:
    project = unique_service("drift")  # ragtel names the Phoenix project after the service
    sent = export_drift_stream(
        project, tmp_path, endpoint=phoenix.otlp_http_endpoint, protocol="http/protobuf"
    )
    # Phoenix writes each span to its database as it arrives: a few thousand take well over a
    # minute when the machine's two cores are shared with the rest of the suite.
    phoenix.spans(project, min_spans=sent.spans, timeout=240)
    from_file = ragtel_drift(str(sent.file), tmp_path / "file")
    source = f"phoenix+{phoenix.url}"
    live = ragtel_drift(source, tmp_path / "phoenix", "--service", project)
    assert_same_analysis(live, from_file, sent)
    assert_since(source, sent, tmp_path / "phoenix-since", "--service", project)


def test_drift_from_phoenix_unknown_project(
    phoenix: Phoenix, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"phoenix+{phoenix.url}"
    project = unique_service("nobody")
    code = ragtel_main(["drift", source, "--service", project,
                        "--out", str(tmp_path), "--no-progress"])  # fmt: skip
    assert code == 1
    assert f"Phoenix has no project {project!r}" in capsys.readouterr().err
