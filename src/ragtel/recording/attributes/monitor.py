"""The embedding monitor's results on an EMBEDDING span: distances to the knowledge base, drift."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ragtel import _stats
from ragtel._guard import report
from ragtel.recording import knowledge_base
from ragtel.semconv import EmbeddingRole, Ragtel

if TYPE_CHECKING:
    from ragtel.recording.step import Step

DRIFT_CROSSED: Final = "ragtel.drift.threshold_crossed"
# Query-time documents are neither queries nor knowledge base; the exported sample is the
# monitor's own output.
_OBSERVED: Final = frozenset({EmbeddingRole.QUERY, EmbeddingRole.DOCUMENT})


def observe(step: Step, vectors: list[list[float]]) -> None:
    """Feed the vectors to the recorder's monitor; a query's distances go on the span."""
    monitor = step.recorder.monitor
    role = step.embedding_role
    if monitor is None or not vectors or role not in _OBSERVED:
        return
    try:
        if role == EmbeddingRole.QUERY:
            knowledge_base.export_if_changed(step.recorder, monitor)
        if role == EmbeddingRole.DOCUMENT:
            # The texts travel with the monitor's sample, which is exported (through the text
            # policy) as the offline analysis's reference.
            monitor.observe_context(vectors, texts=step.embedding_texts, recorded=True)
            return
        distances = monitor.observe_query(vectors[0])
    except ValueError:  # NaN/inf or a dimension change: not measurable, but counted
        _stats.add("monitor_vectors_rejected", len(vectors))
        return
    except Exception as error:  # the span is still recorded in full
        report("EmbeddingMonitor", error)
        return
    if distances is None:
        return
    attrs = step.pending
    attrs[Ragtel.QUERY_CENTROID_DISTANCE] = distances.centroid_euclidean
    attrs[Ragtel.QUERY_CENTROID_COSINE] = distances.centroid_cosine
    attrs[Ragtel.QUERY_NEAREST_DISTANCE] = distances.nearest_euclidean
    attrs[Ragtel.QUERY_NEAREST_COSINE] = distances.nearest_cosine
    if distances.drift is not None:
        attrs[Ragtel.DRIFT] = distances.drift
    if distances.drift_score is not None:
        attrs[Ragtel.DRIFT_SCORE] = distances.drift_score
    if distances.drift_crossed:
        event = {Ragtel.DRIFT: distances.drift or 0.0}
        if distances.drift_score is not None:
            event[Ragtel.DRIFT_SCORE] = distances.drift_score
        step.add_event(DRIFT_CROSSED, event)
