"""Drift of the recent query window against a baseline, with threshold-crossing detection."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ragtel.monitor._baseline import Baseline
from ragtel.monitor._config import AUTO, ThresholdSetting

# Re-arm only once drift has fallen this far below the threshold: a value hovering at the
# threshold would otherwise emit an event on every other query.
REARM_RATIO = 0.9


@dataclass(frozen=True, slots=True)
class DriftUpdate:
    """Result of adding one query to the tracker."""

    drift: float | None
    crossed: bool
    baseline_completed: bool


class DriftTracker:
    """Sliding window of the last ``window_size`` queries compared with a baseline centroid.

    Each update is O(dim): the window keeps a running sum over a ring buffer. The sum is rebuilt
    from the buffer once per lap so floating-point error cannot accumulate over a long run.
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
    ) -> None:
        self.dim = dim
        self.window_size = window_size
        self.baseline_size = baseline_size
        self._threshold_setting = threshold
        self._auto_factor = auto_factor
        self._ring = np.zeros((window_size, dim), dtype=np.float64)
        self._ring_sum = np.zeros(dim, dtype=np.float64)
        self._ring_pos = 0
        self._ring_filled = 0
        self._base_sum = np.zeros(dim, dtype=np.float64)
        self._base_sq = 0.0
        self._base_count = 0
        self.baseline: Baseline | None = None
        self.threshold: float | None = None
        self.drift: float | None = None
        self._armed = True
        if baseline is not None:
            self.set_baseline(baseline)

    def set_baseline(self, baseline: Baseline) -> None:
        """Use ``baseline`` from now on and resolve the threshold against it."""
        if baseline.dim != self.dim:
            raise ValueError(f"baseline has dimension {baseline.dim}, queries have {self.dim}")
        self.baseline = baseline
        setting = self._threshold_setting
        if setting == AUTO:
            self.threshold = self._auto_factor * baseline.noise_level(self.window_size)
        elif setting is None:
            self.threshold = None
        else:
            self.threshold = float(setting)

    def update(self, query: np.ndarray) -> DriftUpdate:
        """Add one float64 query vector; return the drift after it."""
        completed = False
        if self.baseline is None:
            self._base_sum += query
            self._base_sq += float(query @ query)
            self._base_count += 1
            if self._base_count >= self.baseline_size:
                self.set_baseline(
                    Baseline.from_sums(self._base_sum, self._base_sq, self._base_count)
                )
                completed = True
        self._push(query)
        if self.baseline is None or self._ring_filled < self.window_size:
            return DriftUpdate(drift=None, crossed=False, baseline_completed=completed)
        drift = float(np.linalg.norm(self._ring_sum / self.window_size - self.baseline.centroid))
        self.drift = drift
        crossed = False
        if self.threshold is not None:
            if self._armed and drift > self.threshold:
                crossed = True
                self._armed = False
            elif not self._armed and drift < self.threshold * REARM_RATIO:
                self._armed = True
        return DriftUpdate(drift=drift, crossed=crossed, baseline_completed=completed)

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
