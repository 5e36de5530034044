"""``ragtel demo`` says where its spans went, how many arrived, and fails when they did not."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import ragtel
from ragtel.cli import main
from ragtel.monitor._drift import ALARM_Z
from ragtel.recording.monitor_hook import set_monitor


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    # The OTLP exporters retry for 10 s by default; a refused connection needs no retries.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    yield
    ragtel.uninstrument()
    set_monitor(None)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_file_export_reports_every_span_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "t.jsonl"
    assert main(["demo", "--quiet", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    lines = out.read_text("utf-8").splitlines()
    written = sum(
        len(scope["spans"])
        for line in lines
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
    )
    assert f"{written} spans: {written} sent to {out}, 0 failed" in stdout


def test_nothing_arrived_is_an_error_that_names_the_guess(
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    assert main(["demo", "--quiet", "--endpoint", endpoint]) == 1
    captured = capsys.readouterr()
    # The protocol choice is announced before anything is sent, not discovered afterwards.
    assert captured.out.startswith(
        f"exporting to {endpoint} over OTLP http/protobuf (no --protocol given"
    )
    assert ": 0 sent to " in captured.out and "failed" in captured.out
    assert "nothing arrived" in captured.err and "--protocol grpc" in captured.err


def test_an_explicit_protocol_is_not_called_a_guess(capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    assert main(["demo", "--quiet", "--endpoint", endpoint, "--protocol", "grpc"]) == 1
    captured = capsys.readouterr()
    assert "over OTLP grpc (protocol as configured)" in captured.out
    assert "nothing arrived" in captured.err and "pass --protocol" not in captured.err


def test_drift_scenario_shows_its_drift_on_the_spans(tmp_path: Path) -> None:
    """With the default 400 queries the in-process monitor measures drift and flags the change
    on a span after it: what a user sees in the backend the scenario was sent to."""
    out = tmp_path / "drift.jsonl"
    assert main(["demo", "--scenario", "drift", "--quiet", "--out", str(out)]) == 0
    queries = []  # (start, drift or None, crossed)
    for line in out.read_text("utf-8").splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    attrs = {a["key"]: a["value"] for a in span.get("attributes", [])}
                    if attrs.get("ragtel.embedding.role") != {"stringValue": "query"}:
                        continue
                    drift = attrs.get("ragtel.monitor.drift", {}).get("doubleValue")
                    events = {e["name"]: e for e in span.get("events", [])}
                    crossed = "ragtel.drift.threshold_crossed" in events
                    if crossed:
                        # The event says what crossed: the whitened score, above its limit.
                        event = events["ragtel.drift.threshold_crossed"]
                        names = {a["key"]: a["value"] for a in event.get("attributes", [])}
                        score = names["ragtel.monitor.drift_score"]["doubleValue"]
                        assert score > ALARM_Z
                        assert attrs["ragtel.monitor.drift_score"]["doubleValue"] == score
                    queries.append((int(span["startTimeUnixNano"]), drift, crossed))
    queries.sort()
    assert len(queries) == 400
    measured = [d for _, d, _ in queries if d is not None]
    assert len(measured) >= 250, "drift measured from the first quarter of the stream on"
    crossings = [i for i, (_, _, crossed) in enumerate(queries) if crossed]
    assert len(crossings) == 1 and crossings[0] > 200, crossings
    before = [d for _, d, _ in queries[100:200] if d is not None]
    after = [d for _, d, _ in queries[300:] if d is not None]
    assert min(after) > max(before), (max(before), min(after))
