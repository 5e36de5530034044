"""``ragtel demo --scenario drift``, then ``ragtel drift`` on its output, as a user runs them: the
report shows the drift after the change and names the missing topic (managed databases)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import ragtel
from ragtel.cli import main
from ragtel.demo.corpus import DOCUMENTS, OFF_TOPIC_QUESTIONS
from ragtel.recording.monitor_hook import set_monitor

# Enough queries that, whatever round window width the analysis picks (it aims at ~100 queries
# a window), whole windows fall on both sides of the change half-way. The demo answers a few
# hundred questions a second.
QUERIES = 1200
OFF_TOPIC = frozenset(OFF_TOPIC_QUESTIONS)


@dataclass(frozen=True)
class Query:
    trace_id: str
    start_ns: int
    text: str


@dataclass(frozen=True)
class Run:
    summary: dict[str, Any]
    queries: list[Query]  # in start order

    @property
    def change_ns(self) -> int:
        """Start of the first query of the stream's second half, where the drift begins."""
        return self.queries[QUERIES // 2].start_ns


def _value(attribute: dict[str, Any]) -> Any:
    value = attribute["value"]
    return next(iter(value.values())) if value else None


def _query_spans(path: Path) -> list[Query]:
    """The query embeddings in an OTLP JSON-lines file, read without ragtel's own reader."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        for resource in json.loads(line).get("resourceSpans", []):
            for scope in resource.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    attrs = {a["key"]: _value(a) for a in span.get("attributes", [])}
                    if attrs.get("ragtel.embedding.role") != "query":
                        continue
                    text = attrs["embedding.embeddings.0.embedding.text"]
                    found.append(Query(span["traceId"], int(span["startTimeUnixNano"]), text))
    return sorted(found, key=lambda q: q.start_ns)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    directory = tmp_path_factory.mktemp("drift-scenario")
    traces, report = directory / "traces.jsonl", directory / "report"
    try:
        code = main(["demo", "--scenario", "drift", "--quiet", "--out", str(traces),
                     "--queries", str(QUERIES)])  # fmt: skip
    finally:
        ragtel.uninstrument()
        set_monitor(None)
    assert code == 0
    assert main(["drift", str(traces), "--out", str(report), "--no-progress"]) == 0
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    yield Run(summary, _query_spans(traces))


def test_every_query_and_the_indexed_corpus_reach_the_analysis(run: Run) -> None:
    counts = run.summary["counts"]
    assert counts["queries"] == len(run.queries) == QUERIES
    # The index build's embed_documents call is the knowledge base the queries are compared to.
    assert counts["documents"] == len(DOCUMENTS)
    assert not any(q.text in OFF_TOPIC for q in run.queries[: QUERIES // 2])
    off_topic = sum(q.text in OFF_TOPIC for q in run.queries)
    assert 0.3 * (QUERIES // 2) < off_topic < 0.5 * (QUERIES // 2)


def test_drift_rises_after_the_change_and_crosses_the_threshold(run: Run) -> None:
    summary = run.summary
    assert summary["window_seconds"] < 60, "a run of seconds needs sub-minute windows"
    windows = [w for w in summary["windows"] if w["drift"] is not None]
    # Windows wholly on one side of the change; the first is the reference (drift 0).
    before = [w for w in windows[1:] if int(w["end_unix_nano"]) <= run.change_ns]
    after = [w for w in windows if int(w["start_unix_nano"]) >= run.change_ns]
    assert before and after, [(w["queries"], w["drift"]) for w in summary["windows"]]
    drift_before = [w["drift"] for w in before]
    drift_after = [w["drift"] for w in after]
    assert min(drift_after) > sum(drift_before) / len(drift_before), (drift_before, drift_after)
    assert any(w["drift"] > w["threshold"] for w in after), (drift_after, after[0]["threshold"])
    assert not any(w["drift"] > w["threshold"] for w in before), "false alarm before the change"
    assert summary["crossed"]


def test_top_gap_is_the_database_questions(run: Run) -> None:
    gaps = run.summary["gaps"]
    assert gaps, "no knowledge gap found"
    top = gaps[0]
    texts = top["queries_text"]
    assert len(texts) == top["queries"] == len(top["trace_ids"])
    hits = sum(t in OFF_TOPIC for t in texts)
    asked = sum(q.text in OFF_TOPIC for q in run.queries)
    precision, recall = hits / len(texts), hits / asked
    assert precision >= 0.9 and recall >= 0.8, (precision, recall)
    # The examples a reader sees first (most typical first) are database questions.
    assert all(t in OFF_TOPIC for t in texts[:5]), texts[:5]
    assert top["query_share"] > 0.6
    # Its name is the missing topic, a word the knowledge base never uses: every indexed
    # document's text was read to say so.
    counts = run.summary["counts"]
    assert counts["sampled_documents_with_text"] == counts["documents"] == len(DOCUMENTS)
    first = top["terms"][0]
    assert first["term"] == "database", top["terms"]
    assert first["knowledge_base_documents"] == 0
    assert first["queries"] >= 0.8 * top["queries"]
    assert first["other_queries"] <= 0.1 * first["queries"]  # the few database questions left out
    # One gap per missing topic: no other group made mostly of on-topic questions.
    for other in gaps[1:]:
        assert sum(t in OFF_TOPIC for t in other["queries_text"]) * 2 >= other["queries"]


def test_negative_feedback_is_concentrated_in_the_gap(run: Run) -> None:
    overall = run.summary["feedback"]
    top = run.summary["gaps"][0]["feedback"]
    assert overall["labels"].get("thumbs_up", 0) > 0 and overall["negative"] > 0
    assert top is not None
    # Nearly every thumbs-down of the run sits in the gap, and the gap holds almost no other.
    assert top["negative"] >= 0.8 * overall["negative"], (top, overall)
    assert top["negative"] >= 0.9 * top["count"], top
    assert top["mean_score"] < 0.1 < overall["mean_score"]
