"""Streaming accumulation of spans into bounded state for the drift analysis.

Memory is bounded whatever the input size: per-time-bucket sums of query vectors (at most
``max_buckets`` buckets; when exceeded, buckets double in width and merge pairwise), uniform
reservoir samples of queries and of context vectors, a running context centroid, the latest
knowledge-base sample a monitor exported, and the feedback records (one small record per
evaluated trace).

The knowledge base (the reference queries are measured against) comes from the first of: a file
or object given explicitly (:meth:`Collector.use_knowledge_base`; document vectors in the traces
are then ignored), the index builds recorded in the traces (role ``document``), or the latest
sample an in-process monitor exported (role ``knowledge_base_sample``; index built elsewhere).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from ragtel.analysis._spans import Embedding, Feedback, SpanView, embeddings, feedback
from ragtel.config import resolve
from ragtel.recording.text import TextPolicy
from ragtel.semconv import EmbeddingRole, Ragtel


@dataclass(slots=True)
class Bucket:
    """Sums of the query vectors whose span started in one time bucket."""

    total: np.ndarray
    total_sq: float = 0.0
    count: int = 0

    def merge(self, other: Bucket) -> None:
        """Fold ``other`` into this bucket."""
        self.total += other.total
        self.total_sq += other.total_sq
        self.count += other.count


@dataclass(slots=True)
class Reservoir:
    """Uniform sample of at most ``capacity`` embeddings (Vitter's algorithm R)."""

    capacity: int
    rng: np.random.Generator
    items: list[Embedding] = field(default_factory=list)
    seen: int = 0

    def add(self, item: Embedding) -> None:
        """Offer one embedding to the sample."""
        self.seen += 1
        if len(self.items) < self.capacity:
            self.items.append(item)
            return
        slot = int(self.rng.integers(0, self.seen))
        if slot < self.capacity:
            self.items[slot] = item


class Collector:
    """Consumes spans one at a time; see the module docstring for what it keeps."""

    def __init__(
        self,
        *,
        service: str | None = None,
        since_ns: int | None = None,
        sample_size: int = 10_000,
        document_sample_size: int | None = None,  # default: sample_size
        # Fine enough for sub-second windows of a short run; the count of buckets stays bounded
        # by max_buckets, which merges neighbours (doubling the width) when a long run fills it.
        bucket_ns: int = 100_000_000,
        max_buckets: int = 4096,
        seed: int = 0,
    ) -> None:
        self.service = service
        self.since_ns = since_ns
        self.bucket_ns = bucket_ns
        self.max_buckets = max_buckets
        rng = np.random.default_rng(seed)
        self.queries = Reservoir(sample_size, rng)
        self.documents = Reservoir(document_sample_size or sample_size, rng)
        self.buckets: dict[int, Bucket] = {}
        self.feedback: dict[str, list[Feedback]] = defaultdict(list)
        self.dim: int | None = None
        self.document_sum: np.ndarray | None = None
        self.spans = 0
        self.embedding_spans = 0
        self.skipped_dimension = 0
        self.knowledge_base_given: str | None = None
        self.documents_in_traces_ignored = 0
        # The latest exported monitor sample: its trace, start and embeddings (at most the
        # monitor's sample size).
        self._sample_trace: str | None = None
        self._sample_start = -1
        self._sample: list[Embedding] = []
        self._sample_drawn_from: int | None = None  # documents that sample stands for

    def use_knowledge_base(
        self,
        rows: Iterable[tuple[str, str | None, np.ndarray]],
        source: str,
        policy: TextPolicy | None = None,
    ) -> None:
        """Take the knowledge base from ``rows`` (id, text, vector), e.g. a file; call before
        adding spans. Raises ValueError when the rows hold no vector or mix dimensions.

        The sampled documents' texts, which the report quotes, go through ``policy`` (default:
        the text policy of the environment's settings, so ``RAGTEL_REDACT_SECRETS`` and
        ``RAGTEL_REDACT`` apply): texts in spans were redacted when recorded, a store's were
        not."""
        self.knowledge_base_given = source
        for doc_id, text, vector in rows:
            item = Embedding(EmbeddingRole.DOCUMENT, vector, text, "", 0, doc_id)
            if self.dim is not None and vector.shape[0] != self.dim:
                raise ValueError(
                    f"knowledge base {source}: vector dimension {vector.shape[0]} after {self.dim}"
                )
            self._add_embedding(item)
        if not self.documents.seen:
            raise ValueError(f"knowledge base {source}: no document vectors")
        policy = policy or TextPolicy(resolve(None))
        self.documents.items = [
            replace(item, text=policy.clean(item.text)) if item.text else item
            for item in self.documents.items
        ]

    def add(self, span: SpanView | None) -> None:
        """Account for one span (None: a span with nothing to analyse)."""
        self.spans += 1
        if span is None or not self._of_service(span):
            return
        record = feedback(span)
        if record is not None:
            self.feedback[record.trace_id].append(record)
        found = embeddings(span)
        if not found or not self._in_time(span):
            return
        self.embedding_spans += 1
        for item in found:
            self._add_embedding(item)
        drawn_from = span.attributes.get(Ragtel.KNOWLEDGE_BASE_DOCUMENTS)
        if isinstance(drawn_from, int) and span.trace_id == self._sample_trace:
            self._sample_drawn_from = drawn_from

    def document_rows(
        self, spans: Iterable[SpanView | None]
    ) -> Iterator[tuple[str, str | None, np.ndarray]]:
        """(id, text, vector) of every document vector ``add`` took from ``spans``, when they
        are the same source read again: index builds in the traces, for coverage against all
        of them rather than the sample."""
        for span in spans:
            if span is None or not (self._of_service(span) and self._in_time(span)):
                continue
            for item in embeddings(span):
                if item.role == EmbeddingRole.DOCUMENT and item.vector.shape[0] == self.dim:
                    yield item.doc_id or "", item.text, item.vector

    def _of_service(self, span: SpanView) -> bool:
        return not (self.service and span.service and span.service != self.service)

    def _in_time(self, span: SpanView) -> bool:
        return self.since_ns is None or span.start_ns >= self.since_ns

    def _add_embedding(self, item: Embedding) -> None:
        dim = item.vector.shape[0]
        if self.dim is None:
            self.dim = dim
            self.document_sum = np.zeros(dim)
        elif dim != self.dim:
            # A second embedding model in the same data; mixing dimensions is meaningless.
            self.skipped_dimension += 1
            return
        if item.role == EmbeddingRole.KNOWLEDGE_BASE_SAMPLE:
            self._add_sample(item)
            return
        if item.role == EmbeddingRole.DOCUMENT:
            if self.knowledge_base_given and item.trace_id:
                self.documents_in_traces_ignored += 1
                return
            assert self.document_sum is not None
            self.document_sum += item.vector
            self.documents.add(item)
            return
        self.queries.add(item)
        key = item.start_ns // self.bucket_ns
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(np.zeros(dim))
            if len(self.buckets) > self.max_buckets:
                self._coarsen()
                bucket = self.buckets[item.start_ns // self.bucket_ns]
        bucket.total += item.vector
        bucket.total_sq += float(item.vector @ item.vector)
        bucket.count += 1

    def _add_sample(self, item: Embedding) -> None:
        # Spans of one exported sample share a trace; a later trace is a newer sample.
        if self.knowledge_base_given:
            return
        if item.trace_id != self._sample_trace:
            if item.start_ns <= self._sample_start:
                return
            self._sample_trace, self._sample_start, self._sample = item.trace_id, item.start_ns, []
            self._sample_drawn_from = None
        self._sample.append(item)

    def reference_documents(self) -> tuple[list[Embedding], np.ndarray | None, str]:
        """The knowledge base the analysis uses: sampled documents, their centroid, and where
        they came from."""
        if self.documents.seen:
            assert self.document_sum is not None
            source = self.knowledge_base_given or "index builds in the traces"
            return self.documents.items, self.document_sum / self.documents.seen, source
        if self._sample:
            centroid = np.mean([e.vector for e in self._sample], axis=0)
            source = "the knowledge-base sample exported by the monitor"
            if self._sample_drawn_from is not None and self._sample_drawn_from > len(self._sample):
                source += f" ({len(self._sample):,} of {self._sample_drawn_from:,} documents)"
            return self._sample, centroid, source
        return [], None, "none"

    def _coarsen(self) -> None:
        self.bucket_ns *= 2
        merged: dict[int, Bucket] = {}
        for key, bucket in self.buckets.items():
            target = merged.get(key // 2)
            if target is None:
                merged[key // 2] = bucket
            else:
                target.merge(bucket)
        self.buckets = merged

    @property
    def document_count(self) -> int:
        """Context vectors seen (the monitor's sample, when the traces hold no index build)."""
        return self.documents.seen or len(self._sample)

    @property
    def knowledge_base_documents(self) -> int:
        """Documents of the knowledge base the reference stands for: the context vectors seen,
        or, for the monitor's sample, the documents it was drawn from."""
        if self.documents.seen or not self._sample:
            return self.documents.seen
        return max(self._sample_drawn_from or 0, len(self._sample))

    @property
    def query_count(self) -> int:
        """Query vectors seen."""
        return self.queries.seen
