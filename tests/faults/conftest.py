"""Fixtures of the fault suite: the real Collector (tests/e2e/backends.py) in front of a sink
that records the bytes it forwards, a black-hole endpoint, and an endpoint where nothing listens.

Backends follow tests/e2e's policy (tests/e2e/availability.py): unavailable -> fail in CI or
with RAGTEL_E2E_REQUIRE=1, skip elsewhere. Every test here is also marked ``e2e``.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent / "e2e"))  # backends.py and availability.py

from availability import start  # noqa: E402
from backends import LOOPBACK, Collector, free_port  # noqa: E402
from harness import Relay  # noqa: E402
from otlp_sink import OtlpSink  # noqa: E402

SINK_COLLECTOR_CONFIG = _HERE / "collector-sink.yaml"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def relay() -> Iterator[Relay]:
    sink = OtlpSink().start()
    collector = Collector(forward_grpc_port=sink.port, config=SINK_COLLECTOR_CONFIG)
    try:
        start("collector", collector)
        yield Relay(collector, sink)
    finally:
        collector.stop()
        sink.stop()


@pytest.fixture
def black_hole() -> Iterator[str]:
    """An endpoint that accepts TCP connections and never answers (a firewall dropping replies,
    a hung proxy): connections sit in the listen backlog, nothing is ever read or sent."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOOPBACK, 0))
    sock.listen(4096)
    try:
        yield f"http://{LOOPBACK}:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture
def dead_endpoint() -> str:
    """An endpoint where nothing listens (connection refused)."""
    return f"http://{LOOPBACK}:{free_port()}"
