"""Offline drift analysis: windows, drift against a reference, distances, knowledge gaps.

Input is a :class:`~ragtel.analysis._collect.Collector` filled from any span source; output is a
:class:`DriftAnalysis` that the report writer and ``summary.json`` render. numpy only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ragtel.analysis._collect import Bucket, Collector
from ragtel.analysis._sources import SourceError
from ragtel.analysis._spans import Embedding, Feedback
from ragtel.analysis.gap_terms import GapTerm, TermIndex
from ragtel.analysis.gaps import GapAnalysis, GapParams, find_gaps
from ragtel.monitor._baseline import Baseline

NS = 1_000_000_000
# Window widths offered when none is given: round numbers a person reads at a glance. The
# sub-minute ones serve short runs (a demo, a test, a load test of a few minutes).
NICE_WINDOWS_S = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 300, 900, 3600, 3 * 3600, 6 * 3600,
                  86400, 7 * 86400, 30 * 86400)  # fmt: skip
TARGET_WINDOWS = 20
# Fewer windows when there are few queries. With no drift at all a window's centroid moves by
# about sqrt(spread / queries), spread being the queries' mean squared distance to their centroid
# (up to 1 for unit vectors): windows of a few dozen queries show mostly that noise. In the
# demo's drift scenario, 20-query windows leave a 40% shift to a missing topic under the
# automatic threshold; windows of about this many queries show it.
TARGET_WINDOW_QUERIES = 100
# The offline threshold: this multiple of the drift that sampling noise alone gives a window
# (its root mean square). Windows here are time slices of uneven size, compared once each, not
# the in-process monitor's sliding window checked on every query, whose threshold is a far
# quantile instead (ragtel.monitor._drift).
DEFAULT_DRIFT_AUTO_FACTOR = 1.25
MIN_WINDOWS = 4
# A window with fewer queries than this has a centroid too noisy to call drift on.
MIN_WINDOW_QUERIES = 10
# Labels counted as negative feedback (lower-cased); scores are reported as a mean instead,
# since their scale (0..1, 1..5, -1..1) is the application's choice.
NEGATIVE_LABELS = frozenset({
    "negative", "thumbs_down", "thumbs-down", "thumbsdown", "bad", "incorrect", "wrong",
    "unhelpful", "not_helpful", "irrelevant", "hallucination", "no", "down", "fail", "👎",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class WindowStats:
    """One time window of queries."""

    start_ns: int
    end_ns: int
    queries: int
    drift: float | None
    threshold: float | None
    nearest_cosine: tuple[float, float, float] | None  # p10, median, p90 of sampled queries
    centroid_distance: tuple[float, float, float] | None


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    """Feedback on the traces of a group of queries."""

    count: int
    mean_score: float | None
    negative: int
    labels: dict[str, int]


@dataclass(frozen=True, slots=True)
class NearestDocument:
    """A knowledge-base document near a gap's queries: what the knowledge base has instead."""

    doc_id: str | None
    text: str | None
    similarity: float  # cosine similarity to the centre of the gap's queries


@dataclass(frozen=True, slots=True)
class GapReport:
    """A knowledge gap as reported."""

    rank: int
    query_share: float
    queries: int
    documents: int
    coverage: float
    members: list[Embedding] = field(repr=False)
    feedback: FeedbackSummary | None = None
    nearest_documents: list[NearestDocument] = field(default_factory=list)
    member_feedback: dict[str, list[Feedback]] = field(default_factory=dict, repr=False)
    # What its queries are about: the terms that set them apart from the other queries (empty
    # when their text was not captured).
    terms: list[GapTerm] = field(default_factory=list)

    def name(self) -> str:
        """Its terms joined, or "" when there are none."""
        return ", ".join(t.term for t in self.terms)

    def labels(self, limit: int | None = None, *, distinct: bool = False) -> list[str]:
        """Texts of its queries (or trace ids when content was not captured), first ``limit``;
        ``distinct`` drops repeats of the same question."""
        texts = [m.text if m.text is not None else f"trace {m.trace_id}" for m in self.members]
        if distinct:
            texts = list(dict.fromkeys(texts))
        return texts if limit is None else texts[:limit]


@dataclass(frozen=True, slots=True)
class DriftAnalysis:
    """Everything the report shows."""

    windows: list[WindowStats]
    window_ns: int
    reference: str
    threshold: float | None
    threshold_source: str
    crossed: bool
    gaps: list[GapReport]
    gap_analysis: GapAnalysis | None = field(repr=False)
    sampled_queries: list[Embedding] = field(repr=False)
    sampled_documents: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    feedback_overall: FeedbackSummary | None = None
    knowledge_base: str = "none"  # where the documents came from
    coverage: str = ""  # what query coverage was measured against, and why when not all of it

    @property
    def max_drift(self) -> float | None:
        """Largest drift of any window."""
        values = [w.drift for w in self.windows if w.drift is not None]
        return max(values) if values else None


