from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from ragtel import OTLPFileExporter


def test_writes_one_export_request_per_line(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    provider = TracerProvider(resource=Resource.create({"service.name": "file-svc"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPFileExporter(path)))
    tracer = provider.get_tracer("unit", "1.0")
    with tracer.start_as_current_span("parent") as parent:
        child = tracer.start_span(
            "child",
            attributes={
                "s": "text",
                "i": 3,
                "f": 0.5,
                "b": True,
                "v": [0.1, float("nan")],
                "tags": ["a", "b"],
            },
        )
        child.end()
    provider.shutdown()
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    requests = [json.loads(line) for line in lines]
    resource_spans = requests[0]["resourceSpans"][0]
    assert {"key": "service.name", "value": {"stringValue": "file-svc"}} in (
        resource_spans["resource"]["attributes"]
    )
    scope = resource_spans["scopeSpans"][0]
    assert scope["scope"] == {"name": "unit", "version": "1.0"}
    span = scope["spans"][0]
    assert span["name"] == "child"
    ctx = parent.get_span_context()
    assert span["traceId"] == format(ctx.trace_id, "032x")
    assert span["parentSpanId"] == format(ctx.span_id, "016x")
    attrs = {a["key"]: a["value"] for a in span["attributes"]}
    assert attrs["s"] == {"stringValue": "text"}
    assert attrs["i"] == {"intValue": "3"}
    assert attrs["f"] == {"doubleValue": 0.5}
    assert attrs["b"] == {"boolValue": True}
    assert attrs["v"] == {"arrayValue": {"values": [{"doubleValue": 0.1}, {"doubleValue": "NaN"}]}}
    assert attrs["tags"]["arrayValue"]["values"][1] == {"stringValue": "b"}
    assert "parentSpanId" not in requests[1]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        OTLPFileExporter(tmp_path / "nope" / "traces.jsonl")


def test_a_failing_exporter_given_to_configure_is_counted(tmp_path: Path) -> None:
    import ragtel

    exporter = OTLPFileExporter(tmp_path / "traces.jsonl")
    provider = ragtel.configure("file-svc", exporter=exporter)
    before = ragtel.stats().get("spans_lost_export_failed", 0)
    exporter.shutdown()  # the file is closed: every later export fails
    provider.get_tracer("t").start_span("lost").end()
    provider.force_flush()  # type: ignore[attr-defined]
    assert ragtel.stats()["spans_lost_export_failed"] == before + 1
