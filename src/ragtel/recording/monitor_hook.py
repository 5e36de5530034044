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


def observe_knowledge_base(source: Any, *, max_documents: int | None = None) -> Any:
    """Give the process-wide monitor the knowledge base held by ``source`` (a LangChain or
    LlamaIndex vector store or index, a Chroma collection, a ``KnowledgeBase``, an array: see
    ``ragtel.monitor.knowledge_base_from``). For a process that queries an index another process
    built: queries are then measured against it, and its sample is exported for ``ragtel drift``.
    ``max_documents`` reads a large store page by page into a uniform sample of that size.
    Returns the ``KnowledgeBase``; raises what ``knowledge_base_from`` raises, and RuntimeError
    when monitoring is switched off (``RAGTEL_MONITOR=false``)."""
    from ragtel import _active
    from ragtel.monitor import knowledge_base_from

    knowledge_base = knowledge_base_from(source, max_documents=max_documents)
    monitor = default_monitor(_active.settings())
    if monitor is None:
        raise RuntimeError("the embedding monitor is switched off (RAGTEL_MONITOR=false)")
    monitor.observe_knowledge_base(knowledge_base)
    return knowledge_base
