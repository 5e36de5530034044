"""``ragtel.configure()``: the provider, its processor and exporter, metrics. The only module that
sets up the SDK; integrations and the recorder depend on the OpenTelemetry API alone.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from opentelemetry import metrics, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from ragtel import _active
from ragtel.config import Settings, TraceConfig
from ragtel.export.endpoints import otlp_exporter, target
from ragtel.export.limits import span_limits_for
from ragtel.export.processors import CountingBatchSpanProcessor, SizeLimitedExporter

PROJECT_NAME: Final = "openinference.project.name"


class _State:
    lock = threading.Lock()
    provider: TracerProvider | None = None
    owned: ClassVar[weakref.WeakSet[TracerProvider]] = weakref.WeakSet()  # built by ragtel


def configure(
    service_name: str | None = None,
    *,
    endpoint: str | None = None,
    protocol: str | None = None,
    headers: Mapping[str, str] | None = None,
    exporter: SpanExporter | None = None,
    config: TraceConfig | None = None,
    metrics_export: bool | None = None,
) -> trace.TracerProvider:
    """Set up tracing for ragtel and return the tracer provider it records to.

    Without arguments the standard variables decide (``OTEL_EXPORTER_OTLP_ENDPOINT``,
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, ``OTEL_EXPORTER_OTLP_PROTOCOL``,
    ``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``). Pass
    ``exporter`` to send spans elsewhere (an ``OTLPFileExporter``, the SDK's in-memory exporter).
    An application that installed its own SDK ``TracerProvider`` keeps it: ragtel records to it
    and, if ``endpoint`` or ``exporter`` is given, adds its exporter to it.

    Raises ``ValueError`` for a malformed endpoint, an unknown protocol or a bad ``RAGTEL_*``
    setting, so misconfiguration shows at start-up rather than as missing traces.
    """
    settings = (config or TraceConfig()).settings()
    # An exporter passed in is wrapped too: its failures count in ragtel.stats() like OTLP's.
    span_exporter = (
        SizeLimitedExporter(exporter, None)
        if exporter is not None
        else otlp_exporter(endpoint=endpoint, protocol=protocol, headers=headers)
    )
    processor = CountingBatchSpanProcessor(span_exporter, settings.shutdown_timeout)
    retired: TracerProvider | None = None
    with _State.lock:
        existing = trace.get_tracer_provider()
        if isinstance(existing, TracerProvider) and existing not in _State.owned:
            provider = existing
            if exporter is not None or endpoint is not None:
                provider.add_span_processor(processor)
        else:
            provider = TracerProvider(
                resource=_resource(service_name, settings), span_limits=span_limits_for(settings)
            )
            provider.add_span_processor(processor)
            _State.owned.add(provider)
            if not isinstance(existing, TracerProvider):
                trace.set_tracer_provider(provider)
            previous = _State.provider
            if previous is not None and previous in _State.owned and previous is not existing:
                retired = previous
            _register_shutdown(provider)
        _State.provider = provider
        # Recorders that were given no provider (instrument()'s, handlers made without one)
        # follow this: a second configure() moves them to the new provider and settings.
        _active.set_active(provider, settings)
    if retired is not None:
        # Outside the lock: its queued spans get up to shutdown_timeout to leave, then are counted.
        retired.shutdown()
    # The global provider, once set, cannot be replaced (OpenTelemetry allows one per process):
    # a provider ragtel made global stays alive for the other instrumentations recording to it.
    if _metrics_enabled(metrics_export) and exporter is None:
        _configure_metrics(service_name, endpoint, protocol, headers)
    return provider


def current_provider() -> trace.TracerProvider:
    """The provider ragtel was configured with, else the global one."""
    return _active.provider()


def _resource(service_name: str | None, settings: Settings | None = None) -> Resource:
    # Resource.create reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME itself.
    attributes: dict[str, Any] = {}
    if service_name:
        attributes[SERVICE_NAME] = service_name
    elif not os.environ.get("OTEL_SERVICE_NAME") and "service.name=" not in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    ):
        attributes[SERVICE_NAME] = "ragtel-app"
    resource = Resource.create(attributes)
    if settings is not None and settings.openinference and PROJECT_NAME not in resource.attributes:
        # Phoenix files spans by this attribute ("default" without it): one project per service.
        resource = resource.merge(
            Resource({PROJECT_NAME: str(resource.attributes.get(SERVICE_NAME, "default"))})
        )
    return resource


def _register_shutdown(provider: TracerProvider) -> None:
    # The SDK's own atexit hook is only installed for providers it builds from the environment.
    atexit.register(provider.shutdown)


def _metrics_enabled(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    # Off unless asked for: Jaeger and Phoenix accept no OTLP metrics and would log errors.
    return os.environ.get("OTEL_METRICS_EXPORTER", "").strip().lower() == "otlp"


def _configure_metrics(
    service_name: str | None,
    endpoint: str | None,
    protocol: str | None,
    headers: Mapping[str, str] | None,
) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    where = target("metrics", endpoint, protocol)
    metric_headers = dict(headers) if headers else None
    if where.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        exporter: Any = OTLPMetricExporter(**where.grpc(), headers=metric_headers)
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter as HttpMetricExporter,
        )

        exporter = HttpMetricExporter(endpoint=where.url, headers=metric_headers)
    provider = MeterProvider(
        resource=_resource(service_name), metric_readers=[PeriodicExportingMetricReader(exporter)]
    )
    metrics.set_meter_provider(provider)
    atexit.register(provider.shutdown)
