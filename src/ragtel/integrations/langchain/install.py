"""``ragtel.instrument()`` for LangChain: a handler in every run of the process, no callbacks.

LangChain asks its registered configure hooks for handlers whenever it builds a callback manager;
ragtel registers one. Registering a handler *class* with the hook makes LangChain skip it when the
user already passed a ``RagtelCallbackHandler`` explicitly, so nothing is recorded twice.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from ragtel.config import TraceConfig
from ragtel.integrations.langchain.handler import RETRIEVER_K_KEY, RagtelCallbackHandler
from ragtel.recording import TracerProvider


class _HandlerSlot:
    """Stands in for the ContextVar LangChain expects: the same handler in every thread and task."""

    def __init__(self, handler: RagtelCallbackHandler) -> None:
        self.handler = handler
        # LangChain calls get() twice whenever it builds a callback manager (several times per
        # run): a C-level callable returning the handler, not a Python method.
        self.get: Callable[[], RagtelCallbackHandler] = itertools.repeat(handler).__next__


def instrument(tracer_provider: TracerProvider | None, config: TraceConfig | None) -> Any:
    from langchain_core.tracers.context import register_configure_hook

    slot = _HandlerSlot(RagtelCallbackHandler(tracer_provider, config))
    register_configure_hook(slot, True, RagtelCallbackHandler)  # type: ignore[arg-type]
    _report_retriever_k()
    return slot


def uninstrument(handle: Any) -> None:
    from langchain_core.tracers.context import _configure_hooks

    _configure_hooks[:] = [h for h in _configure_hooks if h[0] is not handle]
    _restore_retriever_k()


# A vector-store retriever's k (search_kwargs) reaches no callback: LangChain gives the retriever
# callback the run's metadata, which holds the retriever's _get_ls_params(). ragtel adds the k
# there, under RETRIEVER_K_KEY, while instrumented.
_ORIGINAL_LS_PARAMS = "_ragtel_original_get_ls_params"


def _report_retriever_k() -> None:
    from langchain_core.vectorstores import VectorStoreRetriever

    if _ORIGINAL_LS_PARAMS in vars(VectorStoreRetriever):
        return
    original = VectorStoreRetriever._get_ls_params

    def _get_ls_params(self: VectorStoreRetriever, **kwargs: Any) -> Any:
        params = original(self, **kwargs)
        k = {**(self.search_kwargs or {}), **kwargs}.get("k")
        if isinstance(k, int) and not isinstance(k, bool):
            params[RETRIEVER_K_KEY] = k  # type: ignore[literal-required]
        return params

    setattr(VectorStoreRetriever, _ORIGINAL_LS_PARAMS, original)
    VectorStoreRetriever._get_ls_params = _get_ls_params  # type: ignore[method-assign]


def _restore_retriever_k() -> None:
    from langchain_core.vectorstores import VectorStoreRetriever

    original = vars(VectorStoreRetriever).get(_ORIGINAL_LS_PARAMS)
    if original is not None:
        VectorStoreRetriever._get_ls_params = original  # type: ignore[method-assign]
        delattr(VectorStoreRetriever, _ORIGINAL_LS_PARAMS)
