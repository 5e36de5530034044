"""Where spans come from: an OTLP JSON-lines file, Jaeger's query API, or Phoenix's REST API.

Each source streams :class:`~ragtel.analysis._spans.SpanView` (or None for a span with nothing to
analyse) one request, page or line at a time, so memory does not grow with the input size.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any, Protocol

from ragtel.analysis._spans import SpanView, otlp_spans, phoenix_span

JAEGER_SCHEME = "jaeger+"
PHOENIX_SCHEME = "phoenix+"
HTTP_TIMEOUT = 60.0


class SourceError(Exception):
    """The source cannot be read (missing file, unreachable backend, bad answer)."""


class Progress:
    """A one-line progress bar on stderr, redrawn at most five times a second."""

    def __init__(self, enabled: bool, total: float | None = None, unit: str = "") -> None:
        self.enabled = enabled
        self.total = total
        self.unit = unit
        self._last = 0.0
        self._start = time.monotonic()

    def update(self, done: float, spans: int, force: bool = False) -> None:
        """Redraw with ``done`` units of ``total`` and ``spans`` spans read."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.2:
            return
        self._last = now
        rate = spans / max(now - self._start, 1e-9)
        if self.total:
            share = min(done / self.total, 1.0)
            bar = "#" * int(share * 30)
            sys.stderr.write(f"\r[{bar:<30}] {share:6.1%} {spans:>12,} spans {rate:>10,.0f}/s")
        else:
            sys.stderr.write(f"\r{done:,.0f} {self.unit} {spans:>12,} spans {rate:>10,.0f}/s")
        sys.stderr.flush()

    def close(self, spans: int) -> None:
        """Final redraw and newline."""
        if self.enabled:
            self.update(self.total or 0, spans, force=True)
            sys.stderr.write("\n")


class SpanSource(Protocol):
    """Anything that yields spans."""

    def spans(self, progress: Progress) -> Iterator[SpanView | None]:
        """Stream spans, advancing ``progress``."""
        ...


def _rfc3339_nano(ns: int) -> str:
    seconds, rest = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest:09d}Z"


def _get_json(url: str) -> tuple[int, Any]:
    """(status, parsed body); an error status comes with its body (JSON if it parses, else
    text) so that the backend's own message can be shown."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            raw = exc.read()
        except OSError:
            raw = b""
        try:
            return exc.code, json.loads(raw) if raw else None
        except ValueError:
            return exc.code, raw.decode("utf-8", "replace").strip()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SourceError(f"GET {url}: {exc}") from exc


def _error_message(body: Any) -> str:
    """The message of an error answer: Jaeger's ``{"error": {"message"}}``, FastAPI's
    ``{"detail"}`` (Phoenix), or plain text."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if body.get("detail"):
            return str(body["detail"])
        return ""
    return body[:300] if isinstance(body, str) else ""


def _http_error(url: str, status: int, body: Any) -> SourceError:
    message = _error_message(body)
    return SourceError(f"GET {url} -> HTTP {status}" + (f": {message}" if message else ""))


class FileSource:
    """OTLP JSON lines (``.jsonl`` or ``.jsonl.gz``): one ExportTraceServiceRequest per line."""

    def __init__(self, path: str) -> None:
        if not os.path.exists(path):
            raise SourceError(f"no such file: {path}")
        self.path = path

    def spans(self, progress: Progress) -> Iterator[SpanView | None]:
        """Stream the file's spans; malformed lines are counted and skipped, not fatal."""
        count = 0
        self.bad_lines = 0
        try:
            progress.total = float(os.path.getsize(self.path))
            with open(self.path, "rb") as raw:
                # Decompress over the raw file so raw.tell() measures progress in file bytes.
                gz = self.path.endswith(".gz")
                handle: IO[bytes] = gzip.GzipFile(fileobj=raw) if gz else raw
                try:
                    for line in handle:
                        if not line.strip():
                            continue
                        try:
                            request = json.loads(line)
                        except ValueError:
                            self.bad_lines += 1
                            continue
                        for span in otlp_spans(request):
                            count += 1
                            yield span
                        progress.update(raw.tell(), count)
                except EOFError:
                    # A .gz cut short (still being written, or copied while it was): the lines
                    # before the cut were read, the one it went through is lost like a bad line.
                    self.bad_lines += 1
        except OSError as exc:  # a directory, no permission, not gzip data
            raise SourceError(f"cannot read {self.path}: {exc}") from exc