_log = logging.getLogger(__name__)
_CHUNK = 4096  # knowledge-base rows per block of the second pass


def _gaps(
    queries: np.ndarray,
    documents: np.ndarray,
    params: GapParams | None,
    collector: Collector,
    rows: Callable[[], Iterable[tuple[str, str | None, np.ndarray]]] | None,
) -> tuple[GapAnalysis, str]:
    """Gaps, with coverage against every document when the knowledge base can be read again
    and outgrew the sample; and a sentence saying what coverage was measured against."""
    total = collector.knowledge_base_documents
    if rows is None or total <= len(documents):
        found = find_gaps(queries, documents, params)
        text = f"all {len(documents):,} documents"
        if total > len(documents):
            text = (f"a sample of {len(documents):,} of {total:,} documents; gaps are less "
                    "reliable against a sample (pass the whole knowledge base with "
                    "--knowledge-base)")  # fmt: skip
        return found, text

    def chunks() -> Iterator[np.ndarray]:
        block: list[np.ndarray] = []
        for _, _, vector in rows():
            if vector.shape[0] != queries.shape[1]:
                raise ValueError(f"a vector of dimension {vector.shape[0]}, not {queries.shape[1]}")
            block.append(vector)
            if len(block) == _CHUNK:
                yield np.stack(block)
                block = []
        if block:
            yield np.stack(block)

    try:
        found = find_gaps(queries, documents, params, all_documents=chunks)
    except (SourceError, OSError, ValueError) as error:
        # The store changed or went away since the first read: the sample still answers.
        _log.warning("reading the knowledge base again failed (%s); coverage against the "
                     "sample of %d documents", error, len(documents))  # fmt: skip
        found = find_gaps(queries, documents, params)
        return found, (f"a sample of {len(documents):,} of {total:,} documents (reading the "
                       f"knowledge base again failed: {error})")  # fmt: skip
    return found, f"all {found.coverage_documents:,} documents, read a second time"


