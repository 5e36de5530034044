"""Baseline of query embeddings: centroid, count and spread, saved as a small JSON file.

The spread (trace of the covariance, i.e. mean squared distance to the centroid) is what lets a
threshold be set in units of the noise a window centroid has when nothing changed, instead of a
raw distance that would mean something different for every embedding model.
"""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class Baseline:
    """Summary of the reference query distribution.

    Attributes:
        centroid: mean query vector (float64, shape ``(dim,)``).
        count: number of queries it was computed from.
        spread: mean squared Euclidean distance of those queries to the centroid.
    """

    centroid: np.ndarray
    count: int
    spread: float

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

    @classmethod
    def from_sums(cls, total: np.ndarray, total_sq: float, count: int) -> Baseline:
        """Build from a running sum of vectors and of squared norms."""
        centroid = total / count
        spread = total_sq / count - float(centroid @ centroid)
        return cls(centroid=centroid, count=count, spread=max(spread, 0.0))

    @classmethod
    def from_vectors(cls, vectors: np.ndarray) -> Baseline:
        """Build from a ``(n, dim)`` array of query vectors."""
        array = np.asarray(vectors, dtype=np.float64)
        return cls.from_sums(
            array.sum(axis=0), float(np.einsum("ij,ij->", array, array)), len(array)
        )

    def to_json(self) -> dict[str, Any]:
        """The file's JSON object."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "dim": self.dim,
            "count": self.count,
            "spread": self.spread,
            "centroid": self.centroid.tolist(),
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
        return cls(centroid=centroid, count=count, spread=float(data["spread"]))


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
