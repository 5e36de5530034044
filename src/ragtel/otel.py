"""OpenTelemetry wiring: provider, exporters, span limits. The only module that sets up the SDK.

Integrations depend on the OpenTelemetry API alone; ``configure()`` is the application's one call.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final
from urllib.parse import urlparse

from opentelemetry import metrics, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from ragtel import _stats
from ragtel.config import TraceConfig

_log = logging.getLogger("ragtel")

PROTOCOLS: Final = ("grpc", "http/protobuf")
_GRPC_MAX_BYTES: Final = 3 << 20  # the Collector's gRPC receiver refuses messages over 4 MiB
_HTTP_MAX_BYTES: Final = 16 << 20  # ... and HTTP bodies over 20 MiB
PROJECT_NAME: Final = "openinference.project.name"
_DEFAULT_ENDPOINTS: Final = {
    "grpc": "http://localhost:4317",
    "http/protobuf": "http://localhost:4318",
}


class _State:
    lock = threading.Lock()
    provider: TracerProvider | None = None
    owned: ClassVar[weakref.WeakSet[TracerProvider]] = weakref.WeakSet()  # built by ragtel
    config: TraceConfig | None = None


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
    config = config or TraceConfig()
    # An exporter passed in is wrapped too: its failures count in ragtel.stats() like OTLP's.
    span_exporter = (
        SizeLimitedExporter(exporter, None)
        if exporter is not None
        else otlp_exporter(endpoint=endpoint, protocol=protocol, headers=headers)
    )
    with _State.lock:
        existing = trace.get_tracer_provider()
        if isinstance(existing, TracerProvider) and existing not in _State.owned:
            provider = existing
            if exporter is not None or endpoint is not None:
                provider.add_span_processor(CountingBatchSpanProcessor(span_exporter))
        else:
            if _State.provider is not None and _State.provider in _State.owned:
                _State.provider.shutdown()
            provider = TracerProvider(
                resource=_resource(service_name, config), span_limits=span_limits_for(config)
            )
            provider.add_span_processor(CountingBatchSpanProcessor(span_exporter))
            _State.owned.add(provider)
            if not isinstance(existing, TracerProvider):
                trace.set_tracer_provider(provider)
            _register_shutdown(provider)
        _State.provider = provider
        _State.config = config
    if _metrics_enabled(metrics_export) and exporter is None:
        _configure_metrics(service_name, endpoint, protocol, headers)
    return provider


def current_provider() -> trace.TracerProvider:
    """The provider ragtel was configured with, else the global one."""
    return _State.provider or trace.get_tracer_provider()


def current_config() -> TraceConfig | None:
    return _State.config


def span_limits_for(config: TraceConfig) -> SpanLimits:
    """Limits large enough for everything the recorder writes under ``config``.

    The SDK default of 128 attributes would evict the oldest attributes of a 50-document
    retrieval span — its input and its kind. A limit set in ``OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT``
    wins; the recorder then fits its writes to that limit instead.
    """
    if os.environ.get("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT") or os.environ.get(
        "OTEL_ATTRIBUTE_COUNT_LIMIT"
    ):
        return SpanLimits()
    needed = (
        4 * config.max_documents  # type: ignore[operator]
        + 2 * config.max_vectors  # type: ignore[operator]
        + 4 * config.max_messages  # type: ignore[operator]
        + 128
    )
    return SpanLimits(max_span_attributes=needed)


def otlp_exporter(
    *,
    endpoint: str | None = None,
    protocol: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> SpanExporter:
    """An OTLP span exporter for ``endpoint``/``protocol``, else the ``OTEL_*`` variables."""
    target = _target("traces", endpoint, protocol)
    headers = dict(headers) if headers is not None else None
    if target.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return SizeLimitedExporter(GrpcExporter(**target.grpc(), headers=headers), _GRPC_MAX_BYTES)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return SizeLimitedExporter(HttpExporter(endpoint=target.url, headers=headers), _HTTP_MAX_BYTES)


@dataclass(frozen=True, slots=True)
class _Target:
    """Where one signal goes: the protocol and, for HTTP, the full URL with its signal path."""

    protocol: str
    url: str

    def grpc(self) -> dict[str, Any]:
        parsed = urlparse(self.url)
        return {
            "endpoint": f"{parsed.hostname}:{parsed.port or 4317}",
            "insecure": parsed.scheme == "http",
        }


def _target(signal: str, endpoint: str | None, protocol: str | None) -> _Target:
    """Resolve a signal's endpoint: argument, then ``..._<SIGNAL>_ENDPOINT``, then the base one.

    A signal-specific variable is used as given; a base endpoint (or the argument) gets the
    signal's path (``/v1/traces``) appended for HTTP, as the OTLP exporter specification says.
    """
    env = os.environ
    signal_endpoint = env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    chosen = endpoint or signal_endpoint or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    resolved = resolve_protocol(protocol, chosen, signal=signal)
    if chosen is None:
        chosen = _DEFAULT_ENDPOINTS[resolved]
    else:
        validate_endpoint(chosen)
    as_given = endpoint is None and chosen == signal_endpoint
    path = f"v1/{signal}"
    if resolved != "grpc" and not as_given and not urlparse(chosen).path.rstrip("/").endswith(path):
        chosen = chosen.rstrip("/") + "/" + path
    return _Target(resolved, chosen)


def resolve_protocol(protocol: str | None, endpoint: str | None, *, signal: str = "traces") -> str:
    """``protocol``, else ``OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL``, else the base variable."""
    env = os.environ
    raw = (
        protocol
        or env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    )
    if raw is None:
        # The OTLP default is http/protobuf; an endpoint on the gRPC port says otherwise.
        port = _port(endpoint) if endpoint else None
        return "grpc" if port == 4317 else "http/protobuf"
    value = raw.strip().lower()
    if value == "http":
        value = "http/protobuf"
    if value not in PROTOCOLS:
        raise ValueError(
            f"unknown OTLP protocol {raw!r}; use one of {', '.join(PROTOCOLS)} "
            "(http/json is not supported by the Python OTLP exporter)"
        )
    return value


def validate_endpoint(endpoint: str) -> None:
    """Raise ``ValueError`` unless ``endpoint`` is an http(s) URL with a host and a valid port."""
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https"):
        raise ValueError(
            f"OTLP endpoint {endpoint!r} must start with http:// or https:// "
            "(e.g. http://127.0.0.1:4317 for gRPC, http://127.0.0.1:4318 for HTTP)"
        )
    if not parsed.hostname:
        raise ValueError(f"OTLP endpoint {endpoint!r} has no host")
    _port(endpoint)


def _port(endpoint: str) -> int | None:
    try:
        return urlparse(endpoint).port
    except ValueError:
        raise ValueError(f"OTLP endpoint {endpoint!r} has an invalid port") from None


def _resource(service_name: str | None, config: TraceConfig | None = None) -> Resource:
    # Resource.create reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME itself.
    attributes: dict[str, Any] = {}
    if service_name:
        attributes[SERVICE_NAME] = service_name
    elif not os.environ.get("OTEL_SERVICE_NAME") and "service.name=" not in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    ):
        attributes[SERVICE_NAME] = "ragtel-app"
    resource = Resource.create(attributes)
    if config is not None and config.openinference and PROJECT_NAME not in resource.attributes:
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

    target = _target("metrics", endpoint, protocol)
    metric_headers = dict(headers) if headers else None
    if target.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        exporter: Any = OTLPMetricExporter(**target.grpc(), headers=metric_headers)
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter as HttpMetricExporter,
        )

        exporter = HttpMetricExporter(endpoint=target.url, headers=metric_headers)
    provider = MeterProvider(
        resource=_resource(service_name), metric_readers=[PeriodicExportingMetricReader(exporter)]
    )
    metrics.set_meter_provider(provider)
    atexit.register(provider.shutdown)


class CountingBatchSpanProcessor(BatchSpanProcessor):
    """The SDK's batch processor, counting the spans it drops when its queue is full.

    The SDK drops them with one log line; ``ragtel.stats()["spans_dropped_queue_full"]`` makes the
    loss visible and countable.
    """

    def on_end(self, span: ReadableSpan) -> None:
        batch = getattr(self, "_batch_processor", None)
        queue = getattr(batch, "_queue", None)
        if queue is not None and len(queue) >= getattr(batch, "_max_queue_size", 1 << 62):
            _stats.add("spans_dropped_queue_full")
        super().on_end(span)


class SizeLimitedExporter(SpanExporter):
    """Counts exported and failed spans, and splits each batch so that no export request exceeds
    ``max_bytes`` (estimated; None: no splitting).

    The batch processor batches by count (512 spans); 512 retrieval spans with their documents can
    be far over the Collector's 4 MiB gRPC limit, and the whole request would be refused.
    """

    def __init__(self, inner: SpanExporter, max_bytes: int | None) -> None:
        self.inner = inner
        self.max_bytes = max_bytes

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = SpanExportResult.SUCCESS
        chunks = [spans] if self.max_bytes is None else _chunks(spans, self.max_bytes)
        for chunk in chunks:
            try:
                outcome = self.inner.export(chunk)
            except Exception:  # an exporter bug must not kill the export thread
                _log.exception("ragtel: OTLP export raised")
                outcome = SpanExportResult.FAILURE
            if outcome is SpanExportResult.SUCCESS:
                _stats.add("spans_exported", len(chunk))
            else:
                _stats.add("spans_export_failed", len(chunk))
                result = outcome
        return result

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.inner.shutdown()


def estimated_size(span: ReadableSpan) -> int:
    """Rough OTLP-encoded size of a span: strings by length, numbers at 11 bytes."""
    size = 128 + len(span.name)
    for key, value in (span.attributes or {}).items():
        size += len(key) + 8
        if isinstance(value, str):
            size += len(value)
        elif isinstance(value, (list, tuple)):
            size += sum(len(v) + 3 if isinstance(v, str) else 11 for v in value)
        else:
            size += 11
    for event in span.events:
        size += 64 + sum(len(str(v)) + len(k) for k, v in (event.attributes or {}).items())
    return size


def _chunks(spans: Sequence[ReadableSpan], max_bytes: int) -> list[Sequence[ReadableSpan]]:
    chunks: list[Sequence[ReadableSpan]] = []
    current: list[ReadableSpan] = []
    current_size = 0
    for span in spans:
        size = estimated_size(span)
        if current and current_size + size > max_bytes:
            chunks.append(current)
            current, current_size = [], 0
        current.append(span)
        current_size += size
    if current:
        chunks.append(current)
    return chunks
