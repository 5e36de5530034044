"""A tiny OTLP/gRPC trace receiver on 127.0.0.1 that keeps the raw bytes of every request.

The fault suite puts it behind the real Collector (app -> Collector -> sink): what the sink holds
is exactly what the Collector accepted and forwarded, byte for byte, so a test can search the
bytes for planted secrets and count the spans that arrived.
"""

from __future__ import annotations

import threading
import time
from concurrent import futures
from typing import Any

import grpc
from backends import LOOPBACK, free_port
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"


class OtlpSink:
    """``with OtlpSink() as sink: ... sink.spans()``; ``sink.port`` receives OTLP/gRPC."""

    def __init__(self, max_message_bytes: int = 256 << 20) -> None:
        self.port = free_port()
        self.endpoint = f"http://{LOOPBACK}:{self.port}"
        self._lock = threading.Lock()
        self._requests: list[bytes] = []
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=4),
            options=[("grpc.max_receive_message_length", max_message_bytes)],
        )
        handler = grpc.method_handlers_generic_handler(
            _SERVICE,
            {
                # No (de)serializers: the handler sees the request's bytes as they came.
                "Export": grpc.unary_unary_rpc_method_handler(self._export),
            },
        )
        self._server.add_generic_rpc_handlers((handler,))
        self._server.add_insecure_port(f"{LOOPBACK}:{self.port}")

    def _export(self, request: bytes, context: Any) -> bytes:
        with self._lock:
            self._requests.append(request)
        return b""  # an empty ExportTraceServiceResponse: everything accepted

    def start(self) -> OtlpSink:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None)

    def __enter__(self) -> OtlpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what arrived -----------------------------------------------------------------------

    def raw(self) -> bytes:
        """Every request's bytes, concatenated."""
        with self._lock:
            return b"".join(self._requests)

    def spans(self, service: str | None = None) -> list[Any]:
        """Every span received (protobuf ``Span`` messages), in arrival order; only those of
        ``service`` (the resource's ``service.name``) if given."""
        with self._lock:
            requests = list(self._requests)
        out: list[Any] = []
        for raw in requests:
            request = ExportTraceServiceRequest.FromString(raw)
            for resource_spans in request.resource_spans:
                if service is not None:
                    resource = attributes(resource_spans.resource)
                    if resource.get("service.name") != service:
                        continue
                for scope_spans in resource_spans.scope_spans:
                    out.extend(scope_spans.spans)
        return out

    def unique_spans(self, service: str | None = None) -> list[Any]:
        """``spans()`` with retried duplicates removed (by span id)."""
        return list({span.span_id: span for span in self.spans(service)}.values())

    def span_ids(self) -> set[bytes]:
        return {span.span_id for span in self.spans()}

    def wait_for_spans(self, count: int, timeout: float = 30) -> list[Any]:
        """Poll until at least ``count`` distinct spans arrived; returns them (deduplicated)."""
        deadline = time.monotonic() + timeout
        while True:
            unique = {span.span_id: span for span in self.spans()}
            if len(unique) >= count or time.monotonic() > deadline:
                return list(unique.values())
            time.sleep(0.1)

    def settle(self, quiet: float = 1.0, timeout: float = 30) -> None:
        """Wait until no request arrived for ``quiet`` seconds (the Collector has forwarded)."""
        deadline = time.monotonic() + timeout
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            with self._lock:
                now_seen = len(self._requests)
            if now_seen != seen:
                seen, since = now_seen, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.1)


def attributes(message: Any) -> dict[str, Any]:
    """A protobuf span's (or resource's, event's) attributes as Python values."""
    return {kv.key: _value(kv.value) for kv in message.attributes}


def _value(v: Any) -> Any:
    which = v.WhichOneof("value")
    if which == "array_value":
        return [_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, which) if which else None
