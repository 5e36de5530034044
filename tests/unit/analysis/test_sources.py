"""Span sources of ``ragtel drift``: OTLP JSON-lines files, Jaeger's ``/api/v3/traces`` and
Phoenix's ``/v1/projects/{name}/spans``.

The backends are emulated by a small HTTP server on 127.0.0.1 that answers from spans held in
memory, with the quirks of the real ones: Jaeger returns whole traces for an inclusive time range
(so a trace whose spans fall in several slices comes back once per slice), at most
``query.num_traces`` of them, the most recent first, and a memory store refuses a search depth
above its own ``max_traces`` with HTTP 500 "search depth ..."; Phoenix pages with cursors and
answers 404 for an unknown project.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import socket
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ragtel.analysis._collect import Collector
from ragtel.analysis._sources import (
    FileSource,
    JaegerSource,
    PhoenixSource,
    Progress,
    SourceError,
    open_source,
)
from ragtel.analysis._spans import SpanView, embeddings, feedback

MS = 1_000_000
SECOND = 1_000 * MS
MINUTE = 60 * SECOND
BASE = 1_750_000_000 * SECOND  # a fixed, whole-second instant
SERVICE = "rag-app"
DEPTH_ERROR = "search depth must be greater than 0 and less than max traces"


# ---------------------------------------------------------------------------------------------
# Spans, as OTLP JSON


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"arrayValue": {"values": [_value(v) for v in value]}}


@dataclass(frozen=True)
class Span:
    """One span of the emulated store."""

    trace: int
    index: int
    kind: str  # "query" (an EMBEDDING span), "feedback" or "llm" (nothing to analyse)
    start_ns: int
    service: str = SERVICE

    @property
    def trace_id(self) -> str:
        return f"{self.trace:032x}"

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.trace}-{self.index}"

    @property
    def vector(self) -> list[float]:
        return [float(self.trace), 0.5, -1.0]

    def attributes(self, arrays_as_json: bool) -> dict[str, Any]:
        if self.kind == "query":
            vector: Any = json.dumps(self.vector) if arrays_as_json else self.vector
            return {
                "openinference.span.kind": "EMBEDDING",
                "ragtel.embedding.role": "query",
                "embedding.embeddings.0.embedding.vector": vector,
                "embedding.embeddings.0.embedding.text": f"question {self.trace}?",
            }
        if self.kind == "feedback":
            return {
                "gen_ai.evaluation.name": "user_feedback",
                "gen_ai.evaluation.score.value": float(self.trace % 2),
                "gen_ai.evaluation.score.label": "up" if self.trace % 2 else "down",
            }
        return {"openinference.span.kind": "LLM", "llm.model_name": "m"}

    def otlp(self, arrays_as_json: bool = False) -> dict[str, Any]:
        """The span in the OTLP JSON mapping (Jaeger sends arrays as JSON strings)."""
        return {
            "traceId": self.trace_id,
            "spanId": f"{self.trace:08x}{self.index:08x}",
            "name": self.name,
            "startTimeUnixNano": str(self.start_ns),
            "endTimeUnixNano": str(self.start_ns + MS),
            "attributes": [
                {"key": k, "value": _value(v)} for k, v in self.attributes(arrays_as_json).items()
            ],
        }

    def phoenix(self, project: str) -> dict[str, Any]:
        """The span as a Phoenix REST item (nested attributes, like Phoenix stores them)."""
        nested: dict[str, Any] = {}
        for key, value in self.attributes(arrays_as_json=False).items():
            node = nested
            *parents, last = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value
        stamp = datetime.fromtimestamp(self.start_ns // 1000 / 1e6, tz=UTC)
        return {
            "id": f"{project}-{self.name}",
            "name": self.name,
            "context": {"trace_id": self.trace_id, "span_id": f"{self.index:016x}"},
            "span_kind": {"query": "EMBEDDING", "llm": "LLM"}.get(self.kind, "UNKNOWN"),
            "parent_id": None,
            "start_time": stamp.isoformat(),
            "end_time": stamp.isoformat(),
            "status_code": "OK",
            "attributes": _lists(nested),
            "events": [],
        }


def _lists(value: Any) -> Any:
    """Nested attributes as Phoenix returns them: indexed levels become lists."""
    if not isinstance(value, dict):
        return value
    if value and all(key.isdigit() for key in value):
        return [_lists(value[key]) for key in sorted(value, key=int)]
    return {key: _lists(inner) for key, inner in value.items()}


def rag_trace(trace: int, start_ns: int, feedback_after_ns: int | None = None) -> list[Span]:
    """A query trace: the query embedding, an LLM call, and the user's feedback later on."""
    spans = [Span(trace, 0, "query", start_ns), Span(trace, 1, "llm", start_ns + 5 * MS)]
    if feedback_after_ns is not None:
        spans.append(Span(trace, 2, "feedback", start_ns + feedback_after_ns))
    return spans


