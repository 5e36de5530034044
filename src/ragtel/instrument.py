"""``ragtel.instrument()``: trace every LangChain (and LlamaIndex) run in the process, no callbacks.

LangChain asks its registered configure hooks for handlers whenever it builds a callback manager;
ragtel registers one. Registering a handler *class* with the hook makes LangChain skip it when the
user already passed a ``RagtelCallbackHandler`` explicitly, so nothing is recorded twice.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

from opentelemetry import trace

from ragtel.config import TraceConfig

_lock = threading.Lock()
_installed: dict[str, Any] = {}


class _HandlerSlot:
    """Stands in for the ContextVar LangChain expects: the same handler in every thread and task."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler

    def get(self) -> Any:
        return self.handler


def instrument(
    tracer_provider: trace.TracerProvider | None = None, config: TraceConfig | None = None
) -> None:
    """Trace every LangChain and LlamaIndex run in this process (each if installed). Idempotent."""
    with _lock:
        if "langchain" not in _installed and _available("langchain_core"):
            _installed["langchain"] = _instrument_langchain(tracer_provider, config)
        if "llamaindex" not in _installed and _available("llama_index.core"):
            try:
                from ragtel.integrations import llamaindex as li
            except ImportError:
                return
            _installed["llamaindex"] = li.instrument(tracer_provider, config)


def uninstrument() -> None:
    """Undo ``instrument()``. Idempotent."""
    with _lock:
        slot = _installed.pop("langchain", None)
        if slot is not None:
            from langchain_core.tracers.context import _configure_hooks

            _configure_hooks[:] = [h for h in _configure_hooks if h[0] is not slot]
        handle = _installed.pop("llamaindex", None)
        if handle is not None:
            from ragtel.integrations import llamaindex as li

            li.uninstrument(handle)


def is_instrumented() -> bool:
    return bool(_installed)


def global_handler() -> Any:
    """The LangChain handler ``instrument()`` installed, or None."""
    slot = _installed.get("langchain")
    return slot.handler if slot is not None else None


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _instrument_langchain(
    tracer_provider: trace.TracerProvider | None, config: TraceConfig | None
) -> _HandlerSlot:
    from langchain_core.tracers.context import register_configure_hook

    from ragtel.integrations.langchain import RagtelCallbackHandler

    slot = _HandlerSlot(RagtelCallbackHandler(tracer_provider, config))
    register_configure_hook(slot, True, RagtelCallbackHandler)  # type: ignore[arg-type]
    return slot
