"""``server.address`` / ``server.port`` of a model client, from the base URL it calls."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from ragtel.semconv import Core

_DEFAULT_PORTS: Final = {"https": 443, "http": 80}


def add_server(attrs: dict[str, Any], endpoint: str) -> None:
    """Host and port of ``endpoint`` (a URL; user name and password are never read)."""
    try:
        parts = urlsplit(endpoint if "//" in endpoint else f"//{endpoint}")
        host = parts.hostname
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a malformed port: no address rather than a wrong one
        return
    if not host:
        return
    attrs[Core.SERVER_ADDRESS] = host
    if port is not None:
        attrs[Core.SERVER_PORT] = port
