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
    """A copy of every counter, e.g. ``{"documents_not_recorded": 50, "internal_errors": 0}``."""
    with _lock:
        return dict(_counts)


def reset() -> None:
    with _lock:
        _counts.clear()
