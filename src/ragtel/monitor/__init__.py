"""Embedding monitoring: distance of queries to the knowledge base, drift, knowledge gaps.

In-process (numpy only, fed by the integrations)::

    monitor = EmbeddingMonitor(MonitorConfig(window_size=100))
    monitor.observe_context(document_vectors)
    distances = monitor.observe_query(query_vector)   # QueryDistances | None

Offline, from recorded spans: ``ragtel drift SOURCE`` (:mod:`ragtel.monitor.cli`), built on
:func:`ragtel.monitor.analysis.analyze` and :func:`ragtel.monitor.gaps.find_gaps`.
"""

from ragtel.monitor._baseline import Baseline, load_baseline_file, save_baseline_file
from ragtel.monitor._config import MonitorConfig
from ragtel.monitor._monitor import EmbeddingMonitor, QueryDistances

__all__ = [
    "Baseline",
    "EmbeddingMonitor",
    "MonitorConfig",
    "QueryDistances",
    "load_baseline_file",
    "save_baseline_file",
]
