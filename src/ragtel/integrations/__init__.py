"""Framework adapters: they translate framework events into ``ragtel.recording.records`` and call
the recorder with a parent step. None of them imports OpenTelemetry.

Adding a framework: one adapter module or package exposing ``instrument(tracer_provider, config)``
(returns a handle) and ``uninstrument(handle)``, and one row in ``ADAPTERS``.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Adapter(NamedTuple):
    name: str
    requires: str  # the framework's module; the adapter is used when it is installed
    module: str  # the adapter: ``instrument`` and ``uninstrument`` functions


ADAPTERS: Final = (
    Adapter("langchain", "langchain_core", "ragtel.integrations.langchain"),
    Adapter("llamaindex", "llama_index.core", "ragtel.integrations.llamaindex"),
)
