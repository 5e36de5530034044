"""Baseline of query embeddings: centroid, count and spread, saved as a small JSON file.

The spread (trace of the covariance, i.e. mean squared distance to the centroid) is what lets a
threshold be set in units of the noise a window centroid has when nothing changed, instead of a
raw distance that would mean something different for every embedding model.

That alone is not enough on real sentence embeddings (bench/gaps/drift.py): they put most of
their variance in a few dozen directions, so how far a window centroid strays by chance varies a
lot from window to window, and a new topic moves the centroid by about as much as that noise.
Two more figures fix this. The trace of the squared covariance (tr Σ²) gives the effective
dimension, hence the far quantile of the centroid distance rather than its mean. And
:class:`Whitening` measures the window's shift per direction in units of the baseline's own
spread along it: questions on a topic the baseline never saw move the centroid along directions
in which the baseline queries hardly varied, where the shift stands out from the noise by several
times more than in plain distance.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

FORMAT: Final = "ragtel.monitor.baseline"
VERSION: Final = 1
# Effective dimension assumed for a baseline without tr Σ² (a file from an older ragtel): below
# the 33-68 that all-MiniLM-L6-v2 questions have, so the threshold errs towards fewer alarms.
ASSUMED_EFFECTIVE_DIMENSION: Final = 20.0
# Principal directions whitened individually; the rest share one variance. Fewer leave a new
# topic's shift mixed with the dominant noise; more are estimated from too few queries (500 in
# 384 dimensions) and then amplify noise (bench/gaps/drift.py: 60 separated the unchanged from
# the changed streams best on company and pyfaq, 40-80 nearly as well).
WHITENED_DIRECTIONS: Final = 60
# The whitened score's null distribution is estimated out of sample, by fitting on all blocks of
# the baseline but one and measuring on that one; fewer than this many queries are too few.
SCORE_FOLDS: Final = 5
MIN_WHITENING_QUERIES: Final = 50


def normal_score(ratio: float, h: float) -> float:
    """Normal score of a scaled chi-square with ``h`` degrees of freedom at ``ratio`` times its
    mean (Wilson-Hilferty cube-root approximation, accurate in the far tail from a few degrees
    of freedom on)."""
    a = 2.0 / (9.0 * h)
    return (math.copysign(abs(ratio) ** (1.0 / 3.0), ratio) - (1.0 - a)) / math.sqrt(a)


def chi_square_ratio(z: float, h: float) -> float:
    """Inverse of :func:`normal_score`: the quantile over the mean of a chi-square with ``h``
    degrees of freedom that a standard normal's ``z`` corresponds to."""
    a = 2.0 / (9.0 * h)
    return max(1.0 - a + z * math.sqrt(a), 0.0) ** 3