def choose_window_ns(buckets: dict[int, Bucket], bucket_ns: int) -> int:
    """A round window width giving about ``TARGET_WINDOWS`` windows over the data's span, fewer
    (down to ``MIN_WINDOWS``) when that would leave under ``TARGET_WINDOW_QUERIES`` queries in an
    average window."""
    if not buckets:
        return bucket_ns
    span = (max(buckets) - min(buckets) + 1) * bucket_ns
    queries = sum(b.count for b in buckets.values())
    most = min(TARGET_WINDOWS, max(MIN_WINDOWS, queries // TARGET_WINDOW_QUERIES))
    for seconds in NICE_WINDOWS_S:
        width = int(seconds * NS)
        if width >= bucket_ns and span / width <= most:
            return width
    return max(NICE_WINDOWS_S[-1] * NS, bucket_ns)


def _windows(
    buckets: dict[int, Bucket], bucket_ns: int, window_ns: int
) -> list[tuple[int, Bucket]]:
    # Windows are unions of whole buckets; a window narrower than a bucket is widened to it.
    # They are counted from the first query, not from the epoch: otherwise the first window, the
    # reference, can be a sliver of a few queries, and every later window "drifts" from it.
    width = max(window_ns, bucket_ns)
    origin = min(buckets, default=0) * bucket_ns
    out: dict[int, Bucket] = {}
    for key, bucket in buckets.items():
        start = origin + (key * bucket_ns - origin) // width * width
        target = out.get(start)
        if target is None:
            out[start] = Bucket(bucket.total.copy(), bucket.total_sq, bucket.count)
        else:
            target.merge(bucket)
    return sorted(out.items())


def summarize_feedback(records: list[Feedback]) -> FeedbackSummary | None:
    """Count, mean score, negative labels and label histogram of ``records``."""
    if not records:
        return None
    scores = [r.score for r in records if r.score is not None]
    labels: dict[str, int] = {}
    negative = 0
    for r in records:
        if r.label is not None:
            labels[r.label] = labels.get(r.label, 0) + 1
            if r.label.strip().lower() in NEGATIVE_LABELS:
                negative += 1
    return FeedbackSummary(
        count=len(records),
        mean_score=float(np.mean(scores)) if scores else None,
        negative=negative,
        labels=labels,
    )


def _quantiles(values: np.ndarray) -> tuple[float, float, float] | None:
    if len(values) == 0:
        return None
    p10, p50, p90 = np.quantile(values, [0.1, 0.5, 0.9])
    return float(p10), float(p50), float(p90)


def analyze(
    collector: Collector,
    *,
    window_ns: int | None = None,
    reference_windows: int = 1,
    baseline: Baseline | None = None,
    threshold: float | None = None,
    auto_factor: float = DEFAULT_DRIFT_AUTO_FACTOR,
    gap_params: GapParams | None = None,
    knowledge_base_rows: Callable[[], Iterable[tuple[str, str | None, np.ndarray]]] | None = None,
) -> DriftAnalysis:
    """Analyse what ``collector`` gathered.

    Drift of each window is the Euclidean distance between its query centroid and the
    reference centroid: ``baseline`` when given (a file saved by the in-process monitor), else
    the first ``reference_windows`` windows. ``threshold`` None means auto: ``auto_factor``
    times the drift that sampling noise alone gives a window of that many queries.
    ``knowledge_base_rows`` reads the knowledge base the collector was given again: when it
    holds more documents than the collector's sample, gap coverage is measured against all of
    them (a second pass, in bounded memory).
    """
    width = window_ns or choose_window_ns(collector.buckets, collector.bucket_ns)
    width = max(width, collector.bucket_ns)
    windows = _windows(collector.buckets, collector.bucket_ns, width)
    if baseline is not None:
        reference, reference_text = baseline, f"baseline file ({baseline.count} queries)"
    elif windows:
        chosen = windows[: max(reference_windows, 1)]
        total = sum((b.total for _, b in chosen), np.zeros_like(chosen[0][1].total))
        count = sum(b.count for _, b in chosen)
        reference = Baseline.from_sums(total, sum(b.total_sq for _, b in chosen), count)
        reference_text = f"first {len(chosen)} window(s) ({count} queries)"
    else:
        reference, reference_text = None, "none (no query embeddings)"

    sampled = collector.queries.items
    documents, document_centroid, knowledge_base = collector.reference_documents()
    nearest, centroid_dist, sample_times = _sample_distances(sampled, documents, document_centroid)

    stats: list[WindowStats] = []
    crossed = False
    for start, bucket in windows:
        drift = limit = None
        usable = reference is not None and bucket.count >= MIN_WINDOW_QUERIES
        if usable and reference is not None and reference.dim == bucket.total.shape[0]:
            drift = float(np.linalg.norm(bucket.total / bucket.count - reference.centroid))
            limit = (
                threshold
                if threshold is not None
                else (auto_factor * reference.noise_level(bucket.count))
            )
            crossed = crossed or drift > limit
        in_window = (sample_times >= start) & (sample_times < start + width)
        stats.append(WindowStats(
            start_ns=start, end_ns=start + width, queries=bucket.count, drift=drift,
            threshold=limit,
            nearest_cosine=_quantiles(nearest[in_window]) if len(nearest) else None,
            centroid_distance=_quantiles(centroid_dist[in_window]) if len(centroid_dist) else None,
        ))  # fmt: skip

    gaps: list[GapReport] = []
    gap_analysis = None
    coverage_text = ""
    documents_with_text = 0
    if len(sampled) >= 3 and documents:
        q = np.array([e.vector for e in sampled])
        d = np.array([e.vector for e in documents])
        gap_analysis, coverage_text = _gaps(q, d, gap_params, collector, knowledge_base_rows)
        unit_documents = _unit_rows(d)
        document_texts = [e.text for e in documents if e.text is not None]
        documents_with_text = len(document_texts)
        if gap_analysis.clusters:  # reading every text is for naming gaps only
            term_index = TermIndex([e.text for e in sampled], document_texts or None)
        for rank, cluster in enumerate(gap_analysis.clusters, start=1):
            members = [sampled[i] for i in cluster.queries]
            by_trace = {m.trace_id: collector.feedback.get(m.trace_id, []) for m in members}
            records = [f for m in members for f in by_trace[m.trace_id]]
            gaps.append(GapReport(
                rank=rank, query_share=cluster.query_share, queries=len(members),
                documents=cluster.documents, coverage=cluster.coverage, members=members,
                feedback=summarize_feedback(records),
                nearest_documents=_nearest_documents(q[cluster.queries], unit_documents,
                                                     documents),
                member_feedback={t: f for t, f in by_trace.items() if f},
                terms=term_index.name(cluster.queries, GAP_TERMS),
            ))  # fmt: skip

    all_feedback = [f for records in collector.feedback.values() for f in records]
    return DriftAnalysis(
        windows=stats,
        window_ns=width,
        reference=reference_text,
        threshold=threshold,
        threshold_source="given" if threshold is not None else f"auto ({auto_factor:g} x noise)",
        crossed=crossed,
        gaps=gaps,
        gap_analysis=gap_analysis,
        sampled_queries=sampled,
        sampled_documents=len(documents),
        counts={
            "spans": collector.spans,
            "embedding_spans": collector.embedding_spans,
            "queries": collector.query_count,
            "documents": collector.document_count,
            "knowledge_base_documents": collector.knowledge_base_documents,
            "sampled_queries": len(sampled),
            "sampled_documents": len(documents),
            # The base of every term's document count: sampled documents whose text is known.
            "sampled_documents_with_text": documents_with_text,
            "feedback": len(all_feedback),
            "skipped_other_dimension": collector.skipped_dimension,
            "documents_in_traces_ignored": collector.documents_in_traces_ignored,
        },
        knowledge_base=knowledge_base,
        coverage=coverage_text,
        feedback_overall=summarize_feedback(all_feedback),
    )


NEAREST_DOCUMENTS = 5
GAP_TERMS = 5


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    unit: np.ndarray = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return unit


def _nearest_documents(
    queries: np.ndarray, unit_documents: np.ndarray, documents: list[Embedding]
) -> list[NearestDocument]:
    """The documents closest to the centre of a gap's queries (by cosine similarity)."""
    centre = _unit_rows(queries).mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-12)
    similarity = unit_documents @ centre
    order = np.argsort(-similarity)[:NEAREST_DOCUMENTS]
    return [
        NearestDocument(documents[i].doc_id, documents[i].text, float(similarity[i])) for i in order
    ]


def _sample_distances(
    sampled: list[Embedding], documents: list[Embedding], document_centroid: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sampled query: cosine distance to the nearest sampled context vector, Euclidean
    distance to the context centroid, and start time."""
    times = np.array([e.start_ns for e in sampled], dtype=np.int64)
    if not sampled or not documents or document_centroid is None:
        empty = np.zeros(0)
        return empty, empty, times
    q = np.array([e.vector for e in sampled], dtype=np.float32)
    d = np.array([e.vector for e in documents], dtype=np.float32)
    qn = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    dn = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
    nearest = np.empty(len(q), dtype=np.float64)
    for start in range(0, len(q), 2048):
        nearest[start : start + 2048] = 1.0 - (qn[start : start + 2048] @ dn.T).max(axis=1)
    centroid = document_centroid
    centroid_dist = np.linalg.norm(q - centroid.astype(np.float32), axis=1).astype(np.float64)
    return nearest, centroid_dist, times


def summary_json(analysis: DriftAnalysis, example_limit: int | None = None) -> dict[str, Any]:
    """The ``summary.json`` document."""

    def feedback_json(f: FeedbackSummary | None) -> dict[str, Any] | None:
        if f is None:
            return None
        return {"count": f.count, "mean_score": f.mean_score, "negative": f.negative,
                "labels": f.labels}  # fmt: skip

    return {
        "counts": analysis.counts,
        "window_seconds": analysis.window_ns / NS,
        "reference": analysis.reference,
        "knowledge_base": analysis.knowledge_base,
        "coverage": analysis.coverage,
        "threshold": analysis.threshold,
        "threshold_source": analysis.threshold_source,
        "max_drift": analysis.max_drift,
        "crossed": analysis.crossed,
        "windows": [
            {
                "start_unix_nano": str(w.start_ns),
                "end_unix_nano": str(w.end_ns),
                "queries": w.queries,
                "drift": w.drift,
                "threshold": w.threshold,
                "nearest_cosine_distance_p10_p50_p90": w.nearest_cosine,
                "centroid_distance_p10_p50_p90": w.centroid_distance,
            }
            for w in analysis.windows
        ],
        "gaps": [
            {
                "rank": g.rank,
                "query_share": g.query_share,
                "queries": g.queries,
                "documents": g.documents,
                "coverage": g.coverage,
                "terms": [
                    {
                        "term": t.term,
                        "queries": t.queries,
                        "other_queries": t.other_queries,
                        "knowledge_base_documents": t.documents,
                        "score": t.score,
                    }
                    for t in g.terms
                ],
                "feedback": feedback_json(g.feedback),
                "trace_ids": [m.trace_id for m in g.members],
                "queries_text": g.labels(example_limit),
                "members": [
                    {
                        "trace_id": m.trace_id,
                        "text": m.text,
                        "feedback": [
                            {
                                "name": f.name,
                                "score": f.score,
                                "label": f.label,
                                "comment": f.explanation,
                            }
                            for f in g.member_feedback.get(m.trace_id, [])
                        ],
                    }
                    for m in g.members
                ],
                "nearest_documents": [
                    {"id": n.doc_id, "text": n.text, "similarity": n.similarity}
                    for n in g.nearest_documents
                ],
            }
            for g in analysis.gaps
        ],
        "feedback": feedback_json(analysis.feedback_overall),
    }
