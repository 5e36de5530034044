"""``ragtel.instrument()`` for LangChain: a handler in every run of the process, no callbacks.

LangChain asks its registered configure hooks for handlers whenever it builds a callback manager;
ragtel registers one. Registering a handler *class* with the hook makes LangChain skip it when the
user already passed a ``RagtelCallbackHandler`` explicitly, so nothing is recorded twice.
"""

from __future__ import annotations

from typing import Any

from ragtel.config import TraceConfig
from ragtel.integrations.langchain.handler import RagtelCallbackHandler
from ragtel.recording import TracerProvider


class _HandlerSlot:
    """Stands in for the ContextVar LangChain expects: the same handler in every thread and task."""

    def __init__(self, handler: RagtelCallbackHandler) -> None:
        self.handler = handler

    def get(self) -> RagtelCallbackHandler:
        return self.handler


def instrument(tracer_provider: TracerProvider | None, config: TraceConfig | None) -> Any:
    from langchain_core.tracers.context import register_configure_hook

    slot = _HandlerSlot(RagtelCallbackHandler(tracer_provider, config))
    register_configure_hook(slot, True, RagtelCallbackHandler)  # type: ignore[arg-type]
    return slot


def uninstrument(handle: Any) -> None:
    from langchain_core.tracers.context import _configure_hooks

    _configure_hooks[:] = [h for h in _configure_hooks if h[0] is not handle]
