"""``ragtel.instrument()``: trace every run of every installed framework, no callbacks.

The frameworks are the rows of ``ragtel.integrations.ADAPTERS``; each adapter knows how to hook
itself in (LangChain: a configure hook; LlamaIndex: handlers on the root dispatcher).
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from typing import Any

from ragtel.config import TraceConfig
from ragtel.integrations import ADAPTERS
from ragtel.recording import TracerProvider

_lock = threading.Lock()
_installed: dict[str, tuple[Any, Any]] = {}  # adapter name -> (adapter module, handle)


def instrument(
    tracer_provider: TracerProvider | None = None, config: TraceConfig | None = None
) -> None:
    """Trace every LangChain and LlamaIndex run in this process (each if installed). Idempotent."""
    with _lock:
        for adapter in ADAPTERS:
            if adapter.name in _installed or not _available(adapter.requires):
                continue
            try:
                module = importlib.import_module(adapter.module)
            except ImportError:  # installed but broken or too old: the others still work
                continue
            _installed[adapter.name] = (module, module.instrument(tracer_provider, config))


def uninstrument() -> None:
    """Undo ``instrument()``. Idempotent."""
    with _lock:
        for name in list(_installed):
            module, handle = _installed.pop(name)
            module.uninstrument(handle)


def is_instrumented() -> bool:
    return bool(_installed)


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
