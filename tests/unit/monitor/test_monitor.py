"""EmbeddingMonitor: distances, bounded sample, drift state, baseline files, config, metrics."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from ragtel.monitor import EmbeddingMonitor, MonitorConfig, load_baseline_file
from ragtel.monitor._baseline import Baseline
from ragtel.monitor._config import ENV_DRIFT_THRESHOLD, ENV_WINDOW_SIZE
from ragtel.monitor._drift import ALARM_Z


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def test_no_context_yet_returns_none() -> None:
    monitor = EmbeddingMonitor(MonitorConfig(seed=0))
    assert monitor.observe_query([1.0, 0.0, 0.0]) is None


def test_distances_match_brute_force() -> None:
    rng = np.random.default_rng(1)
    docs = rng.standard_normal((300, 16))
    query = rng.standard_normal(16)
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=1000, seed=0))
    monitor.observe_context(docs)
    d = monitor.observe_query(query)
    assert d is not None
    centroid = docs.mean(axis=0)
    cos = docs @ query / (np.linalg.norm(docs, axis=1) * np.linalg.norm(query))
    assert d.centroid_euclidean == pytest.approx(np.linalg.norm(query - centroid), rel=1e-6)
    assert d.centroid_cosine == pytest.approx(
        1 - centroid @ query / np.linalg.norm(centroid) / np.linalg.norm(query), rel=1e-6
    )
    assert d.nearest_euclidean == pytest.approx(
        np.linalg.norm(docs - query, axis=1).min(), rel=1e-4
    )
    assert d.nearest_cosine == pytest.approx(1 - cos.max(), abs=1e-5)
    assert d.drift is None and not d.drift_crossed


def test_sample_is_bounded_and_uniform() -> None:
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=100, seed=0))
    # 10,000 vectors whose first coordinate is their arrival index, fed in uneven batches.
    values = np.arange(10_000, dtype=np.float64)
    rows = np.column_stack([values, np.ones_like(values)])
    for start, stop in ((0, 7), (7, 5000), (5000, 5001), (5001, 10_000)):
        monitor.observe_context(rows[start:stop])
    reference = monitor._reference
    assert reference is not None and reference.sample.shape == (100, 2)
    assert monitor.context_count == 10_000
    # A uniform sample of 0..9999 has mean ~5000 (sd ~290 for 100 draws).
    assert 4000 < reference.sample[:, 0].mean() < 6000
    assert reference.centroid[0] == pytest.approx(values.mean())


def test_dimension_mismatch_and_bad_values_raise() -> None:
    monitor = EmbeddingMonitor(MonitorConfig(seed=0))
    monitor.observe_context(np.ones((3, 4)))
    with pytest.raises(ValueError):
        monitor.observe_query([1.0, 2.0])
    with pytest.raises(ValueError):
        monitor.observe_context([[np.nan, 1.0, 1.0, 1.0]])


def test_crossing_fires_once_and_rearms() -> None:
    monitor = EmbeddingMonitor(
        MonitorConfig(window_size=5, baseline_size=5, drift_threshold=0.5, seed=0)
    )
    monitor.observe_context([[1.0, 0.0]])
    crossings = []
    stream = [[1.0, 0.0]] * 10 + [[0.0, 1.0]] * 10 + [[1.0, 0.0]] * 10 + [[0.0, 1.0]] * 10
    for i, q in enumerate(stream):
        d = monitor.observe_query(q)
        monitor.wait_for_baseline()
        assert d is not None
        if d.drift_crossed:
            crossings.append(i)
    # Crosses once while moving away, re-arms after returning, crosses again.
    assert len(crossings) == 2
    assert 10 <= crossings[0] < 15 and 30 <= crossings[1] < 35


def test_auto_threshold_is_resolved_from_the_baseline() -> None:
    rng = np.random.default_rng(0)
    monitor = EmbeddingMonitor(MonitorConfig(window_size=50, baseline_size=200, seed=0))
    monitor.observe_context(unit(rng.standard_normal((10, 32))))
    assert monitor.drift_threshold is None
    for q in unit(rng.standard_normal((200, 32))):
        monitor.observe_query(q)
    assert monitor.wait_for_baseline(timeout=60)
    baseline = monitor.baseline
    assert baseline is not None
    # 200 queries make too few per direction to whiten 32 dimensions well: the distance decides.
    expected = baseline.drift_quantile(50, monitor.config.drift_auto_factor * ALARM_Z)
    assert monitor.drift_threshold == pytest.approx(expected)


def test_report_only_never_crosses() -> None:
    monitor = EmbeddingMonitor(MonitorConfig(window_size=2, baseline_size=2, drift_threshold=None))
    monitor.observe_context([[1.0, 0.0]])
    results = []
    for q in [[1.0, 0.0]] * 4 + [[0.0, 1.0]] * 4:
        results.append(monitor.observe_query(q))
        monitor.wait_for_baseline()
    assert all(r is not None and not r.drift_crossed for r in results)
    assert results[-1] is not None and results[-1].drift == pytest.approx(np.sqrt(2))


def test_baseline_round_trip_and_autosave(tmp_path) -> None:
    path = tmp_path / "baseline.json"
    config = MonitorConfig(window_size=3, baseline_size=4, baseline_path=str(path), seed=0)
    first = EmbeddingMonitor(config)
    first.observe_context([[0.0, 1.0]])
    for q in ([1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]):
        first.observe_query(q)
    assert first.wait_for_baseline(timeout=60)
    assert path.exists(), "the baseline is written once formed"
    saved = load_baseline_file(path)
    assert saved.count == 4 and np.allclose(saved.centroid, [0.75, 0.5])
    # A new process loads it: drift is available as soon as its window is full.
    second = EmbeddingMonitor(config)
    second.observe_context([[0.0, 1.0]])
    results = [second.observe_query([0.0, 1.0]) for _ in range(3)]
    assert results[-1] is not None and results[-1].drift == pytest.approx(
        np.linalg.norm(np.array([0.0, 1.0]) - [0.75, 0.5])
    )
    other = tmp_path / "explicit.json"
    second.save_baseline(other)
    assert load_baseline_file(other).count == 4


def test_save_baseline_before_one_exists_raises(tmp_path) -> None:
    with pytest.raises(RuntimeError):
        EmbeddingMonitor(MonitorConfig()).save_baseline(tmp_path / "b.json")


def test_environment_configures_unset_fields(monkeypatch) -> None:
    monkeypatch.setenv(ENV_WINDOW_SIZE, "42")
    monkeypatch.setenv(ENV_DRIFT_THRESHOLD, "none")
    config = MonitorConfig(sample_size=7)
    assert config.window_size == 42 and config.sample_size == 7 and config.drift_threshold is None
    assert MonitorConfig(window_size=3).window_size == 3  # the argument wins
    monkeypatch.setenv(ENV_WINDOW_SIZE, "banana")
    assert MonitorConfig().window_size == 100  # a bad variable falls back, it does not raise
    monkeypatch.setenv(ENV_DRIFT_THRESHOLD, "0.3")
    assert MonitorConfig().drift_threshold == 0.3


def test_invalid_arguments_raise() -> None:
    with pytest.raises(ValueError):
        MonitorConfig(window_size=0)
    with pytest.raises(ValueError):
        MonitorConfig(drift_threshold=-1.0)


def test_metrics_through_the_given_provider() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    monitor = EmbeddingMonitor(
        MonitorConfig(window_size=2, baseline_size=2, drift_threshold=0.5, seed=0),
        meter_provider=provider,
    )
    monitor.observe_context([[1.0, 0.0], [0.9, 0.1]])
    for q in [[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3:
        monitor.observe_query(q)
        monitor.wait_for_baseline()
    data = reader.get_metrics_data()
    points = {
        metric.name: metric.data.data_points
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    }
    for name in (
        "ragtel.monitor.centroid_distance",
        "ragtel.monitor.centroid_cosine_distance",
        "ragtel.monitor.nearest_distance",
        "ragtel.monitor.nearest_cosine_distance",
    ):
        assert next(iter(points[name])).count == 6
    assert next(iter(points["ragtel.monitor.drift"])).value == pytest.approx(np.sqrt(2))
    assert next(iter(points["ragtel.monitor.drift.threshold_crossings"])).value == 1


def test_concurrent_use() -> None:
    rng = np.random.default_rng(0)
    monitor = EmbeddingMonitor(
        MonitorConfig(sample_size=50, window_size=10, baseline_size=20, seed=0)
    )
    monitor.observe_context(rng.standard_normal((5, 8)))
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        local = np.random.default_rng(seed)
        try:
            for _ in range(200):
                monitor.observe_context(local.standard_normal((3, 8)))
                monitor.observe_query(local.standard_normal(8))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert monitor.context_count == 5 + 4 * 200 * 3


def test_the_baseline_is_analysed_off_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """The query that completes the baseline returns without waiting for its analysis (a held
    analysis here, tenths of a second or more in real use); queries go on without drift until
    it is in force, then drift is measured."""
    release, threads = threading.Event(), []
    analyse = Baseline.from_vectors

    def held(rows: np.ndarray) -> Baseline:
        threads.append(threading.current_thread().name)
        assert release.wait(timeout=30)
        return analyse(rows)

    monkeypatch.setattr(Baseline, "from_vectors", staticmethod(held))
    monitor = EmbeddingMonitor(MonitorConfig(window_size=3, baseline_size=4, seed=0))
    monitor.observe_context([[1.0, 0.0]])
    results = [monitor.observe_query([1.0, float(i % 2)]) for i in range(8)]
    assert all(r is not None and r.drift is None for r in results)
    assert monitor.baseline is None and not monitor.wait_for_baseline(timeout=0.05)
    release.set()
    assert monitor.wait_for_baseline(timeout=30)
    assert threads == ["ragtel-monitor-baseline"]
    assert monitor.baseline is not None and monitor.baseline.count == 4
    after = monitor.observe_query([1.0, 0.0])
    assert after is not None and after.drift is not None


def test_a_failed_baseline_analysis_falls_back_to_centroid_and_spread(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(rows: np.ndarray) -> Baseline:
        raise np.linalg.LinAlgError("eigenvalues did not converge")

    monkeypatch.setattr(Baseline, "from_vectors", staticmethod(broken))
    monitor = EmbeddingMonitor(MonitorConfig(window_size=2, baseline_size=2, drift_threshold=0.5))
    monitor.observe_context([[1.0, 0.0]])
    for q in ([1.0, 0.0], [0.0, 1.0]):
        monitor.observe_query(q)
    with caplog.at_level("WARNING", logger="ragtel.monitor"):
        assert monitor.wait_for_baseline(timeout=30)
    assert "baseline analysis failed" in caplog.text
    baseline = monitor.baseline
    assert baseline is not None and baseline.whitening is None
    assert np.allclose(baseline.centroid, [0.5, 0.5]) and baseline.spread == pytest.approx(0.5)
    result = monitor.observe_query([0.0, 1.0])
    assert result is not None and result.drift == pytest.approx(np.linalg.norm([-0.5, 0.5]))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
# Forking while the analysis thread runs is the case under test; Python 3.12+ warns about it.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_process_forked_during_the_analysis_analyses_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker forked while the baseline thread runs inherits the queries but not the thread:
    its next query starts the analysis again, and its drift is then measured."""
    parent, release = os.getpid(), threading.Event()
    analyse = Baseline.from_vectors

    def held_in_parent(rows: np.ndarray) -> Baseline:
        if os.getpid() == parent:
            assert release.wait(timeout=30)
        return analyse(rows)

    monkeypatch.setattr(Baseline, "from_vectors", staticmethod(held_in_parent))
    monitor = EmbeddingMonitor(MonitorConfig(window_size=3, baseline_size=4, seed=0))
    monitor.observe_context([[1.0, 0.0]])
    for i in range(4):
        monitor.observe_query([1.0, float(i % 2)])
    child = os.fork()
    if child == 0:  # pragma: no cover - reported through the exit code
        ok = False
        try:
            # Inherited: the queries, not the thread; nothing is in force or running yet.
            ok = not monitor.wait_for_baseline(timeout=0) and monitor.baseline is None
            monitor.observe_query([1.0, 0.0])
            ok = ok and monitor.wait_for_baseline(timeout=30) and monitor.baseline is not None
            result = monitor.observe_query([1.0, 0.0])
            ok = ok and result is not None and result.drift is not None
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    release.set()
    assert monitor.wait_for_baseline(timeout=30)
    assert os.waitstatus_to_exitcode(status) == 0
