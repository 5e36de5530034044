"""Drift of the recent query window against a baseline, with threshold-crossing detection.

``drift`` is the distance between the window's centroid and the baseline's. ``score`` is the same
shift whitened by the baseline's own spread (:class:`~ragtel.monitor._baseline.Whitening`), as
the standard normal deviate that is equally rare when nothing changed. The ``auto`` alarm goes
off when the score passes :data:`ALARM_Z` times ``drift_auto_factor``; the reported ``auto``
threshold is the drift that sampling noise alone reaches as rarely, and decides only when the
baseline could not be whitened (too few queries, or no spread).

The score decides because plain distance could not (bench/gaps/drift.py, real all-MiniLM-L6-v2
questions): their variance sits in a few dozen directions, a new topic moves the centroid by
about as much as that noise, and the distance's own tail is heavy enough that a threshold
catching a change within 150 queries also fired by chance. Whitened, the shift along directions
the baseline questions hardly spanned stands out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from ragtel.monitor._baseline import Baseline
from ragtel.monitor._config import AUTO, ThresholdSetting

# Re-arm only once the statistic has fallen this far below its limit: a value hovering at the
# limit would otherwise emit an event on every other query.
REARM_RATIO: Final = 0.9
# A calibrated score passes it by chance in one window of 30,000; consecutive windows share most
# of their queries, about one independent window per window length, so with nothing changing a
# false alarm would come once in some 3 million queries at window 100. The noise estimate has an
# error of its own, which fattens that tail. Chosen on bench/gaps/drift.py's company and pyfaq
# collections, where the largest score with no change was 3.36 and every change peaked above 4.10
# within 150 queries (README, Embedding monitoring, with the held-out collections' figures).
ALARM_Z: Final = 4.0


@dataclass(frozen=True, slots=True)
class DriftUpdate:
    """Result of adding one query to the tracker."""

    drift: float | None
    crossed: bool
    score: float | None = None


class DriftTracker:
    """Sliding window of the last ``window_size`` queries compared with a baseline centroid.

    Each update is O(dim) plus, once the baseline is whitened, O(k * dim) for its k principal
    directions: the window keeps a running sum over a ring buffer, rebuilt from the buffer once
    per lap so floating-point error cannot accumulate over a long run. While the baseline forms,
    its queries are kept (``baseline_size * dim`` floats) for the one-off computation of its
    spread's shape. With ``analyse_baseline=False`` that computation is the caller's: the
    complete rows wait in :attr:`pending_rows`, and until :meth:`set_baseline` installs the
    result drift stays None while the window keeps moving.
    Not thread-safe: :class:`~ragtel.monitor.EmbeddingMonitor` serialises access.
    """

    def __init__(
        self,
        dim: int,
        window_size: int,
        baseline_size: int,
        threshold: ThresholdSetting,
        auto_factor: float,
        baseline: Baseline | None = None,
        analyse_baseline: bool = True,
    ) -> None:
        self.dim = dim
        self._analyse_baseline = analyse_baseline
        self.window_size = window_size
        self.baseline_size = baseline_size
        self._threshold_setting = threshold
        self._auto_factor = auto_factor
        self._ring = np.zeros((window_size, dim), dtype=np.float64)
        self._ring_sum = np.zeros(dim, dtype=np.float64)
        self._ring_pos = 0
        self._ring_filled = 0
        self._base_rows: np.ndarray | None = None
        self._base_count = 0
        # Complete baseline queries that the caller has yet to analyse (analyse_baseline=False).
        self.pending_rows: np.ndarray | None = None
        self.baseline: Baseline | None = None
        self.threshold: float | None = None
        self.score_limit: float | None = None  # on the whitened score's raw scale
        self.drift: float | None = None
        self.score: float | None = None
        self._armed = True
        if baseline is not None:
            self.set_baseline(baseline)

    def set_baseline(self, baseline: Baseline) -> None:
        """Use ``baseline`` from now on and resolve the threshold against it."""
        if baseline.dim != self.dim:
            raise ValueError(f"baseline has dimension {baseline.dim}, queries have {self.dim}")
        self.baseline = baseline
        self._base_rows = None
        self.pending_rows = None
        setting = self._threshold_setting
        self.score_limit = None
        if setting == AUTO:
            z = ALARM_Z * self._auto_factor
            self.threshold = baseline.drift_quantile(self.window_size, z)
            if baseline.whitening is not None:
                self.score_limit = baseline.whitening.limit(self.window_size, baseline.count, z)
        elif setting is None:
            self.threshold = None
        else:
            self.threshold = float(setting)

    def update(self, query: np.ndarray) -> DriftUpdate:
        """Add one float64 query vector; return the drift after it."""
        if self.baseline is None and self.pending_rows is None:
            self._collect(query)
        self._push(query)
        baseline = self.baseline
        if baseline is None or self._ring_filled < self.window_size:
            return DriftUpdate(drift=None, crossed=False)
        shift = self._ring_sum / self.window_size - baseline.centroid
        squared = float(shift @ shift)
        drift = math.sqrt(squared)
        self.drift = drift
        raw = score = None
        whitening = baseline.whitening
        if whitening is not None:
            raw = whitening.score(shift, squared)
            score = whitening.normal_score(raw, self.window_size, baseline.count)
        self.score = score
        crossed = False
        value, limit = drift, self.threshold
        if self.score_limit is not None and raw is not None:
            value, limit = raw, self.score_limit  # auto, whitened
        if limit is not None:
            over, below = value > limit, value < limit * REARM_RATIO
            if self._armed and over:
                crossed = True
                self._armed = False
            elif not self._armed and below:
                self._armed = True
        return DriftUpdate(drift=drift, crossed=crossed, score=score)

    def _collect(self, query: np.ndarray) -> None:
        if self._base_rows is None:
            self._base_rows = np.empty((self.baseline_size, self.dim), dtype=np.float64)
        self._base_rows[self._base_count] = query
        self._base_count += 1
        if self._base_count < self.baseline_size:
            return
        rows, self._base_rows = self._base_rows, None
        if self._analyse_baseline:
            self.set_baseline(Baseline.from_vectors(rows))
        else:
            self.pending_rows = rows

    def _push(self, query: np.ndarray) -> None:
        pos = self._ring_pos
        if self._ring_filled == self.window_size:
            self._ring_sum -= self._ring[pos]
        else:
            self._ring_filled += 1
        self._ring[pos] = query
        self._ring_sum += query
        self._ring_pos = (pos + 1) % self.window_size
        if self._ring_pos == 0:
            self._ring_sum = self._ring[: self._ring_filled].sum(axis=0)
