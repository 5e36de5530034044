"""The process-wide embedding monitor the integrations feed (``ragtel.monitor``)."""

from __future__ import annotations

import threading
from typing import Any

from ragtel.config import Settings

_lock = threading.Lock()
_monitor: Any = None


def default_monitor(settings: Settings) -> Any:
    """The shared monitor, created on first use; None when monitoring is switched off."""
    global _monitor
    if not settings.monitor:
        return None
    with _lock:
        if _monitor is None:
            try:
                from ragtel.monitor import EmbeddingMonitor
            except ImportError:  # the monitor package is optional at this layer
                return None
            _monitor = EmbeddingMonitor()
        return _monitor


def set_monitor(monitor: Any) -> None:
    """Replace the shared monitor (tests, or an application with its own configuration)."""
    global _monitor
    with _lock:
        _monitor = monitor
