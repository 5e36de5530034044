"""Endpoint down or a black hole: the user's script still exits within the configured bound, and
every span it produced is counted as sent or lost (nothing vanishes at exit)."""

from __future__ import annotations

import pytest
from harness import app_env, assert_every_span_accounted, lost, report, run_app

INVOKES = 300  # about 3,000 spans: more than the batch processor's queue (2,048) holds
SLACK = 2.0  # scheduling delay of the exit hooks themselves on a loaded 2-core machine
# The SDK's own shutdown waits up to 30 s on an unreachable endpoint; the whole process, teardown
# included, must end well before that or the bound is not doing its job.
SDK_DEFAULT_WAIT = 30.0


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
@pytest.mark.parametrize("where", ["dead_endpoint", "black_hole"])
def test_unreachable_endpoint_exit_is_bounded_and_spans_counted(
    where: str, protocol: str, request: pytest.FixtureRequest
) -> None:
    endpoint = request.getfixturevalue(where)
    run = run_app(app_env(endpoint, protocol, RAGTEL_SHUTDOWN_TIMEOUT="2"), INVOKES)

    assert run.one("answers_ok") is True  # the pipeline's results are untouched
    assert run.exit_seconds <= 2 + SLACK, f"exit hooks took {run.exit_seconds:.1f} s"
    assert run.process_exit_seconds < SDK_DEFAULT_WAIT / 2, (
        f"exit took {run.process_exit_seconds:.1f} s"
    )
    stats = run.stats
    assert stats.get("spans_exported", 0) == 0
    assert_every_span_accounted(stats)
    assert lost(stats) == stats["spans_started"]
    losses = {k.removeprefix("spans_lost_"): v for k, v in stats.items() if "lost" in k}
    report(
        f"{where} {protocol}",
        exit_hooks_s=run.exit_seconds,
        process_exit_s=run.process_exit_seconds,
        started=stats["spans_started"],
        **losses,
    )


def test_default_exit_bound_is_short(black_hole: str) -> None:
    """Without RAGTEL_SHUTDOWN_TIMEOUT the bound is the documented default (5 s), not the SDK's
    30 s."""
    run = run_app(app_env(black_hole, "grpc"), 20)
    assert run.exit_seconds <= 5 + SLACK, f"exit hooks took {run.exit_seconds:.1f} s"
    assert run.process_exit_seconds < SDK_DEFAULT_WAIT / 2, (
        f"exit took {run.process_exit_seconds:.1f} s"
    )
    assert_every_span_accounted(run.stats)
    report(
        "default bound, black hole grpc",
        exit_hooks_s=run.exit_seconds,
        process_exit_s=run.process_exit_seconds,
        **run.stats,
    )


def test_reachable_endpoint_loses_nothing(relay) -> None:  # type: ignore[no-untyped-def]
    """The control: with the Collector up, every span started arrives at the sink."""
    run = run_app(app_env(relay.endpoint("grpc"), "grpc"), 50)
    stats = run.stats
    assert_every_span_accounted(stats)
    assert lost(stats) == 0
    relay.sink.settle()
    assert len(relay.sink.span_ids()) == stats["spans_started"]
