"""Helpers of the fault suite: the Collector-and-sink relay, the child user-script runner, and
the accounting identity every test holds ragtel to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends import Collector
from otlp_sink import OtlpSink

_HERE = Path(__file__).resolve().parent


@dataclass
class Relay:
    """A real Collector (default receiver limits) forwarding to a byte-recording sink."""

    collector: Collector
    sink: OtlpSink

    def endpoint(self, protocol: str) -> str:
        if protocol == "grpc":
            return self.collector.otlp_grpc_endpoint
        return self.collector.otlp_http_endpoint


@dataclass
class AppRun:
    """What a child user script printed, and when it ended."""

    returncode: int
    lines: list[dict[str, Any]] = field(default_factory=list)
    stderr: str = ""
    ended_at: float = 0.0

    def one(self, key: str) -> Any:
        found = [line[key] for line in self.lines if key in line]
        assert len(found) == 1, f"expected one {key!r} line, got {self.lines!r}\n{self.stderr}"
        return found[0]

    @property
    def stats(self) -> dict[str, int]:
        return self.one("stats")

    @property
    def exit_seconds(self) -> float:
        """From the script's last invoke to the end of ragtel's exit hooks: what the shutdown bound
        promises. The interpreter's own teardown after them is not ragtel's and, on a loaded 2-core
        machine, takes seconds of its own (see ``process_exit_seconds``)."""
        return self.one("hooks_done") - self.one("done")

    @property
    def process_exit_seconds(self) -> float:
        """From the script's last invoke to the end of its process, as the user waits for it."""
        return self.ended_at - self.one("done")


def app_env(endpoint: str, protocol: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RAGTEL_"))}
    env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
        RAGTEL_MONITOR="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_app(
    env: Mapping[str, str],
    invokes: int,
    *,
    pace: float = 0.0,
    on_progress: Any = None,
    timeout: float = 120,
) -> AppRun:
    """Run tests/faults/app.py; ``on_progress(n)`` is called as progress lines arrive."""
    proc = subprocess.Popen(
        [sys.executable, str(_HERE / "app.py"), str(invokes), str(pace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        cwd=_HERE,
        text=True,
    )
    run = AppRun(returncode=-1)
    killer = threading.Timer(timeout, proc.kill)  # a hung script must not hang the suite
    killer.start()
    assert proc.stdout is not None and proc.stderr is not None
    try:
        for raw in proc.stdout:
            line = json.loads(raw)
            run.lines.append(line)
            if on_progress is not None and "progress" in line:
                on_progress(line["progress"])
        run.returncode = proc.wait()
        run.ended_at = time.time()
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        run.stderr = proc.stderr.read()
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def lost(stats: Mapping[str, int]) -> int:
    """Every span ragtel counted as lost, whatever the reason (``spans_lost_*``)."""
    return sum(v for k, v in stats.items() if k.startswith("spans_lost_"))


def assert_every_span_accounted(stats: Mapping[str, int]) -> None:
    """The identity ``ragtel.stats()`` documents: started = exported + every counted loss."""
    started = stats.get("spans_started", 0)
    assert started > 0, stats
    assert started == stats.get("spans_exported", 0) + lost(stats), stats


def stats_delta(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


class Traced:
    """``ragtel.configure()`` pointed at a relay, a handler, and the stats delta since then."""

    def __init__(self, relay: Relay, service: str, protocol: str = "grpc", **configure: Any):
        import ragtel

        self.relay = relay
        self.service = service
        self.before = ragtel.stats()
        self.provider = ragtel.configure(
            service, endpoint=relay.endpoint(protocol), protocol=protocol, **configure
        )
        from ragtel.langchain import RagtelCallbackHandler

        self.handler = RagtelCallbackHandler()

    def config(self, **extra: Any) -> dict[str, Any]:
        """A LangChain run config with the handler (and ``metadata``/``tags`` given)."""
        return {"callbacks": [self.handler], **extra}

    def flush(self) -> dict[str, int]:
        """Flush, wait for the sink, and return the stats delta since configure()."""
        import ragtel

        assert self.provider.force_flush(60_000)  # type: ignore[attr-defined]
        self.relay.sink.settle()
        return stats_delta(self.before, ragtel.stats())

    def received(self) -> list[Any]:
        return self.relay.sink.unique_spans(self.service)


def report(test: str, **figures: Any) -> None:
    """One line of measured figures per test: ``pytest tests/faults -s | grep '\\[faults\\]'``."""
    shown = " ".join(
        f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
    )
    print(f"[faults] {test}: {shown}")
