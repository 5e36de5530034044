"""The drift alarm on streams whose answer is known: anisotropic Gaussian queries like sentence
embeddings (a few strong directions, many weak ones), with and without a change."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ragtel.monitor import Baseline, EmbeddingMonitor, MonitorConfig, load_baseline_file
from ragtel.monitor._baseline import ASSUMED_EFFECTIVE_DIMENSION
from ragtel.monitor._drift import ALARM_Z

DIM = 96
STRONG = 8  # directions holding most of the variance: effective dimension about 10


def _rotation(seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(1000 + seed).standard_normal((DIM, DIM)))
    return q


def _queries(rng: np.random.Generator, n: int, rotation: np.ndarray) -> np.ndarray:
    scales = np.r_[np.full(STRONG, 3.0), np.full(DIM - STRONG, 0.3)]
    return (rng.standard_normal((n, DIM)) * scales) @ rotation.T


def _run(monitor: EmbeddingMonitor, stream: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Queries that crossed, and per query the drift score and drift (NaN before there is one)."""
    crossings, values = [], np.full((2, len(stream)), np.nan)
    for i, query in enumerate(stream):
        result = monitor.observe_query(query)
        monitor.wait_for_baseline()  # as if the next query came after its analysis finished
        assert result is not None
        values[:, i] = [np.nan if v is None else v for v in (result.drift_score, result.drift)]
        if result.drift_crossed:
            crossings.append(i)
    return crossings, values


def _monitor(seed: int, **options: object) -> EmbeddingMonitor:
    monitor = EmbeddingMonitor(MonitorConfig(seed=seed, **options))  # type: ignore[arg-type]
    monitor.observe_context(np.eye(DIM))
    return monitor


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_unchanged_stream_never_crosses_and_its_score_is_calibrated(seed: int) -> None:
    rng = np.random.default_rng(seed)
    monitor = _monitor(seed)
    crossings, (scores, _) = _run(monitor, _queries(rng, 4000, _rotation(seed)))
    assert crossings == []
    # A standard normal deviate when nothing changes: centred near 0 (a little below: the
    # noise is estimated out of sample, with directions fitted on fewer queries), never near
    # the limit.
    known = scores[600:]
    assert -1.0 < known.mean() < 0.5, known.mean()
    assert 0.4 < known.std() < 1.3, known.std()
    assert known.max() < ALARM_Z - 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_shift_along_a_weak_direction_is_caught_that_distance_misses(seed: int) -> None:
    """30% of the queries, from query 1,000 on, move along a direction in which the baseline
    barely varied: the centroid moves by a third of its plain-distance threshold, but the
    whitened score crosses within 150 queries."""
    rng = np.random.default_rng(seed)
    rotation = _rotation(seed)
    stream = _queries(rng, 2000, rotation)
    moved = np.flatnonzero(rng.random(1000) < 0.3) + 1000
    stream[moved] += 1.2 * rotation[:, DIM - 1]
    monitor = _monitor(seed)
    crossings, (scores, drifts) = _run(monitor, stream)
    assert crossings, f"never crossed; peak score {np.nanmax(scores):.2f}"
    assert 1000 <= crossings[0] < 1150, crossings
    threshold = monitor.drift_threshold
    assert threshold is not None
    assert np.nanmax(drifts) < threshold, "plain distance would have seen it too"


def test_the_auto_threshold_is_a_far_quantile_of_the_baseline_noise() -> None:
    rng = np.random.default_rng(0)
    monitor = _monitor(0, window_size=50, baseline_size=400)
    _run(monitor, _queries(rng, 400, _rotation(0)))
    baseline = monitor.baseline
    assert baseline is not None and baseline.whitening is not None
    assert 7 < baseline.effective_dimension < 13  # 8 strong directions, 88 weak ones
    assert monitor.drift_threshold == pytest.approx(baseline.drift_quantile(50, ALARM_Z))
    # Above the noise's root mean square by the tail of a chi-square with ~10 degrees of freedom.
    assert 1.6 < monitor.drift_threshold / baseline.noise_level(50) < 2.4
    stricter = _monitor(0, window_size=50, baseline_size=400, drift_auto_factor=1.5)
    _run(stricter, _queries(np.random.default_rng(0), 400, _rotation(0)))
    assert stricter.drift_threshold == pytest.approx(baseline.drift_quantile(50, 1.5 * ALARM_Z))


def test_a_baseline_file_keeps_the_whitening(tmp_path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "baseline.json"
    first = _monitor(0, baseline_path=str(path))
    stream = _queries(rng, 700, _rotation(0))
    _, (scores, _) = _run(first, stream)
    second = _monitor(0, baseline_path=str(path))
    _, (again, _) = _run(second, stream[600:])
    # The loaded baseline scores the same window as the one that wrote it.
    assert again[-1] == pytest.approx(scores[-1], rel=1e-4)
    assert second.drift_threshold == pytest.approx(first.drift_threshold)


def test_a_baseline_file_without_the_new_figures_still_alarms(tmp_path) -> None:
    """Files written before tr Σ² and the whitening were recorded: the distance decides, with
    the threshold from an assumed effective dimension."""
    rng = np.random.default_rng(0)
    rows = _queries(rng, 500, _rotation(0))
    data = Baseline.from_vectors(rows).to_json()
    for key in ("spread_sq", "whitening"):
        del data[key]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    old = load_baseline_file(path)
    assert old.spread_sq is None and old.whitening is None
    assert old.effective_dimension == ASSUMED_EFFECTIVE_DIMENSION
    monitor = _monitor(0, baseline_path=str(path))
    calm, _ = _run(monitor, _queries(rng, 300, _rotation(0)))
    assert calm == []
    crossed, (scores, _) = _run(monitor, _queries(rng, 200, _rotation(0)) + 3.0)
    assert crossed and np.isnan(scores).all()


def test_too_few_baseline_queries_to_whiten_fall_back_to_the_distance() -> None:
    rng = np.random.default_rng(0)
    monitor = _monitor(0, window_size=10, baseline_size=20)
    calm, (scores, _) = _run(monitor, _queries(rng, 200, _rotation(0)))
    assert monitor.baseline is not None and monitor.baseline.whitening is None
    assert calm == [] and np.isnan(scores).all()
    crossed, _ = _run(monitor, _queries(rng, 50, _rotation(0)) + 5.0)
    assert crossed


def test_more_dimensions_than_baseline_queries() -> None:
    """At 640 dimensions the 500 baseline queries span only part of the space (the fit goes
    through their 500 x 500 Gram matrix). The noise is overestimated there (the folds' fits on
    400 queries overfit more than the whole baseline's), so the score errs low, towards fewer
    alarms; a shift is still caught."""
    dim = 640
    rng = np.random.default_rng(5)
    rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    scales = np.r_[np.full(12, 3.0), np.full(dim - 12, 0.3)]
    stream = (rng.standard_normal((2000, dim)) * scales) @ rotation.T
    moved = np.flatnonzero(rng.random(1000) < 0.3) + 1000
    stream[moved] += 1.5 * rotation[:, dim - 1]
    monitor = EmbeddingMonitor(MonitorConfig(seed=0))
    monitor.observe_context(stream[:5])
    crossings, (scores, _) = _run(monitor, stream)
    assert monitor.baseline is not None and monitor.baseline.whitening is not None
    assert -2.0 < np.nanmean(scores[600:1000]) < 0.0
    assert crossings and 1000 <= crossings[0] < 1150, crossings
