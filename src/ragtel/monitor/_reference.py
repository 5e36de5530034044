"""Context reference: running centroid of every context vector plus a bounded uniform sample.

Memory is ``capacity * dim`` floats whatever the number of documents seen, and a query costs one
matrix-vector product with the sample, so cost per query does not grow with history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class ContextDistances:
    """Distances of one query vector to the context."""

    centroid_euclidean: float
    centroid_cosine: float
    nearest_euclidean: float
    nearest_cosine: float


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    """1 - cosine similarity; 1.0 when either vector is zero (no direction to compare)."""
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    if denominator == 0.0:
        return 1.0
    return float(1.0 - (a @ b) / denominator)


class ContextReference:
    """Running centroid plus a reservoir sample (Vitter's algorithm R) of context vectors.

    Not thread-safe: :class:`~ragtel.monitor.EmbeddingMonitor` serialises access.
    """

    def __init__(self, dim: int, capacity: int, rng: np.random.Generator) -> None:
        self.dim = dim
        self.capacity = capacity
        self._rng = rng
        self._sum = np.zeros(dim, dtype=np.float64)
        self.seen = 0
        self._filled = 0
        # float32: the nearest-neighbour scan is memory-bound, and half the bytes is half the time.
        self._sample = np.zeros((capacity, dim), dtype=np.float32)
        self._sq_norms = np.zeros(capacity, dtype=np.float32)
        self._norms = np.zeros(capacity, dtype=np.float32)
        # Per slot, the document's id and text when the caller knew them (the sample is exported
        # as the analysis's reference; see ragtel.recording.knowledge_base).
        self._ids: list[str | None] = [None] * capacity
        self._texts: list[str | None] = [None] * capacity
        self.version = 0  # bumped whenever the sample changes

    @property
    def centroid(self) -> np.ndarray | None:
        """Mean of every context vector seen, or None before the first."""
        return self._sum / self.seen if self.seen else None

    @property
    def sample(self) -> np.ndarray:
        """The current sample (a view, ``(filled, dim)``)."""
        return self._sample[: self._filled]

    def labels(self) -> tuple[list[str | None], list[str | None]]:
        """Ids and texts of the current sample's rows (None where not known)."""
        return self._ids[: self._filled], self._texts[: self._filled]

    def add(
        self,
        batch: np.ndarray,
        ids: Sequence[str | None] | None = None,
        texts: Sequence[str | None] | None = None,
    ) -> None:
        """Add a ``(n, dim)`` float64 batch, with its documents' ids and texts if known."""
        n = len(batch)
        if n == 0:
            return
        labels = (ids, texts)
        self._sum += batch.sum(axis=0)
        # Reservoir sampling, vectorised: the i-th vector ever seen (1-based) replaces a random
        # slot with probability capacity / i, which keeps the sample uniform over all history.
        free = min(self.capacity - self._filled, n)
        if free > 0:
            slots = np.arange(self._filled, self._filled + free)
            self._store(slots, batch[:free], range(free), labels)
            self._filled += free
            self.version += 1
        rest = batch[free:]
        if len(rest):
            positions = np.arange(self.seen + free + 1, self.seen + n + 1)
            slots = (self._rng.random(len(rest)) * positions).astype(np.int64)
            keep = slots < self.capacity
            if keep.any():
                # With a repeated slot the later vector must win, as in the sequential algorithm;
                # numpy's fancy assignment order is unspecified, so keep only the last per slot.
                chosen = slots[keep]
                rows = rest[keep]
                _, last = np.unique(chosen[::-1], return_index=True)
                last = len(chosen) - 1 - last
                in_batch = (free + np.flatnonzero(keep)[last]).tolist()
                self._store(chosen[last], rows[last], in_batch, labels)
                self.version += 1
        self.seen += n

    def _store(
        self,
        slots: np.ndarray,
        rows: np.ndarray,
        positions: Iterable[int],
        labels: tuple[Sequence[str | None] | None, Sequence[str | None] | None],
    ) -> None:
        """Write ``rows`` into ``slots``; ``positions`` are their indices in the batch that
        ``labels`` (ids, texts) describe."""
        values = rows.astype(np.float32)
        sq = np.einsum("ij,ij->i", values, values)
        self._sample[slots] = values
        self._sq_norms[slots] = sq
        self._norms[slots] = np.sqrt(sq)
        ids, texts = labels
        for slot, index in zip(slots.tolist(), positions, strict=True):
            self._ids[slot] = ids[index] if ids is not None and index < len(ids) else None
            self._texts[slot] = texts[index] if texts is not None and index < len(texts) else None

    def distances(self, query: np.ndarray) -> ContextDistances | None:
        """Distances of a float64 query vector, or None before any context was added."""
        centroid = self.centroid
        if centroid is None:
            return None
        sample = self._sample[: self._filled]
        q32 = query.astype(np.float32)
        # One product gives both nearest distances: |s-q|^2 = |s|^2 - 2 s.q + |q|^2 and
        # cos(s, q) = s.q / (|s| |q|).
        dots = sample @ q32
        q_sq = float(q32 @ q32)
        sq = self._sq_norms[: self._filled] - 2.0 * dots + q_sq
        nearest_euclidean = float(np.sqrt(max(float(sq.min()), 0.0)))
        q_norm = np.sqrt(q_sq)
        norms = self._norms[: self._filled] * q_norm
        with np.errstate(divide="ignore", invalid="ignore"):
            similarity = np.where(norms > 0, dots / norms, 0.0)
        nearest_cosine = float(1.0 - similarity.max())
        return ContextDistances(
            centroid_euclidean=float(np.linalg.norm(query - centroid)),
            centroid_cosine=cosine_distance(query, centroid),
            nearest_euclidean=nearest_euclidean,
            nearest_cosine=max(nearest_cosine, 0.0),
        )
