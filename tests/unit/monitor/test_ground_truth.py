"""The issue's ground truth for the in-process monitor: a corpus of 6 topics, 2,000 queries, after
query 1,000 30% of them from a topic the corpus lacks (tests.synthetic)."""

from __future__ import annotations

import numpy as np
import pytest

from ragtel.monitor import EmbeddingMonitor, MonitorConfig
from tests.synthetic import make_stream

SEEDS = (0, 1, 2)


@pytest.mark.parametrize("seed", SEEDS)
def test_in_process_drift_crosses_within_150_queries_and_never_before(seed: int) -> None:
    stream = make_stream(seed=seed)
    assert stream.queries.shape == (2000, 384) and len(np.unique(stream.document_topics)) >= 5
    monitor = EmbeddingMonitor(MonitorConfig(seed=seed))  # default window, baseline, threshold
    monitor.observe_context(stream.documents)
    crossings = []
    for i, query in enumerate(stream.queries):
        result = monitor.observe_query(query)
        monitor.wait_for_baseline()  # as if the next query came after its analysis finished
        assert result is not None
        if result.drift_crossed:
            crossings.append(i)
    assert crossings, "drift never crossed its threshold"
    assert crossings[0] >= stream.change_at, f"false alarm at query {crossings[0]}"
    assert crossings[0] < stream.change_at + 150, f"crossed only at query {crossings[0]}"
