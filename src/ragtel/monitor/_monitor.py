"""EmbeddingMonitor: distances of each query to the knowledge base, and query drift."""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from opentelemetry import metrics

from ragtel.monitor._baseline import Baseline, load_baseline_file, save_baseline_file
from ragtel.monitor._config import MonitorConfig
from ragtel.monitor._drift import DriftTracker
from ragtel.monitor._knowledge_base import KnowledgeBase
from ragtel.monitor._metrics import MonitorInstruments
from ragtel.monitor._reference import ContextReference

_log = logging.getLogger("ragtel.monitor")

VectorBatch = Sequence[Sequence[float]] | np.ndarray
Vector = Sequence[float] | np.ndarray


@dataclass(frozen=True, slots=True)
class QueryDistances:
    """What the monitor measured for one query.

    Attributes:
        centroid_euclidean: Euclidean distance to the centroid of all context vectors.
        centroid_cosine: cosine distance (1 - cosine similarity) to that centroid.
        nearest_euclidean: Euclidean distance to the nearest context vector in the sample.
        nearest_cosine: cosine distance to the most similar context vector in the sample.
        drift: distance between the recent query window's centroid and the baseline centroid;
            None until the baseline exists and the window is full.
        drift_crossed: True only on the query where the drift alarm went off (again): drift
            above ``drift_threshold``, or, with the ``"auto"`` threshold, ``drift_score`` above
            its limit.
        drift_threshold: the threshold in force (resolved from ``"auto"``), None if none.
        drift_score: the window's shift whitened by the baseline's own spread, as the standard
            normal deviate that is as rare with no change (the ``"auto"`` alarm's limit is 4.0
            times ``drift_auto_factor``); None until the window is full or when the baseline
            queries were too few to whiten.
    """

    centroid_euclidean: float
    centroid_cosine: float
    nearest_euclidean: float
    nearest_cosine: float
    drift: float | None
    drift_crossed: bool
    drift_threshold: float | None = None
    drift_score: float | None = None


def _as_matrix(vectors: VectorBatch) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float64)
    if array.ndim == 1:
        array = array.reshape(1, -1) if array.size else array.reshape(0, 0)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D batch of vectors, got shape {array.shape}")
    if array.size and not np.isfinite(array).all():
        raise ValueError("embedding vectors contain NaN or infinity")
    return array


