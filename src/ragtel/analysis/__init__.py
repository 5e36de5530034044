"""Offline analysis of recorded spans: ``ragtel drift``.

Data flows one way: a span source (:mod:`~ragtel.analysis._sources`: OTLP JSON lines, Jaeger,
Phoenix) -> span views (:mod:`~ragtel.analysis._spans`) -> bounded accumulation
(:mod:`~ragtel.analysis._collect`) -> drift over time (:mod:`~ragtel.analysis.drift`) and knowledge
gaps (:mod:`~ragtel.analysis.gaps`) -> report (:mod:`~ragtel.analysis.report`). The command's
options and exit codes are :mod:`~ragtel.analysis.cli`. Numpy only; plots need ``ragtel[report]``.
"""

from ragtel.analysis._collect import Collector
from ragtel.analysis._knowledge_base import read_knowledge_base
from ragtel.analysis.drift import DriftAnalysis, analyze

__all__ = ["Collector", "DriftAnalysis", "analyze", "read_knowledge_base"]
