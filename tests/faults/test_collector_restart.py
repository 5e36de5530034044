"""The Collector is killed (SIGKILL) mid-stream and restarted on the same ports: every span the
script started either reached the sink behind the Collector or is counted as lost."""

from __future__ import annotations

import os
import signal

import pytest
from harness import Relay, app_env, assert_every_span_accounted, lost, report, run_app


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_collector_killed_and_restarted_mid_stream(relay: Relay, protocol: str) -> None:
    collector = relay.collector
    events: list[str] = []

    def on_progress(n: int) -> None:
        if n == 150:
            assert collector.proc is not None
            os.killpg(collector.proc.pid, signal.SIGKILL)  # no graceful drain
            collector.stop()
            events.append("killed")
        elif n == 300:
            collector.start()  # same ports as before
            events.append("restarted")

    env = app_env(relay.endpoint(protocol), protocol, RAGTEL_SHUTDOWN_TIMEOUT="10")
    run = run_app(env, 500, pace=0.004, on_progress=on_progress)
    assert events == ["killed", "restarted"]
    assert run.one("answers_ok") is True

    stats = run.stats
    assert_every_span_accounted(stats)
    relay.sink.settle()
    received = relay.sink.span_ids()
    # sent = received + counted losses: nothing vanished between the script and the sink.
    assert stats["spans_started"] == len(received) + lost(stats), stats
    assert stats["spans_exported"] == len(received)
    report(
        f"collector killed {protocol}",
        started=stats["spans_started"],
        received=len(received),
        lost=lost(stats),
    )
