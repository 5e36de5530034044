"""Process-wide counters of everything ragtel cut, dropped or failed at: nothing is lost silently.

Read them with ``ragtel.stats()``; ``configure()`` also exports them as OTel metrics.
"""

from __future__ import annotations

import threading
from collections import Counter

_lock = threading.Lock()
_counts: Counter[str] = Counter()


def add(name: str, amount: int = 1) -> None:
    with _lock:
        _counts[name] += amount


def snapshot() -> dict[str, int]:
    """A copy of every counter, e.g. ``{"spans_started": 90, "spans_exported": 90}``.

    Spans, over every processor ``ragtel.configure()`` installed, obey one identity::

        spans_started = spans_exported + (sum of every spans_lost_* counter)

    once the processors were flushed (``provider.force_flush()``) or shut down (at exit, within
    ``RAGTEL_SHUTDOWN_TIMEOUT``); before that the difference is the spans still open, queued or
    being sent. The losses, each counted where it happens:

    - ``spans_lost_queue_full``: the batch queue (2,048 spans) was full;
    - ``spans_lost_export_failed``: the exporter failed (endpoint down, refused, timed out);
    - ``spans_lost_too_large``: one span encoded larger than a whole export request may be;
    - ``spans_lost_at_shutdown``: still queued or being sent when shutdown's time ran out;
    - ``spans_lost_unended``: started but never ended when the processor shut down;
    - ``spans_lost_after_shutdown``: started on a provider already shut down.

    Cuts inside spans are counted too (``documents_not_recorded``, ``vectors_not_recorded``,
    ``ragtel.text.truncated_count``, ``ragtel.span.bytes_truncated``, ...), as are
    ``internal_errors`` and ``redaction_failures`` (a user ``redact`` function that raised: the
    text was replaced, never exported unredacted).
    """
    with _lock:
        return dict(_counts)


def reset() -> None:
    with _lock:
        _counts.clear()