@dataclass(frozen=True, slots=True)
class Whitening:
    """The baseline's principal directions, and the null distribution of the whitened shift.

    The score of a shift v (window centroid minus baseline centroid) is
    ``vᵀAv = sum(weights * (directions @ v)²) + |v|² / residual``, A being the inverse of the
    baseline covariance with every eigenvalue outside ``directions`` replaced by their mean
    ``residual`` (weights = 1/(λ + residual) - 1/residual, so the top eigenvalues are damped by
    the same amount, which keeps poorly estimated directions from dominating). For a window from
    the baseline distribution the score is a weighted sum of chi-squares with mean
    ``c * mean`` and ``Σ weight² = c² * square``, c = 1/W + 1/N, estimated out of sample: with
    the directions fitted on the same queries, in-sample figures understate the noise along
    the weakest directions and the score would cross by chance.
    """

    directions: np.ndarray  # (k, dim) float32, orthonormal rows
    weights: np.ndarray  # (k,)
    residual: float
    mean: float  # tr(AΣ)
    square: float  # tr((AΣ)²)

    def score(self, shift: np.ndarray, squared_norm: float | None = None) -> float:
        """vᵀAv of a shift vector (``squared_norm``: its v·v when already known)."""
        # float32: the product is memory-bound, and half the bytes took a third off its time.
        projected = self.directions @ shift.astype(np.float32)
        if squared_norm is None:
            squared_norm = float(shift @ shift)
        return float(self.weights @ (projected * projected)) + squared_norm / self.residual

    def limit(self, window_size: int, count: int, z: float) -> float:
        """The score sampling noise exceeds about as rarely as a standard normal exceeds z."""
        c = 1.0 / window_size + 1.0 / count
        h = self.mean * self.mean / self.square
        return c * self.mean * chi_square_ratio(z, h)

    def normal_score(self, value: float, window_size: int, count: int) -> float:
        """A score as the standard normal deviate equally rare under no change."""
        c = 1.0 / window_size + 1.0 / count
        return normal_score(value / (c * self.mean), self.mean * self.mean / self.square)

    @classmethod
    def fit(cls, rows: np.ndarray, k: int = WHITENED_DIRECTIONS, folds: int = SCORE_FOLDS
            ) -> Whitening | None:  # fmt: skip
        """From ``(n, dim)`` baseline queries; None when they are too few or do not vary."""
        n, dim = rows.shape
        # At least 8 queries per whitened direction: fewer estimate it too poorly to divide by.
        k = min(k, dim - 1, n // 8)
        if n < MIN_WHITENING_QUERIES or k < 1:
            return None
        fitted = _principal(rows - rows.mean(axis=0), k)
        if fitted is None:
            return None
        # Contiguous blocks, not interleaved rows: with session-correlated traffic neighbours
        # resemble each other, and a held-out block then tells the truth about new queries.
        edges = np.linspace(0, n, folds + 1).astype(int)
        means, squares = [], []
        for lo, hi in itertools.pairwise(edges.tolist()):
            train = np.concatenate([rows[:lo], rows[hi:]])
            held = rows[lo:hi]
            part = _principal(train - train.mean(axis=0), k)
            if part is None or hi - lo < 3:
                return None
            mean, square = part.moments(held - held.mean(axis=0))
            means.append(mean)
            squares.append(square)
        mean, square = float(np.mean(means)), float(np.mean(squares))
        if not (mean > 0 and square > 0):
            return None
        return cls(fitted.directions, fitted.weights, fitted.residual, mean, square)

    def moments(self, centred: np.ndarray) -> tuple[float, float]:
        """Estimates of tr(AΣ) and tr((AΣ)²) from ``centred`` rows of the distribution Σ."""
        m = len(centred)
        projected = centred @ self.directions.T
        # The m x m matrix Y A Yᵀ: its trace and Frobenius norm give both traces without ever
        # forming a dim x dim matrix.
        inner = (projected * self.weights) @ projected.T + (centred @ centred.T) / self.residual
        mean = float(np.trace(inner)) / m
        square = float(np.einsum("ij,ij->", inner, inner)) / (m * m)
        # The plain estimate of tr((AΣ)²) carries tr(AΣ)²/m of sampling noise (Bai and
        # Saranadasa, 1996, for A = I); this removes it.
        square = m * m / ((m - 1) * (m + 2)) * (square - mean * mean / m)
        return mean, square

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored in a baseline file."""
        return {
            # Seven significant digits keep a file of 60 x 1536 directions near 1 MB instead of
            # 2, and change no score by more than a millionth.
            "directions": [[float(f"{x:.7g}") for x in row] for row in self.directions.tolist()],
            "weights": self.weights.tolist(),
            "residual": self.residual,
            "mean": self.mean,
            "square": self.square,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], dim: int) -> Whitening:
        """Parse :meth:`to_json`'s object; ValueError when the shapes do not fit."""
        directions = np.asarray(data["directions"], dtype=np.float32)
        weights = np.asarray(data["weights"], dtype=np.float64)
        if directions.ndim != 2 or directions.shape != (len(weights), dim):
            raise ValueError("baseline whitening does not match its dimension")
        return cls(directions, weights, float(data["residual"]), float(data["mean"]),
                   float(data["square"]))  # fmt: skip


def _principal(centred: np.ndarray, k: int) -> Whitening | None:
    """Top-``k`` principal directions of centred rows (moments left at zero)."""
    n, dim = centred.shape
    if n <= dim:
        # Through the n x n Gram matrix: cheaper than the dim x dim covariance when n < dim.
        values, vectors = np.linalg.eigh(centred @ centred.T)
        values, vectors = values[::-1][:k], vectors[:, ::-1][:, :k]
        if not values[-1] > 0:
            return None
        directions = (centred.T @ vectors / np.sqrt(values)).T
    else:
        values, vectors = np.linalg.eigh(centred.T @ centred)
        values, directions = values[::-1][:k], vectors[:, ::-1][:, :k].T
    total = float(np.einsum("ij,ij->", centred, centred)) / n
    top = values / n
    residual = (total - float(top.sum())) / (dim - k)
    if not residual > 1e-12 * max(total, 1e-300):
        return None
    weights = 1.0 / (top + residual) - 1.0 / residual
    return Whitening(np.ascontiguousarray(directions, dtype=np.float32), weights, residual, 0.0,
                     0.0)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Baseline:
    """Summary of the reference query distribution.

    Attributes:
        centroid: mean query vector (float64, shape ``(dim,)``).
        count: number of queries it was computed from.
        spread: mean squared Euclidean distance of those queries to the centroid (tr Σ).
        spread_sq: tr Σ², None when unknown (a file from an older ragtel, or built from sums).
        whitening: principal directions and the whitened score's noise, None when unknown.
    """

    centroid: np.ndarray
    count: int
    spread: float
    spread_sq: float | None = None
    whitening: Whitening | None = None

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.centroid.shape[0])

    def noise_level(self, window_size: int) -> float:
        """Expected drift of a ``window_size``-query window drawn from this same distribution.

        For independent draws E|mean_W - mean_N|^2 = spread * (1/W + 1/N); the square root is the
        scale a drift value is compared with.
        """
        return math.sqrt(max(self.spread, 0.0) * (1.0 / window_size + 1.0 / self.count))

    @property
    def effective_dimension(self) -> float:
        """(tr Σ)² / tr Σ²: how many equally strong directions the queries' variance is worth;
        :data:`ASSUMED_EFFECTIVE_DIMENSION` when tr Σ² is unknown."""
        if self.spread_sq is None or not self.spread_sq > 0 or not self.spread > 0:
            return ASSUMED_EFFECTIVE_DIMENSION
        return max(self.spread * self.spread / self.spread_sq, 1.0)

    def drift_quantile(self, window_size: int, z: float) -> float:
        """The drift a ``window_size``-query window from this same distribution exceeds about as
        rarely as a standard normal exceeds ``z``.

        The squared drift is then a sum of chi-squares weighted by the covariance eigenvalues,
        times 1/W + 1/N; it is matched to a scaled chi-square with the effective dimension as
        degrees of freedom (Satterthwaite), whose mean is :meth:`noise_level` squared.
        """
        ratio = chi_square_ratio(z, self.effective_dimension)
        return self.noise_level(window_size) * math.sqrt(ratio)

    @classmethod
    def from_sums(cls, total: np.ndarray, total_sq: float, count: int) -> Baseline:
        """Build from a running sum of vectors and of squared norms."""
        centroid = total / count
        spread = total_sq / count - float(centroid @ centroid)
        return cls(centroid=centroid, count=count, spread=max(spread, 0.0))

    @classmethod
    def from_vectors(cls, vectors: np.ndarray) -> Baseline:
        """Build from a ``(n, dim)`` array of query vectors, with tr Σ² and the whitening.

        Costs a few eigendecompositions of at most ``n x n`` (tens of milliseconds for 500
        queries), once per baseline."""
        array = np.asarray(vectors, dtype=np.float64)
        n = len(array)
        centroid = array.mean(axis=0)
        centred = array - centroid
        gram = centred @ centred.T if n <= array.shape[1] else centred.T @ centred
        spread = float(np.trace(gram)) / n
        spread_sq: float | None = float(np.einsum("ij,ij->", gram, gram)) / (n * n)
        if n > 2 and spread_sq is not None:
            # tr S² overstates tr Σ² by about (tr Σ)²/n; the Bai-Saranadasa correction.
            spread_sq = n * n / ((n - 1) * (n + 2)) * (spread_sq - spread * spread / n)
        if spread_sq is not None and not spread_sq > 0:
            spread_sq = None
        return cls(centroid=centroid, count=n, spread=max(spread, 0.0), spread_sq=spread_sq,
                   whitening=Whitening.fit(array))  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """The file's JSON object."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "dim": self.dim,
            "count": self.count,
            "spread": self.spread,
            "centroid": self.centroid.tolist(),
            # Optional: files from before they existed lack them; readers ignore unknown keys.
            "spread_sq": self.spread_sq,
            "whitening": None if self.whitening is None else self.whitening.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Baseline:
        """Parse the file's JSON object; raises ValueError when it is not a ragtel baseline."""
        if data.get("format") != FORMAT:
            raise ValueError("not a ragtel monitor baseline file")
        centroid = np.asarray(data["centroid"], dtype=np.float64)
        if centroid.ndim != 1 or centroid.shape[0] != int(data["dim"]):
            raise ValueError("baseline centroid does not match its dimension")
        count = int(data["count"])
        if count <= 0:
            raise ValueError("baseline count must be positive")
        spread_sq = data.get("spread_sq")
        whitening = data.get("whitening")
        return cls(
            centroid=centroid,
            count=count,
            spread=float(data["spread"]),
            spread_sq=None if spread_sq is None else float(spread_sq),
            whitening=None if whitening is None else Whitening.from_json(whitening, len(centroid)),
        )


def save_baseline_file(baseline: Baseline, path: str | os.PathLike[str]) -> None:
    """Write atomically, so a crash mid-write never leaves a truncated baseline to be loaded."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(baseline.to_json(), handle)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_baseline_file(path: str | os.PathLike[str]) -> Baseline:
    """Read a file written by :func:`save_baseline_file`."""
    with open(path, encoding="utf-8") as handle:
        return Baseline.from_json(json.load(handle))
