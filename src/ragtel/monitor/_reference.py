"""Context reference: running centroid of every context vector plus a bounded sample of documents.

Memory is ``capacity * dim`` floats whatever the number of documents seen, and a query costs one
matrix-vector product with the sample, so cost per query does not grow with history.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_HASH_SPACE = float(2**64)


@dataclass(frozen=True, slots=True)
class ContextDistances:
    """Distances of one query vector to the context."""

    centroid_euclidean: float
    centroid_cosine: float
    nearest_euclidean: float
    nearest_cosine: float


def _at(values: Sequence[str | None], index: int) -> str | None:
    return values[index] if index < len(values) else None


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    """1 - cosine similarity; 1.0 when either vector is zero (no direction to compare)."""
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    if denominator == 0.0:
        return 1.0
    return float(1.0 - (a @ b) / denominator)


class ContextReference:
    """Running centroid of every context vector plus a bounded sample of distinct documents.

    The sample is the ``capacity`` documents of smallest hash (a bottom-k sketch), a document
    keyed by its text when known, else its id, else its vector. So the same document observed
    again (an index rebuilt in process, a store loaded beside the index build the traces hold)
    takes its own slot again rather than a second one; every process that sees the same
    knowledge base keeps the same sample, whatever the order; and the sample's largest hash
    estimates how many distinct documents there were once they outnumber it (relative error
    about ``1 / sqrt(capacity)``: 3% at the default 1,000), which replaces the count of vectors
    observed when it is clearly lower (repeats of more than about a tenth of them). A passage
    re-embedded under the same text replaces its vector; a changed text is a new document (the
    old one, unseen since, may stay in the sample). The centroid sums every vector observed, so
    a document observed twice weighs twice there.

    Not thread-safe: :class:`~ragtel.monitor.EmbeddingMonitor` serialises access.
    """

    def __init__(self, dim: int, capacity: int, salt: bytes = b"") -> None:
        self.dim = dim
        self.capacity = capacity
        self._salt = salt  # another salt, another (equally uniform) sample
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
        self._hashes = np.zeros(capacity, dtype=np.uint64)
        self._slot_of: dict[int, int] = {}  # hash -> slot, for the documents in the sample
        self._dropped = False  # some distinct document is not in the sample
        self.version = 0  # bumped whenever the sample changes

    @property
    def centroid(self) -> np.ndarray | None:
        """Mean of every context vector seen, or None before the first."""
        return self._sum / self.seen if self.seen else None

    @property
    def sample(self) -> np.ndarray:
        """The current sample (a view, ``(filled, dim)``)."""
        return self._sample[: self._filled]

    @property
    def documents(self) -> int:
        """Distinct documents seen: exact while they fit the sample; beyond it the vectors
        observed, unless the sample shows clearly fewer distinct documents than that."""
        if not self._dropped:
            return self._filled
        # The k-th smallest of n uniform hashes sits near k / n of the hash space, with a
        # relative error of about 1 / sqrt(k): within three of those of the vectors observed,
        # nothing says any was a repeat, and the exact count stands.
        largest = float(self._hashes[: self._filled].max()) / _HASH_SPACE
        estimate = (self._filled - 1) / max(largest, 1e-300)
        if estimate >= self.seen * (1.0 - 3.0 / math.sqrt(self._filled)):
            return self.seen
        return max(self._filled, round(estimate))

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
        self._sum += batch.sum(axis=0)
        self.seen += n
        values = batch.astype(np.float32)
        ids, texts = ids or (), texts or ()
        hashes = np.fromiter(
            (self._hash(values[i], _at(ids, i), _at(texts, i)) for i in range(n)),
            dtype=np.uint64,
            count=n,
        )
        # One position per document, its last copy in the batch, in ascending hash order.
        unique, first_from_end = np.unique(hashes[::-1], return_index=True)
        changed = False
        new: list[tuple[int, int]] = []
        for key, position in zip(unique.tolist(), (n - 1 - first_from_end).tolist(), strict=True):
            slot = self._slot_of.get(key)
            if slot is None:
                new.append((key, position))
            elif self._differs(slot, values[position], _at(ids, position), _at(texts, position)):
                self._store(slot, key, values[position], _at(ids, position), _at(texts, position))
                changed = True
        for key, position in new:
            if self._filled < self.capacity:
                slot = self._filled
                self._filled += 1
            else:
                self._dropped = True
                slot = int(np.argmax(self._hashes))
                if key >= int(self._hashes[slot]):
                    break  # ascending: no later document of the batch gets in either
                del self._slot_of[int(self._hashes[slot])]
            self._store(slot, key, values[position], _at(ids, position), _at(texts, position))
            changed = True
        if changed:
            self.version += 1

    def _hash(self, row: np.ndarray, doc_id: str | None, text: str | None) -> int:
        # An empty text names no passage (image nodes, stripped chunks): many share it.
        if text:
            key = b"t" + text.encode("utf-8", "surrogatepass")
        elif doc_id:
            key = b"i" + doc_id.encode("utf-8", "surrogatepass")
        else:
            key = b"v" + row.tobytes()
        digest = hashlib.blake2b(key, digest_size=8, key=self._salt).digest()
        return int.from_bytes(digest, "little")

    def _differs(self, slot: int, row: np.ndarray, doc_id: str | None, text: str | None) -> bool:
        return (
            not np.array_equal(self._sample[slot], row)
            or self._ids[slot] != doc_id
            or self._texts[slot] != text
        )

    def _store(
        self, slot: int, key: int, row: np.ndarray, doc_id: str | None, text: str | None
    ) -> None:
        sq = float(row @ row)
        self._sample[slot] = row
        self._sq_norms[slot] = sq
        self._norms[slot] = np.sqrt(sq)
        self._ids[slot] = doc_id
        self._texts[slot] = text
        self._hashes[slot] = key
        self._slot_of[key] = slot

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
