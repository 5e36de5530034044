"""The recorder an integration uses when the application hands it none."""

from __future__ import annotations

from opentelemetry import trace

from ragtel.config import TraceConfig
from ragtel.recorder import Recorder


def default_recorder(
    framework: str,
    tracer_provider: trace.TracerProvider | None = None,
    config: TraceConfig | None = None,
) -> Recorder:
    """A recorder on the given provider and config, else those of ``ragtel.configure()``.

    Imports the SDK setup lazily: an application using only its own provider never loads it.
    """
    from ragtel.monitor_hook import default_monitor
    from ragtel.otel import current_config, current_provider

    config = config or current_config() or TraceConfig()
    return Recorder(
        tracer_provider or current_provider(),
        config,
        framework=framework,
        monitor=default_monitor(config),
    )