class EmbeddingMonitor:
    """Watches query embeddings against the context (knowledge base) embeddings.

    Feed it what the integrations already have: document vectors at indexing time (or retrieved
    documents' vectors) through :meth:`observe_context`, each query vector through
    :meth:`observe_query`. It never calls an embedding model itself.

    Thread-safe. Memory is bounded by ``sample_size + window_size`` vectors, plus the baseline's
    60 principal directions (and ``baseline_size`` vectors while it forms); each query costs one
    product with the sample and one with those directions, however many queries came before.
    The baseline's one-off analysis (tenths of a second, seconds where BLAS threads fight for
    busy cores) runs on a background thread, not in the query that completes it; drift is None
    until it is done (:meth:`wait_for_baseline` waits for it).

    Raises ``ValueError`` for vectors of the wrong dimension or with non-finite values; callers
    inside instrumentation catch it so telemetry never breaks the host.
    """

    def __init__(
        self,
        config: MonitorConfig | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.config = config if config is not None else MonitorConfig()
        self._lock = threading.Lock()
        self._dim: int | None = None
        self._reference: ContextReference | None = None
        self._tracker: DriftTracker | None = None
        self._unrecorded_context = False  # context came from outside the traces (a loaded store)
        # Documents that loaded samples of a store stood for beyond their own vectors
        # (knowledge_base_from(..., max_documents=N)).
        self._unseen_represented = 0
        self._baseline_thread: threading.Thread | None = None
        self._loaded_baseline = self._load_configured_baseline()
        ref = weakref.ref(self)

        def read_drift() -> float | None:
            # A weak reference: the global meter must not keep a discarded monitor alive.
            monitor = ref()
            return None if monitor is None else monitor.drift

        self._instruments = MonitorInstruments(meter_provider, read_drift)

    def _load_configured_baseline(self) -> Baseline | None:
        path = self.config.baseline_path
        if not path or not os.path.exists(path):
            return None
        try:
            return load_baseline_file(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _log.warning("ignoring baseline file %s: %s", path, exc)
            return None

    @property
    def dim(self) -> int | None:
        """Embedding dimension, fixed by the first vector observed."""
        return self._dim

    @property
    def drift(self) -> float | None:
        """Latest drift value, None until the baseline exists and the window is full."""
        tracker = self._tracker
        return None if tracker is None else tracker.drift

    @property
    def drift_threshold(self) -> float | None:
        """Threshold in force (``"auto"`` resolved once the baseline exists), or None."""
        tracker = self._tracker
        return None if tracker is None else tracker.threshold

    @property
    def baseline(self) -> Baseline | None:
        """The baseline in force, or None while it is still being formed."""
        tracker = self._tracker
        return None if tracker is None else tracker.baseline

    @property
    def context_count(self) -> int:
        """Number of context vectors observed (a document observed twice counts twice)."""
        reference = self._reference
        return 0 if reference is None else reference.seen

    @property
    def document_count(self) -> int:
        """Distinct documents among the context vectors observed: exact while they fit the
        sample; beyond it the vectors observed, or an estimate from the sample (about 3% off at
        the default sample size) when that shows clearly fewer distinct documents."""
        reference = self._reference
        return 0 if reference is None else reference.documents

    def _ensure_dim(self, dim: int) -> None:
        # Called with the lock held.
        if self._dim is None:
            if dim == 0:
                raise ValueError("embedding vectors must not be empty")
            self._dim = dim
            seed = self.config.seed
            salt = b"" if seed is None else str(seed).encode()
            self._reference = ContextReference(dim, self.config.sample_size, salt)
            baseline = self._loaded_baseline
            if baseline is not None and baseline.dim != dim:
                _log.warning("baseline file has dimension %d, vectors have %d: ignoring it",
                             baseline.dim, dim)  # fmt: skip
                baseline = self._loaded_baseline = None
            self._tracker = DriftTracker(
                dim,
                window_size=self.config.window_size,
                baseline_size=self.config.baseline_size,
                threshold=self.config.drift_threshold,
                auto_factor=self.config.drift_auto_factor,
                baseline=baseline,
                analyse_baseline=False,  # on a thread of its own: see _analyse_baseline
            )
        elif dim != self._dim:
            raise ValueError(f"vector dimension {dim} differs from the monitor's {self._dim}")

    def observe_context(
        self,
        vectors: VectorBatch,
        *,
        ids: Sequence[str | None] | None = None,
        texts: Sequence[str | None] | None = None,
        recorded: bool = False,
        represents: int | None = None,
    ) -> None:
        """Add context vectors: documents embedded at indexing time, or retrieved documents'.

        ``ids`` and ``texts``, one per vector when known, travel with the sample that is exported
        as the offline analysis's reference (texts through the text policy). ``recorded`` says
        the vectors are already in the traces (an index build ragtel recorded): a monitor fed
        only such vectors exports no sample, since the traces hold the knowledge base whole.
        ``represents``: how many documents the vectors are a sample of, when more."""
        batch = _as_matrix(vectors)
        if batch.shape[0] == 0:
            return
        with self._lock:
            self._ensure_dim(batch.shape[1])
            assert self._reference is not None
            self._reference.add(batch, ids, texts)
            self._unseen_represented += max(0, (represents or 0) - batch.shape[0])
            if not recorded:
                self._unrecorded_context = True

    def observe_knowledge_base(self, knowledge_base: KnowledgeBase) -> None:
        """Add a whole knowledge base (see :func:`ragtel.monitor.knowledge_base_from`)."""
        self.observe_context(
            knowledge_base.vectors,
            ids=knowledge_base.ids,
            texts=knowledge_base.texts,
            represents=knowledge_base.sampled_from,
        )

    @property
    def knowledge_base_version(self) -> int:
        """Changes whenever the knowledge-base sample changes; 0 while nothing is sampled or
        every context vector came from index builds the traces already hold."""
        reference = self._reference
        if reference is None or not self._unrecorded_context:
            return 0
        return reference.version

    def knowledge_base_sample(self) -> tuple[int, KnowledgeBase | None]:
        """The sampled knowledge base (a copy) and its version, which changes with the sample;
        its ``sampled_from`` counts the documents it stands for, when more than it holds."""
        with self._lock:
            reference = self._reference
            if reference is None or not len(reference.sample):
                return 0, None
            ids, texts = reference.labels()
            vectors = reference.sample.copy()
            version = reference.version
            represented = reference.documents + self._unseen_represented
        numbered = [i if i is not None else f"sample-{n}" for n, i in enumerate(ids)]
        drawn_from = represented if represented > len(vectors) else None
        return version, KnowledgeBase(vectors, tuple(numbered), tuple(texts), drawn_from)

    def observe_query(self, vector: Vector) -> QueryDistances | None:
        """Measure one query vector; None while no context vector is known yet.

        The query always counts towards the baseline and the drift window, even before context
        arrives, so drift does not depend on the order in which an app indexes and serves.
        """
        batch = _as_matrix(vector)
        if batch.shape[0] != 1:
            raise ValueError("observe_query takes one vector")
        query = batch[0]
        with self._lock:
            self._ensure_dim(query.shape[0])
            assert self._reference is not None and self._tracker is not None
            context = self._reference.distances(query)
            tracker = self._tracker
            update = tracker.update(query)
            threshold = tracker.threshold
            rows = tracker.pending_rows
            running = self._baseline_thread
            # Also restarts an analysis whose thread is gone before it finished: a child process
            # forked while it ran inherits the pending rows but not the thread.
            if rows is not None and (running is None or not running.is_alive()):
                self._baseline_thread = threading.Thread(
                    target=self._analyse_baseline,
                    args=(tracker, rows),
                    name="ragtel-monitor-baseline",
                    daemon=True,
                )
                self._baseline_thread.start()
        if update.crossed:
            self._instruments.crossed()
        if context is None:
            return None
        self._instruments.record(context)
        return QueryDistances(
            centroid_euclidean=context.centroid_euclidean,
            centroid_cosine=context.centroid_cosine,
            nearest_euclidean=context.nearest_euclidean,
            nearest_cosine=context.nearest_cosine,
            drift=update.drift,
            drift_crossed=update.crossed,
            drift_threshold=threshold,
            drift_score=update.score,
        )

    def _analyse_baseline(self, tracker: DriftTracker, rows: np.ndarray) -> None:
        """On the baseline thread: analyse, install, save. Never raises: a failed analysis
        falls back to the plain centroid and spread (drift without the whitened score)."""
        try:
            baseline = Baseline.from_vectors(rows)
        except Exception:  # a thread's exception would only reach stderr
            _log.warning("monitor baseline analysis failed; using its centroid and spread only",
                         exc_info=True)  # fmt: skip
            centroid = rows.mean(axis=0)
            spread = float(((rows - centroid) ** 2).sum(axis=1).mean())
            baseline = Baseline(centroid=centroid, count=len(rows), spread=spread)
        with self._lock:
            tracker.set_baseline(baseline)
        if self.config.baseline_path:
            self._save_quietly(baseline, self.config.baseline_path)

    def wait_for_baseline(self, timeout: float | None = None) -> bool:
        """Wait until a baseline that is being analysed is in force. False on timeout, and when
        complete baseline queries wait for an analysis no thread runs (in a process forked
        mid-analysis, until its next query starts one). True at once when none is pending."""
        thread = self._baseline_thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return False
        tracker = self._tracker
        return tracker is None or tracker.pending_rows is None

    @staticmethod
    def _save_quietly(baseline: Baseline, path: str) -> None:
        try:
            save_baseline_file(baseline, path)
        except OSError as exc:
            _log.warning("could not save the monitor baseline to %s: %s", path, exc)

    def save_baseline(self, path: str | os.PathLike[str]) -> None:
        """Save the current baseline, to be reused with ``MonitorConfig(baseline_path=...)``
        or ``ragtel drift --baseline``. Raises RuntimeError while no baseline exists yet."""
        baseline = self.baseline
        if baseline is None:
            raise RuntimeError("no baseline yet: fewer than baseline_size queries observed")
        save_baseline_file(baseline, path)