def otlp_request(spans: list[Span], service: str = SERVICE) -> dict[str, Any]:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    scope = {"scope": {"name": "test"}, "spans": [s.otlp() for s in spans]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [scope]}]}


# ---------------------------------------------------------------------------------------------
# The emulated backend


def _parse_rfc3339(text: str) -> int:
    stamp, _, fraction = text.removesuffix("Z").partition(".")
    seconds = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    return int(seconds) * SECOND + int(fraction.ljust(9, "0"))


@dataclass
class JaegerQuery:
    low: int
    high: int
    depth: int
    status: int
    traces: list[str] = field(default_factory=list)


@dataclass
class Backend:
    """What the server answers from, and what it was asked."""

    url: str = ""
    spans: list[Span] = field(default_factory=list)
    store_max_traces: int | None = None  # a memory store: deeper searches are refused
    projects: dict[str, list[Span]] = field(default_factory=dict)
    phoenix_page_cap: int | None = None  # Phoenix's own maximum page size
    forced: tuple[int, str, bytes] | None = None  # (status, content type, body) for any request
    jaeger_queries: list[JaegerQuery] = field(default_factory=list)
    phoenix_requests: list[dict[str, str]] = field(default_factory=list)

    def jaeger(self, params: dict[str, str]) -> tuple[int, Any]:
        low = _parse_rfc3339(params["query.start_time_min"])
        high = _parse_rfc3339(params["query.start_time_max"])
        depth = int(params["query.num_traces"])
        query = JaegerQuery(low, high, depth, 200)
        self.jaeger_queries.append(query)
        if self.store_max_traces is not None and not 0 < depth <= self.store_max_traces:
            query.status = 500
            return 500, {"error": {"httpCode": 500, "message": DEPTH_ERROR}}
        traces: dict[str, list[Span]] = {}
        for span in self.spans:
            traces.setdefault(span.trace_id, []).append(span)
        service = params["query.service_name"]
        matching = [  # a span of the service in the range, both ends included
            spans
            for spans in traces.values()
            if any(s.service == service and low <= s.start_ns <= high for s in spans)
        ]
        matching.sort(key=lambda spans: max(s.start_ns for s in spans), reverse=True)
        found = matching[:depth]
        if not found:
            query.status = 404
            return 404, {"error": {"httpCode": 404, "message": "No traces found"}}
        query.traces = [spans[0].trace_id for spans in found]
        resource_spans = []
        for spans in found:  # whole traces, one resource per service
            for svc in sorted({s.service for s in spans}):
                resource = {"attributes": [{"key": "service.name", "value": _value(svc)}]}
                otlp = [s.otlp(arrays_as_json=True) for s in spans if s.service == svc]
                resource_spans.append({"resource": resource, "scopeSpans": [{"spans": otlp}]})
        return 200, {"result": {"resourceSpans": resource_spans}}

    def phoenix(self, project: str, params: dict[str, str]) -> tuple[int, Any]:
        self.phoenix_requests.append(params)
        if project not in self.projects:
            return 404, {"detail": f"Project with identifier {project} not found"}
        spans = sorted(self.projects[project], key=lambda s: (s.start_ns, s.name))
        if "start_time" in params:
            since = _parse_rfc3339(params["start_time"].replace("+00:00", "Z"))
            spans = [s for s in spans if s.start_ns >= since]
        size = int(params.get("limit", "100"))
        if self.phoenix_page_cap is not None:
            size = min(size, self.phoenix_page_cap)
        offset = int(params["cursor"].removeprefix("page-")) if "cursor" in params else 0
        page = spans[offset : offset + size]
        more = offset + size < len(spans)
        return 200, {
            "data": [s.phoenix(project) for s in page],
            "next_cursor": f"page-{offset + size}" if more else None,
        }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        backend = self.server.backend
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query))
        parts = url.path.split("/")
        if backend.forced is not None:
            status, content_type, body = backend.forced
            self._send(status, content_type, body)
            return
        if url.path == "/api/v3/traces":
            status, answer = backend.jaeger(params)
        elif len(parts) == 5 and parts[1:3] == ["v1", "projects"] and parts[4] == "spans":
            status, answer = backend.phoenix(urllib.parse.unquote(parts[3]), params)
        else:
            self._send(404, "text/plain", b"404 page not found\n")
            return
        self._send(status, "application/json", json.dumps(answer).encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    backend: Backend


@pytest.fixture
def backend() -> Iterator[Backend]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.backend = Backend(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.backend
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def read(source: Any) -> list[SpanView | None]:
    started = time.monotonic()
    spans = list(source.spans(Progress(False)))
    assert time.monotonic() - started < 2.0
    return spans


def read_with(source: Any, progress: Progress) -> list[SpanView | None]:
    """All the spans of ``source``, advancing ``progress``."""
    return list(source.spans(progress))


def assert_each_once(
    read_spans: list[SpanView | None], expected: list[Span], project: str | None = None
) -> None:
    """Every expected span read once: the views of embeddings and feedback, None for the rest.

    Phoenix spans carry the project as their service, and times in microseconds (turned into
    nanoseconds through a float, so to within a microsecond)."""
    views = [s for s in read_spans if s is not None]
    keys = Counter((v.trace_id, v.name) for v in views)  # span names are unique here
    assert [k for k, n in keys.items() if n > 1] == []
    assert set(keys) == {(s.trace_id, s.name) for s in expected if s.kind != "llm"}
    assert len(read_spans) == len(expected)  # the skipped spans are counted once too
    by_key = {(s.trace_id, s.name): s for s in expected}
    for view in views:
        span = by_key[(view.trace_id, view.name)]
        if project is None:
            assert view.start_ns == span.start_ns and view.service == span.service
        else:
            assert abs(view.start_ns - span.start_ns) < 1_000 and view.service == project
        if span.kind == "query":
            (found,) = embeddings(view)
            assert found.role == "query" and found.text == f"question {span.trace}?"
            assert np.allclose(found.vector, span.vector)
        else:
            record = feedback(view)
            assert record is not None and record.name == "user_feedback"
            assert record.score == float(span.trace % 2)
            assert record.label == ("up" if span.trace % 2 else "down")


# ---------------------------------------------------------------------------------------------
# Jaeger


def test_jaeger_reads_a_trace_spanning_several_slices_once(backend: Backend) -> None:
    since, until = BASE, BASE + 10 * MINUTE
    spans: list[Span] = []
    for trace in range(8):  # feedback 1 to 4 slices after the question
        spans += rag_trace(trace, since + trace * MINUTE + 7 * SECOND, (trace % 4 + 1) * MINUTE)
    # Starts exactly on a slice boundary: in both slices' inclusive ranges, read in the second.
    spans += rag_trace(20, since + 3 * MINUTE, 30 * SECOND)
    # Its question before ``since``, its feedback inside: only the feedback is read.
    early = rag_trace(21, since - 30 * SECOND, 40 * SECOND)
    # Its feedback after ``until``: the question is read, the feedback is not.
    late = rag_trace(22, until - 20 * SECOND, MINUTE)
    # An agent run with a model call in each of five slices, then the user's feedback.
    spans += [Span(30, i, "llm", since + i * 2 * MINUTE + SECOND) for i in range(5)]
    spans.append(Span(30, 5, "feedback", since + 9 * MINUTE))
    backend.spans = spans + early + late
    source = JaegerSource(backend.url, SERVICE, since, until, slice_ns=MINUTE)

    result = read(source)

    inside = [s for s in spans if s.start_ns < until]
    assert len(inside) == len(spans) - 1  # the feedback of trace 7 comes after ``until``
    assert_each_once(result, inside + early[2:] + late[:2])
    answered = Counter(t for q in backend.jaeger_queries for t in q.traces)
    # The quirk is there: traces answered by several slices, whole.
    assert answered[f"{30:032x}"] == 6 and answered[f"{3:032x}"] == 2
    assert answered[f"{20:032x}"] == 2  # the boundary is in both inclusive ranges
    assert len(backend.jaeger_queries) == 10 and source.split_slices == 0
    # Consecutive slices, oldest first, each ending where the next one starts.
    assert [(q.low, q.high) for q in backend.jaeger_queries] == [
        (since + i * MINUTE, since + (i + 1) * MINUTE) for i in range(10)
    ]


def test_jaeger_splits_a_full_slice_until_each_answer_is_complete(backend: Backend) -> None:
    since, until = BASE, BASE + MINUTE
    spans: list[Span] = []
    for trace in range(23):  # a busy minute: many more traces than one answer holds
        spans += rag_trace(trace, since + trace * 2 * SECOND + 123, 10 * SECOND)
    backend.spans = spans
    source = JaegerSource(backend.url, SERVICE, since, until, slice_ns=MINUTE, max_traces=4)

    result = read(source)

    assert_each_once(result, [s for s in spans if s.start_ns < until])
    assert source.split_slices > 0 and source.truncated_slices == 0
    queries = backend.jaeger_queries
    assert queries[0].low == since and queries[0].high == until
    assert len(queries[0].traces) == 4  # full: split, not read
    # The answers that were read tile [since, until) in order, each with room to spare.
    complete = [q for q in queries if len(q.traces) < 4]
    assert complete[0].low == since and complete[-1].high == until
    assert all(a.high == b.low for a, b in itertools.pairwise(complete))
    assert source.queries == len(queries) == len(complete) + source.split_slices


def test_jaeger_gives_up_splitting_at_the_minimum_slice(backend: Backend) -> None:
    since, until = BASE, BASE + SECOND
    spans: list[Span] = []
    for trace in range(6):  # six traces within 6 µs: no 1 ms slice holds fewer than 4
        spans.append(Span(trace, 0, "query", since + 400 * MS + trace * 1000))
    backend.spans = spans
    source = JaegerSource(backend.url, SERVICE, since, until, slice_ns=SECOND, max_traces=4)

    result = read(source)

    assert source.truncated_slices == 1
    narrowest = min(q.high - q.low for q in backend.jaeger_queries)
    assert MS // 2 <= narrowest <= MS
    # What the full answer held is read, once: the four most recent traces.
    assert_each_once(result, [s for s in spans if s.trace >= 2])


def test_jaeger_finds_the_largest_depth_a_small_memory_store_accepts(backend: Backend) -> None:
    since, until = BASE, BASE + 4 * MINUTE
    spans: list[Span] = []
    for trace in range(30):
        spans += rag_trace(trace, since + trace * 7 * SECOND, 50 * SECOND)
    backend.spans = spans
    backend.store_max_traces = 7
    source = JaegerSource(backend.url, SERVICE, since, until, slice_ns=MINUTE)

    result = read(source)

    assert_each_once(result, [s for s in spans if s.start_ns < until])
    assert source.max_traces == 7
    refused = [q for q in backend.jaeger_queries if q.status == 500]
    assert 0 < len(refused) <= 14  # a bisection from 5000, not a walk down
    first_ok = next(i for i, q in enumerate(backend.jaeger_queries) if q.status != 500)
    settled = backend.jaeger_queries[first_ok:]
    assert sum(q.status == 500 for q in settled) <= 3
    assert settled[-1].depth == 7 and all(q.depth == 7 for q in settled[-5:])
    assert source.split_slices > 0  # 7 traces per answer is full for this busy service


def test_jaeger_depth_search_goes_on_after_an_empty_slice(backend: Backend) -> None:
    # The first answers are empty (404): the search for the store's depth must not stop there.
    since, until = BASE, BASE + 30 * SECOND
    spans: list[Span] = []
    for trace in range(10):
        spans += rag_trace(trace, since + (20 + trace) * SECOND + 1)
    backend.spans = spans
    backend.store_max_traces = 3000
    source = JaegerSource(backend.url, SERVICE, since, until, slice_ns=SECOND)

    result = read(source)

    assert_each_once(result, spans)
    assert source.max_traces == 3000
    assert backend.jaeger_queries[1].status == 404


def test_jaeger_through_open_source_with_a_small_store(backend: Backend) -> None:
    now = time.time_ns()
    since = now - 40 * MINUTE
    spans: list[Span] = []
    for trace in range(12):  # across the 15-minute slices; feedback 20 minutes later
        spans += rag_trace(trace, since + trace * 2 * MINUTE + SECOND, 20 * MINUTE)
    other = [Span(99, 0, "query", since + MINUTE, service="other-app")]
    backend.spans = spans + other
    backend.store_max_traces = 5

    source = open_source(f"jaeger+{backend.url}/", SERVICE, since)
    assert isinstance(source, JaegerSource)
    result = read(source)

    # open_source reads up to a minute past its own "now" (clock skew): no later
    assert_each_once(result, [s for s in spans if s.start_ns < now + MINUTE])
    assert source.max_traces == 5
    assert {q.depth for q in backend.jaeger_queries} >= {5000, 5}
    collector = Collector(service=SERVICE, since_ns=since)
    for span in result:
        collector.add(span)
    assert collector.spans == len(result)


@pytest.mark.parametrize(
    ("status", "content_type", "body", "expected"),
    [
        (
            500,
            "application/json",
            b'{"error": {"httpCode": 500, "message": "storage: connection refused"}}',
            "HTTP 500: storage: connection refused",
        ),
        (502, "text/html", b"upstream timed out\n", "HTTP 502: upstream timed out"),
        (400, "text/plain", b'{"detail": "bad query.service_name"}', "bad query.service_name"),
        (404, "text/plain", b"404 page not found\n", "HTTP 404: 404 page not found"),
        (200, "text/html", b"<html>Jaeger UI</html>", "/api/v3/traces"),
    ],
)
def test_jaeger_errors_carry_the_backend_text(
    backend: Backend, status: int, content_type: str, body: bytes, expected: str
) -> None:
    backend.forced = (status, content_type, body)
    source = JaegerSource(backend.url, SERVICE, BASE, BASE + MINUTE)
    with pytest.raises(SourceError, match=r"GET http://127\.0\.0\.1") as info:
        read(source)
    assert expected in str(info.value)


def test_jaeger_search_depth_refused_even_at_one(backend: Backend) -> None:
    backend.store_max_traces = 0
    source = JaegerSource(backend.url, SERVICE, BASE, BASE + MINUTE, max_traces=8)
    with pytest.raises(SourceError, match="HTTP 500: search depth"):
        read(source)
    assert [q.depth for q in backend.jaeger_queries] == [8, 4, 2, 1]


def test_jaeger_wrong_path_is_an_error_not_an_empty_store(backend: Backend) -> None:
    source = JaegerSource(f"{backend.url}/jaeger", SERVICE, BASE, BASE + MINUTE)
    with pytest.raises(SourceError, match="HTTP 404: 404 page not found"):
        read(source)


def test_jaeger_needs_a_service_and_a_reachable_backend(backend: Backend) -> None:
    with pytest.raises(SourceError, match="--service"):
        open_source(f"jaeger+{backend.url}", None, None)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = JaegerSource(f"http://127.0.0.1:{port}", SERVICE, BASE, BASE + MINUTE)
    with pytest.raises(SourceError, match=f"GET http://127.0.0.1:{port}/api/v3/traces.*refused"):
        read(source)


# ---------------------------------------------------------------------------------------------
# Phoenix


def test_phoenix_follows_cursors(backend: Backend) -> None:
    spans: list[Span] = []
    for trace in range(4):
        spans += rag_trace(trace, BASE + trace * SECOND, 500 * MS)
    backend.projects = {"my project": spans, "other": rag_trace(9, BASE)}
    source = PhoenixSource(backend.url + "/", "my project", None, page_size=5)

    result = read(source)

    assert_each_once(result, spans, project="my project")
    requests = backend.phoenix_requests
    assert [r.get("cursor") for r in requests] == [None, "page-5", "page-10"]
    assert all(r["limit"] == "5" and "start_time" not in r for r in requests)


def test_phoenix_page_smaller_than_asked_and_since(backend: Backend) -> None:
    spans: list[Span] = []
    for trace in range(6):
        spans += rag_trace(trace, BASE + trace * SECOND + 250_000, 100 * MS)
    backend.projects = {"default": spans}
    backend.phoenix_page_cap = 2  # Phoenix keeps to its own maximum page size
    since = BASE + 2 * SECOND

    source = open_source(f"phoenix+{backend.url}", None, since)
    assert isinstance(source, PhoenixSource)
    result = read(source)

    kept = [s for s in spans if s.start_ns >= since]
    assert len(kept) == 12
    assert_each_once(result, kept, project="default")
    assert len(backend.phoenix_requests) == 6
    assert all(_parse_rfc3339(r["start_time"]) == since for r in backend.phoenix_requests)


def test_phoenix_unknown_project(backend: Backend) -> None:
    backend.projects = {"default": []}
    source = open_source(f"phoenix+{backend.url}", "nope", None)
    with pytest.raises(SourceError, match="no project 'nope'") as info:
        read(source)
    assert "Project with identifier nope not found" in str(info.value)


def test_phoenix_error_carries_the_backend_text(backend: Backend) -> None:
    backend.forced = (500, "text/plain", b"Internal Server Error: database is locked")
    with pytest.raises(SourceError, match="HTTP 500: Internal Server Error: database is locked"):
        read(PhoenixSource(backend.url, "default", None))


def test_phoenix_empty_project(backend: Backend) -> None:
    backend.projects = {"default": []}
    assert read(PhoenixSource(backend.url, None, None)) == []


# ---------------------------------------------------------------------------------------------
# Files


def _file_lines() -> tuple[list[bytes], list[Span]]:
    batches = [rag_trace(1, BASE, SECOND), rag_trace(2, BASE + SECOND), rag_trace(3, BASE, MS)]
    lines = [json.dumps(otlp_request(b)).encode() + b"\n" for b in batches]
    return lines, [s for b in batches for s in b]


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_file_blank_lines_and_a_truncated_last_line(tmp_path: Path, suffix: str) -> None:
    lines, spans = _file_lines()
    truncated = json.dumps(otlp_request(rag_trace(4, BASE)))[:-25].encode()
    content = lines[0] + b"\n   \n" + lines[1] + b"\r\n\t\n" + lines[2] + truncated
    path = tmp_path / f"spans{suffix}"
    path.write_bytes(gzip.compress(content) if suffix.endswith(".gz") else content)

    source = open_source(str(path), None, None)
    assert isinstance(source, FileSource)
    progress = Progress(False)
    result = read_with(source, progress)

    assert_each_once(result, spans)
    assert source.bad_lines == 1
    assert progress.total == path.stat().st_size


def test_gz_cut_short_keeps_what_came_before(tmp_path: Path) -> None:
    lines, spans = _file_lines()
    path = tmp_path / "live.jsonl.gz"
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as writer:
        writer.write(b"".join(lines))
        writer.flush()  # a writer still at work: what it flushed so far, with no gzip trailer
        partial = buffer.getvalue()
    path.write_bytes(partial)

    source = FileSource(str(path))
    result = read(source)

    assert_each_once(result, spans)
    assert source.bad_lines == 1

    half = tmp_path / "half.jsonl.gz"  # cut anywhere: no traceback, some spans, a bad line
    half.write_bytes(gzip.compress(b"".join(lines))[: len(partial) // 2])
    cut = FileSource(str(half))
    assert len(read(cut)) < len(spans) and cut.bad_lines == 1


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        open_source(str(tmp_path / "missing.jsonl"), None, None)
    not_gzip = tmp_path / "plain.jsonl.gz"
    not_gzip.write_bytes(b"".join(_file_lines()[0]))
    with pytest.raises(SourceError, match=r"cannot read .*plain\.jsonl\.gz"):
        read(FileSource(str(not_gzip)))
    with pytest.raises(SourceError, match="cannot read"):
        read(FileSource(str(tmp_path)))


def test_file_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines, spans = _file_lines()
    path = tmp_path / "spans.jsonl"
    path.write_bytes(b"".join(lines))
    progress = Progress(True)
    count = len(read_with(FileSource(str(path)), progress))
    progress.close(count)
    err = capsys.readouterr().err
    assert "100.0%" in err and f"{len(spans)} spans" in err and err.endswith("\n")
