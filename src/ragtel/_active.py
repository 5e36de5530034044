"""What ``ragtel.configure()`` chose: the provider and settings of every recorder given none.

Written by ``ragtel.export.setup``, read by ``ragtel.recording``: neither imports the other, and a
recorder made before ``configure()`` (by ``instrument()``) picks up what ``configure()`` set, so the
order of the two calls does not matter. ``generation`` changes on every write, so a recorder checks
one integer per step to know whether to refresh.
"""

from __future__ import annotations

import threading

from opentelemetry import trace

from ragtel.config import Settings, resolve

_lock = threading.Lock()
_provider: trace.TracerProvider | None = None
_settings: Settings | None = None
generation = 0


def set_active(provider: trace.TracerProvider, settings: Settings) -> None:
    global _provider, _settings, generation
    with _lock:
        _provider, _settings = provider, settings
        generation += 1


def provider() -> trace.TracerProvider:
    """The provider ragtel was configured with, else the global one."""
    return _provider or trace.get_tracer_provider()


def settings() -> Settings:
    """The configured settings, else those of the environment now."""
    return _settings if _settings is not None else resolve(None)


def configured_settings() -> Settings | None:
    """The settings ``configure()`` was given, None before it ran."""
    return _settings if _provider is not None else None