class JaegerSource:
    """Jaeger's ``/api/v3/traces`` (OTLP JSON shaped), queried in time slices.

    Jaeger returns at most ``query.num_traces`` traces per query (the most recent ones): a slice
    that comes back full is split in two and each half queried again, so that a busy service is
    read whole, not sampled. A storage that refuses ``max_traces`` as a search depth (Jaeger's
    memory store accepts no more than its own ``max_traces``) is asked for less.
    """

    def __init__(
        self,
        base: str,
        service: str | None,
        since_ns: int,
        until_ns: int,
        slice_ns: int = 15 * 60 * 1_000_000_000,
        max_traces: int = 5000,
        min_slice_ns: int = 1_000_000,
    ) -> None:
        if not service:
            raise SourceError("a Jaeger source needs --service (Jaeger queries by service)")
        self.base = base.rstrip("/")
        self.service = service
        self.since_ns = since_ns
        self.until_ns = until_ns
        self.slice_ns = slice_ns
        self.max_traces = max_traces
        self.min_slice_ns = min_slice_ns
        self.truncated_slices = 0  # full even at min_slice_ns: some traces were not read
        # Search depths known to be accepted and refused: kept across queries, so that a search
        # for the largest accepted depth interrupted by an empty slice goes on at the next one.
        self._depth_accepted = 0
        self._depth_refused: int | None = None
        self.split_slices = 0
        self.queries = 0

    def spans(self, progress: Progress) -> Iterator[SpanView | None]:
        """Stream the spans of each time slice in turn, oldest first."""
        progress.total = float(max(self.until_ns - self.since_ns, 1))
        count = 0
        start = self.since_ns
        while start < self.until_ns:
            end = min(start + self.slice_ns, self.until_ns)
            pending = [(start, end)]
            while pending:
                low, high = pending.pop()
                result = self._query(low, high)
                if result is None:
                    continue
                if _trace_count(result) >= self.max_traces:
                    if high - low > self.min_slice_ns:
                        middle = (low + high) // 2
                        pending += [(middle, high), (low, middle)]  # the older half first
                        self.split_slices += 1
                        continue
                    self.truncated_slices += 1
                for span in otlp_spans(_started_within(result, low, high)):
                    count += 1
                    yield span
                progress.update(low - self.since_ns, count)
            progress.update(end - self.since_ns, count)
            start = end

    def _url(self, start_ns: int, end_ns: int) -> str:
        params = {
            "query.service_name": self.service,
            "query.start_time_min": _rfc3339_nano(start_ns),
            "query.start_time_max": _rfc3339_nano(end_ns),
            "query.num_traces": str(self.max_traces),
        }
        return f"{self.base}/api/v3/traces?{urllib.parse.urlencode(params)}"

    def _query(self, start_ns: int, end_ns: int) -> dict[str, Any] | None:
        """The OTLP-shaped result for ``[start_ns, end_ns]``; None when nothing matched."""
        while True:
            url = self._url(start_ns, end_ns)
            status, body = _get_json(url)
            self.queries += 1
            if isinstance(body, dict) and status in (200, 404):
                # A JSON 404 is Jaeger's "No traces found" (the depth was accepted all the same);
                # a plain-text one ("404 page not found") is a wrong URL, reported below.
                result = (body.get("result") or body) if status == 200 else None
                depth = self.max_traces
                self._depth_accepted = max(self._depth_accepted, depth)
                refused = self._depth_refused
                if refused is not None and refused - depth > 1:
                    # Look for the largest depth the storage takes (a few queries per run).
                    self.max_traces = (depth + refused) // 2
                    if result is not None and _trace_count(result) >= depth:
                        continue  # a full answer: ask again, deeper
                return result
            if "search depth" in _error_message(body).lower() and self.max_traces > 1:
                self._depth_refused = self.max_traces
                self.max_traces = max((self._depth_accepted + self.max_traces) // 2, 1)
                continue
            raise _http_error(url, status, body)


def _trace_count(result: dict[str, Any]) -> int:
    return len(
        {
            span.get("traceId")
            for rs in result.get("resourceSpans") or []
            for ss in rs.get("scopeSpans") or []
            for span in ss.get("spans") or []
        }
    )


def _started_within(result: dict[str, Any], start_ns: int, end_ns: int) -> dict[str, Any]:
    """The spans of ``result`` that started in ``[start_ns, end_ns)``.

    Jaeger answers a time-range query with every trace that has a matching span in the range,
    whole, and its range is inclusive at both ends: a trace whose spans fall in several slices
    (user feedback given minutes after the answer, a long agent run) comes back once per slice.
    Keeping only the spans that started in the slice reads each span exactly once.
    """
    resource_spans = []
    for rs in result.get("resourceSpans") or []:
        scope_spans = []
        for ss in rs.get("scopeSpans") or []:
            spans = [
                span
                for span in ss.get("spans") or []
                if start_ns <= int(span.get("startTimeUnixNano") or 0) < end_ns
            ]
            if spans:
                scope_spans.append({**ss, "spans": spans})
        if scope_spans:
            resource_spans.append({**rs, "scopeSpans": scope_spans})
    return {"resourceSpans": resource_spans}


class PhoenixSource:
    """Phoenix's ``GET /v1/projects/{project}/spans``, following ``next_cursor``."""

    def __init__(self, base: str, project: str | None, since_ns: int | None,
                 page_size: int = 1000) -> None:  # fmt: skip
        self.base = base.rstrip("/")
        self.project = project or "default"
        self.since_ns = since_ns
        self.page_size = page_size

    def spans(self, progress: Progress) -> Iterator[SpanView | None]:
        """Stream the project's spans page by page."""
        progress.unit = "pages"
        base = f"{self.base}/v1/projects/{urllib.parse.quote(self.project, safe='')}/spans"
        cursor: str | None = None
        pages = count = 0
        while True:
            params = {"limit": str(self.page_size)}
            if cursor:
                params["cursor"] = cursor
            if self.since_ns is not None:
                params["start_time"] = _rfc3339_nano(self.since_ns)
            url = f"{base}?{urllib.parse.urlencode(params)}"
            status, body = _get_json(url)
            if status == 404:  # with Phoenix's own words: an old Phoenix lacks the route
                raise SourceError(f"Phoenix has no project {self.project!r}: "
                                  f"{_http_error(url, status, body)}")  # fmt: skip
            if status != 200 or not isinstance(body, dict):
                raise _http_error(url, status, body)
            for item in body.get("data") or []:
                count += 1
                yield phoenix_span(item, self.project)
            pages += 1
            progress.update(pages, count)
            cursor = body.get("next_cursor")
            if not cursor:
                return


def open_source(spec: str, service: str | None, since_ns: int | None) -> SpanSource:
    """Pick the source for ``spec``: a file path, ``jaeger+http://...`` or ``phoenix+http://...``."""
    if spec.startswith(JAEGER_SCHEME):
        until = time.time_ns() + 60 * 1_000_000_000
        start = since_ns if since_ns is not None else until - 7 * 24 * 3600 * 1_000_000_000
        return JaegerSource(spec[len(JAEGER_SCHEME) :], service, start, until)
    if spec.startswith(PHOENIX_SCHEME):
        return PhoenixSource(spec[len(PHOENIX_SCHEME) :], service, since_ns)
    return FileSource(spec)
