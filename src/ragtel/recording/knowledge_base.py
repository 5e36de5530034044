"""The monitor's knowledge-base sample, exported so that ``ragtel drift`` has a reference.

An analysis of Jaeger or Phoenix alone sees no document vector when the index was built by
another process (an ingestion job, often long before the queries). The in-process monitor holds
a sample of the knowledge base it measures queries against. When that knowledge base did not
come (only) from index builds the traces hold already (a store loaded with
``ragtel.observe_knowledge_base``), the sample is exported before the first query it measures,
and again after it changed (at most once per ``MIN_INTERVAL_S``), as a trace of its own: sampled
vectors, document ids and texts, the ids and texts through the text policy (content capture off:
vectors only).
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Final

from ragtel._guard import report

if TYPE_CHECKING:
    from ragtel.recording.recorder import Recorder

MIN_INTERVAL_S: Final = 60.0

_lock = threading.Lock()
# monitor -> (version exported, monotonic time of the export); weak, so that a discarded monitor
# is forgotten rather than mistaken for a new one that happens to reuse its id.
_exported: weakref.WeakKeyDictionary[Any, tuple[int, float]] = weakref.WeakKeyDictionary()


def export_if_changed(rec: Recorder, monitor: Any) -> bool:
    """Export ``monitor``'s sample when it changed since its last export; True if exported."""
    version = getattr(monitor, "knowledge_base_version", 0)
    if not version:
        return False
    now = time.monotonic()
    with _lock:
        last = _exported.get(monitor)
        if last is not None and (last[0] == version or now - last[1] < MIN_INTERVAL_S):
            return False
        _exported[monitor] = (version, now)
    try:
        _, sample = monitor.knowledge_base_sample()
        if sample is None:
            return False
        step = rec.start_knowledge_base_sample(sample.texts, sample.ids, sample.sampled_from)
        step.end_embedding(sample.vectors)
    except Exception as error:  # the query being recorded must not suffer
        report("knowledge base sample", error)
        # Not exported: keep the interval (a failing store is not asked at every query) but not
        # the version, so the sample goes out at a later query instead of never.
        with _lock:
            _exported[monitor] = (0, now)
        return False
    return True


def forget(monitor: Any) -> None:
    """Export ``monitor``'s sample again at the next query (a new provider, a test)."""
    with _lock:
        _exported.pop(monitor, None)
