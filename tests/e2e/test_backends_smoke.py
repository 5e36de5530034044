"""Smoke tests of the real backends themselves (no ragtel code): one span goes in over OTLP and
comes back out of each backend's query API with its attributes and service name."""

from __future__ import annotations

import math
import uuid

import pytest
from backends import (
    Collector,
    Jaeger,
    Phoenix,
    flatten_phoenix_spans,
    flatten_spans,
    parse_array_attr,
)
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

VECTOR = [0.125, -0.5, 3.25, 1e-3]
ATTRS = {
    "smoke.text": "hello ragtel",
    "smoke.count": 3,
    "smoke.score": 0.75,
    "smoke.flag": True,
    "smoke.vector": VECTOR,
    "smoke.ids": [7, 8],
    "smoke.tags": ["a", "b"],
}


def _service(label: str) -> str:
    return f"smoke-{label}-{uuid.uuid4().hex[:8]}"


def _export(exporter: SpanExporter, service: str) -> tuple[str, str, str]:
    """Export a parent span and a child span with ATTRS; return (trace_id, parent_id, child_id)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("ragtel.smoke", "0")
    with (
        tracer.start_as_current_span("smoke.parent", kind=trace.SpanKind.SERVER) as parent,
        tracer.start_as_current_span("smoke.child", attributes=ATTRS) as child,
    ):
        child.add_event("smoke.event", {"n": 1})
    provider.shutdown()  # flushes; SimpleSpanProcessor already exported synchronously
    ctx_p, ctx_c = parent.get_span_context(), child.get_span_context()
    return f"{ctx_c.trace_id:032x}", f"{ctx_p.span_id:016x}", f"{ctx_c.span_id:016x}"


def _grpc(endpoint: str) -> GrpcExporter:
    return GrpcExporter(endpoint=endpoint, insecure=True, timeout=10)


def _http(traces_endpoint: str) -> HttpExporter:
    return HttpExporter(endpoint=traces_endpoint, timeout=10)


def _by_name(spans: list[dict]) -> dict[str, dict]:
    return {s["name"]: s for s in spans}


def _assert_attrs(attrs: dict, *, arrays_as_text: bool = False) -> None:
    assert attrs["smoke.text"] == "hello ragtel"
    assert attrs["smoke.count"] == 3 and isinstance(attrs["smoke.count"], int)
    assert math.isclose(attrs["smoke.score"], 0.75)
    assert attrs["smoke.flag"] is True
    vector = attrs["smoke.vector"]
    if arrays_as_text:
        assert isinstance(vector, str)
        vector = parse_array_attr(vector)
    assert [float(x) for x in vector] == VECTOR
    assert parse_array_attr(attrs["smoke.ids"]) == [7, 8]
    assert parse_array_attr(attrs["smoke.tags"]) == ["a", "b"]


def _check_jaeger(jaeger: Jaeger, service: str, ids: tuple[str, str, str]) -> dict:
    trace_id, parent_id, child_id = ids
    spans = _by_name(flatten_spans(jaeger.find_traces(service, min_spans=2, timeout=30)))
    child, parent = spans["smoke.child"], spans["smoke.parent"]
    assert child["trace_id"] == trace_id
    assert child["span_id"] == child_id
    assert child["parent_span_id"] == parent_id
    assert parent["parent_span_id"] == ""
    assert parent["kind"] == "SERVER" and child["kind"] == "INTERNAL"
    assert child["resource"]["service.name"] == service
    assert child["scope"] == "ragtel.smoke"
    assert child["events"] and child["events"][0]["name"] == "smoke.event"
    _assert_attrs(child["attributes"])  # v3 API: arrays stay arrays

    v1 = _by_name(flatten_spans(jaeger.get_trace(trace_id, min_spans=2)))
    assert v1["smoke.child"]["resource"]["service.name"] == service
    assert v1["smoke.child"]["parent_span_id"] == parent_id
    _assert_attrs(v1["smoke.child"]["attributes"], arrays_as_text=True)  # v1 API: JSON text
    assert service in jaeger.services()
    return child


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_jaeger_direct(jaeger: Jaeger, protocol: str) -> None:
    service = _service(f"jaeger-{protocol}")
    exporter = (
        _grpc(jaeger.otlp_grpc_endpoint)
        if protocol == "grpc"
        else _http(jaeger.otlp_http_traces_endpoint)
    )
    _check_jaeger(jaeger, service, _export(exporter, service))


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_collector_into_jaeger(collector: Collector, jaeger: Jaeger, protocol: str) -> None:
    service = _service(f"collector-{protocol}")
    exporter = (
        _grpc(collector.otlp_grpc_endpoint)
        if protocol == "grpc"
        else _http(collector.otlp_http_traces_endpoint)
    )
    child = _check_jaeger(jaeger, service, _export(exporter, service))
    assert collector.echo_attribute not in child["attributes"]  # no header sent


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_collector_sees_otlp_headers(
    collector: Collector, jaeger: Jaeger, protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Headers set the SRE way (OTEL_EXPORTER_OTLP_HEADERS) reach the collector; its
    attributes processor copies the echo header into a span attribute that Jaeger shows."""
    tenant = f"tenant-{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"{collector.echo_header}={tenant},x-other=1")
    service = _service(f"headers-{protocol}")
    exporter = (
        _grpc(collector.otlp_grpc_endpoint)
        if protocol == "grpc"
        else _http(collector.otlp_http_traces_endpoint)
    )
    child = _check_jaeger(jaeger, service, _export(exporter, service))
    assert child["attributes"][collector.echo_attribute] == tenant


def test_phoenix_http(phoenix: Phoenix) -> None:
    service = _service("phoenix")
    trace_id, parent_id, child_id = _export(_http(phoenix.otlp_http_traces_endpoint), service)
    raw = phoenix.spans("default", min_spans=2, trace_id=trace_id, timeout=30)
    spans = _by_name(flatten_phoenix_spans(raw))
    child, parent = spans["smoke.child"], spans["smoke.parent"]
    assert child["span_id"] == child_id and child["trace_id"] == trace_id
    assert child["parent_span_id"] == parent_id
    assert parent["parent_span_id"] == ""
    # Phoenix's kind is openinference.span.kind (absent here), not the OTel span kind.
    assert child["kind"] == "UNKNOWN"
    assert child["events"][0]["name"] == "smoke.event"
    _assert_attrs(child["attributes"])  # typed JSON values, arrays as lists
    # Phoenix keeps no resource attributes: service.name is not readable back.  The project is
    # chosen by the resource attribute openinference.project.name ("default" without it).
    assert "service.name" not in child["attributes"]
    assert {p["name"] for p in phoenix.projects()} >= {"default"}
