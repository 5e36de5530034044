"""Where spans and metrics go: OTLP endpoint and protocol resolution, and the OTLP span exporter.

Argument, then the signal-specific ``OTEL_EXPORTER_OTLP_<SIGNAL>_*`` variable, then the base one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlparse

from ragtel.export.processors import SizeLimitedExporter

PROTOCOLS: Final = ("grpc", "http/protobuf")
_GRPC_MAX_BYTES: Final = 3 << 20  # the Collector's gRPC receiver refuses messages over 4 MiB
_HTTP_MAX_BYTES: Final = 16 << 20  # ... and HTTP bodies over 20 MiB
_DEFAULT_ENDPOINTS: Final = {
    "grpc": "http://localhost:4317",
    "http/protobuf": "http://localhost:4318",
}


def otlp_exporter(
    *,
    endpoint: str | None = None,
    protocol: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> SizeLimitedExporter:
    """An OTLP span exporter for ``endpoint``/``protocol``, else the ``OTEL_*`` variables."""
    where = target("traces", endpoint, protocol)
    headers = dict(headers) if headers is not None else None
    if where.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return SizeLimitedExporter(GrpcExporter(**where.grpc(), headers=headers), _GRPC_MAX_BYTES)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return SizeLimitedExporter(HttpExporter(endpoint=where.url, headers=headers), _HTTP_MAX_BYTES)


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


def target(signal: str, endpoint: str | None, protocol: str | None) -> _Target:
    """Resolve a signal's endpoint: argument, then ``..._<SIGNAL>_ENDPOINT``, then the base one.

    A signal-specific variable is used as given; a base endpoint (or the argument) gets the
    signal's path (``/v1/traces``) appended for HTTP, as the OTLP exporter specification says.
    """
    env = os.environ
    signal_endpoint = env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    chosen = endpoint or signal_endpoint or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if chosen is not None and "://" not in chosen:
        # "localhost:4317", as the OTLP exporters accept it: plaintext when the *_INSECURE
        # variable says so, TLS otherwise (the specification's default).
        scheme = "http" if _insecure(signal) else "https"
        chosen = f"{scheme}://{chosen}"
        signal_endpoint = chosen if endpoint is None and signal_endpoint else signal_endpoint
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


def _insecure(signal: str) -> bool:
    env = os.environ
    raw = env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_INSECURE") or env.get(
        "OTEL_EXPORTER_OTLP_INSECURE", ""
    )
    return raw.strip().lower() == "true"


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
