from __future__ import annotations

import json

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import ragtel
from ragtel.export import SizeLimitedExporter, otlp_exporter, resolve_protocol


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("ftp://collector:4317", "must start with http:// or https://"),
        ("http://:4317", "has no host"),
        ("http://collector:99999", "invalid port"),
    ],
)
def test_malformed_endpoint_is_rejected_at_configure_time(endpoint: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ragtel.configure("svc", endpoint=endpoint)


@pytest.mark.parametrize(("insecure", "tls"), [("true", False), (None, True)])
def test_endpoint_without_scheme_is_accepted_as_the_otlp_exporters_accept_it(
    monkeypatch: pytest.MonkeyPatch, insecure: str | None, tls: bool
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_INSECURE", raising=False)
    if insecure is None:
        monkeypatch.delenv("OTEL_EXPORTER_OTLP_INSECURE", raising=False)
    else:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", insecure)
    exporter = otlp_exporter(endpoint="localhost:4317")  # port 4317: gRPC
    grpc = exporter.inner  # type: ignore[attr-defined]
    assert grpc._endpoint == "localhost:4317"
    assert grpc._insecure is not tls


def test_unknown_protocol_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="unknown OTLP protocol 'thrift'"):
        ragtel.configure("svc", endpoint="http://127.0.0.1:4317", protocol="thrift")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    with pytest.raises(ValueError, match="http/json"):
        otlp_exporter(endpoint="http://127.0.0.1:4318")


def test_protocol_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", raising=False)
    assert resolve_protocol(None, "http://127.0.0.1:4317") == "grpc"
    assert resolve_protocol(None, "http://127.0.0.1:4318") == "http/protobuf"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    assert resolve_protocol(None, "http://127.0.0.1:4318") == "grpc"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
    assert resolve_protocol(None, None) == "http/protobuf"


def test_http_endpoint_from_environment_gets_signal_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    exporter = otlp_exporter()
    assert isinstance(exporter, SizeLimitedExporter)
    assert exporter.inner._endpoint == "http://127.0.0.1:4318/v1/traces"  # type: ignore[attr-defined]
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:9999/custom")
    assert otlp_exporter().inner._endpoint == "http://127.0.0.1:9999/custom"  # type: ignore[attr-defined]


def test_configure_with_exporter_records_spans_and_sets_limits() -> None:
    exporter = InMemorySpanExporter()
    provider = ragtel.configure("unit-svc", exporter=exporter)
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "unit-svc"
    tracer = provider.get_tracer("t")
    assert tracer._span_limits.max_span_attributes > 128  # type: ignore[attr-defined]
    # configuring again replaces ragtel's own provider instead of stacking exporters
    second = InMemorySpanExporter()
    provider2 = ragtel.configure("unit-svc", exporter=second)
    provider2.get_tracer("t").start_span("x").end()
    provider2.force_flush()
    assert [s.name for s in second.get_finished_spans()] == ["x"]
    assert exporter.get_finished_spans() == ()


def test_application_provider_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    app_provider = TracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: app_provider)
    exporter = InMemorySpanExporter()
    assert ragtel.configure("svc", exporter=exporter) is app_provider
    app_provider.get_tracer("t").start_span("app-span").end()
    app_provider.force_flush()
    assert [s.name for s in exporter.get_finished_spans()] == ["app-span"]


def test_size_limited_exporter_splits_batches() -> None:
    sink = InMemorySpanExporter()
    provider = TracerProvider()
    tracer = provider.get_tracer("t")
    spans = []
    for i in range(10):
        span = tracer.start_span(f"s{i}", attributes={"blob": "x" * 100_000})
        span.end()
        spans.append(span)
    calls: list[int] = []

    class Counting(InMemorySpanExporter):
        def export(self, batch):  # type: ignore[no-untyped-def]
            calls.append(len(batch))
            return sink.export(batch)

    exporter = SizeLimitedExporter(Counting(), max_bytes=250_000)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    assert sum(calls) == 10 and max(calls) <= 2
    assert len(sink.get_finished_spans()) == 10


def test_resource_attributes_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging,team=search")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    provider = ragtel.configure(exporter=InMemorySpanExporter())
    attrs = provider.resource.attributes  # type: ignore[attr-defined]
    assert attrs["service.name"] == "from-env"
    assert attrs["deployment.environment"] == "staging" and attrs["team"] == "search"
    assert attrs["openinference.project.name"] == "from-env"  # Phoenix's project
    json.dumps(dict(attrs))


def test_metrics_endpoint_follows_the_same_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from ragtel.export.endpoints import target as _target

    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert _target("metrics", None, None).url == "http://127.0.0.1:4318/v1/metrics"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://127.0.0.1:9000/m")
    assert _target("metrics", None, None).url == "http://127.0.0.1:9000/m"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc")
    assert _target("metrics", None, None).protocol == "grpc"
    with pytest.raises(ValueError, match="must start with http"):
        _target("metrics", "ftp://collector:4317", None)
    assert _target("metrics", "collector:4317", None).url == "https://collector:4317"
