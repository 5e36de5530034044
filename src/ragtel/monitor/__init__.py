"""In-process embedding monitoring: distance of queries to the knowledge base, and drift.

Numpy only, fed by the integrations::

    monitor = EmbeddingMonitor(MonitorConfig(window_size=100))
    monitor.observe_context(document_vectors)
    distances = monitor.observe_query(query_vector)   # QueryDistances | None

The knowledge base can also come whole from where it is kept::

    monitor.observe_knowledge_base(knowledge_base_from(vector_store_or_index))

The offline analysis of recorded spans (``ragtel drift``, knowledge gaps, the report) is
:mod:`ragtel.analysis`; it reads this package's baseline files, and this package knows
nothing of it.
"""

from ragtel.monitor._baseline import Baseline, load_baseline_file, save_baseline_file
from ragtel.monitor._config import MonitorConfig
from ragtel.monitor._knowledge_base import KnowledgeBase, knowledge_base_from
from ragtel.monitor._monitor import EmbeddingMonitor, QueryDistances

__all__ = [
    "Baseline",
    "EmbeddingMonitor",
    "KnowledgeBase",
    "MonitorConfig",
    "QueryDistances",
    "knowledge_base_from",
    "load_baseline_file",
    "save_baseline_file",
]
