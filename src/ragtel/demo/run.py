"""``ragtel demo``: the built-in RAG pipeline, traced and exported, printed as trees."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TextIO

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import ragtel
from ragtel.config import TraceConfig
from ragtel.demo.corpus import OFF_TOPIC_QUESTIONS, QUESTIONS, STREAM_QUESTIONS
from ragtel.demo.tree import format_trace, group_traces
from ragtel.export import OTLPFileExporter, resolve_protocol
from ragtel.monitor import EmbeddingMonitor, MonitorConfig
from ragtel.monitor._config import DEFAULT_WINDOW_SIZE, ENV_BASELINE_SIZE, ENV_WINDOW_SIZE
from ragtel.recording.monitor_hook import set_monitor

DEFAULT_OUT = "ragtel-traces.jsonl"


@dataclass(frozen=True, slots=True)
class DemoOptions:
    framework: str = "langchain"
    endpoint: str | None = None
    protocol: str | None = None
    out: str = DEFAULT_OUT
    scenario: str = "basic"
    queries: int = 400
    print_trees: bool = True
    service_name: str = "ragtel-demo"


def run_demo(options: DemoOptions, stream: TextIO | None = None) -> int:
    """Run the demo; 0 when every span reached the destination, 1 when any export failed."""
    stream = stream or sys.stdout
    target = _target(options)
    print(target.announcement, file=stream)
    before = ragtel.stats()
    provider = ragtel.configure(
        options.service_name,
        endpoint=target.endpoint,
        protocol=target.protocol,
        exporter=target.exporter,
    )
    assert isinstance(provider, TracerProvider)
    shown = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(shown))
    config = TraceConfig()
    if options.scenario == "drift":
        set_monitor(_scenario_monitor(options.queries))
    ask = _pipeline(options.framework, provider, config)
    try:
        if options.scenario == "drift":
            _drift_scenario(ask, options.queries, stream)
        else:
            for question in QUESTIONS:
                ask(question)
    finally:
        ragtel.uninstrument()
        provider.force_flush()
    spans = shown.get_finished_spans()
    traces = group_traces(spans)
    if options.print_trees:
        for spans_of_trace in traces if options.scenario == "basic" else traces[:2]:
            print(format_trace(spans_of_trace), file=stream)
            print(file=stream)
    outcome = _Outcome.since(before)
    print(
        f"{len(traces)} traces, {len(spans)} spans: {outcome.sent} sent to "
        f"{target.destination}, {outcome.failed} failed",
        file=stream,
    )
    if outcome.failed or outcome.sent < len(spans):
        print(target.failure_hint(outcome), file=sys.stderr)
        return 1
    if options.scenario == "drift" and target.exporter is not None:
        print(f"next: ragtel drift {target.destination} --out ragtel-report", file=stream)
    return 0


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What the exporters did during the run, from ``ragtel.stats()``."""

    sent: int
    failed: int

    @classmethod
    def since(cls, before: dict[str, int]) -> _Outcome:
        after = ragtel.stats()

        def grew(name: str) -> int:
            return after.get(name, 0) - before.get(name, 0)

        # Every kind of loss ragtel.stats() counts (the spans_lost_* family).
        lost = sum(grew(name) for name in after if name.startswith("spans_lost_"))
        return cls(sent=grew("spans_exported"), failed=lost)


@dataclass(frozen=True, slots=True)
class _Target:
    """Where the demo sends its spans, and how the choice was made (said, never silent)."""

    destination: str
    announcement: str
    endpoint: str | None = None
    protocol: str | None = None
    exporter: SpanExporter | None = None
    guessed: bool = False
    url: str | None = None  # the endpoint, wherever it came from

    def failure_hint(self, outcome: _Outcome) -> str:
        head = (
            "ragtel: nothing arrived"
            if outcome.sent == 0
            else f"ragtel: {outcome.failed} span(s) did not arrive"
        )
        if self.url is None:
            return f"{head} (see the log above)"
        if self.guessed:
            other = "grpc" if self.protocol == "http/protobuf" else "http/protobuf"
            return (
                f"{head} at {self.url}: is it listening for OTLP {self.protocol}? "
                f"No protocol was given; if the endpoint speaks {other}, pass --protocol {other}"
            )
        return f"{head} at {self.url}: is it listening for OTLP {self.protocol}?"


def _target(options: DemoOptions) -> _Target:
    env = os.environ
    endpoint = (
        options.endpoint
        or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    if not endpoint:
        return _Target(
            options.out,
            f"exporting to {options.out} (OTLP JSON lines; --endpoint sends to a backend)",
            exporter=OTLPFileExporter(options.out),
        )
    protocol = resolve_protocol(options.protocol, endpoint)
    guessed = not (
        options.protocol
        or env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    )
    how = f"no --protocol given: {_guess_reason(protocol)}" if guessed else "protocol as configured"
    return _Target(
        f"{endpoint} (OTLP {protocol})",
        f"exporting to {endpoint} over OTLP {protocol} ({how})",
        endpoint=options.endpoint,
        protocol=protocol,
        guessed=guessed,
        url=endpoint,
    )


def _guess_reason(protocol: str) -> str:
    if protocol == "grpc":
        return "port 4317 is OTLP/gRPC's"
    return "http/protobuf is the OTLP default; pass --protocol grpc for a gRPC port"


def _scenario_monitor(total: int) -> EmbeddingMonitor:
    """A monitor whose baseline and window fit the scenario's stream.

    The defaults (a 500-query baseline, 100-query windows) suit a service's traffic; the
    scenario's first half is only ``total / 2`` on-topic questions, so with them no drift was
    ever measured and the backend showed none. A quarter of the stream forms the baseline, the
    window is the same size, so drift is measured from the first quarter on and the windows after
    the change are wholly drifted. ``RAGTEL_MONITOR_*`` variables still win.
    """
    size = max(20, min(DEFAULT_WINDOW_SIZE, total // 4))
    env = os.environ
    config = MonitorConfig()  # reads the RAGTEL_MONITOR_* variables
    return EmbeddingMonitor(
        replace(
            config,
            baseline_size=config.baseline_size if env.get(ENV_BASELINE_SIZE) else size,
            window_size=config.window_size if env.get(ENV_WINDOW_SIZE) else size,
        )
    )


def _pipeline(
    framework: str, provider: TracerProvider, config: TraceConfig
) -> Callable[[str], object]:
    ragtel.instrument(provider, config)
    if framework == "llamaindex":
        from ragtel.demo.llamaindex_app import build_query_engine

        engine = build_query_engine()
        return engine.query
    from ragtel.demo.langchain_app import build_chain
    from ragtel.demo.local_models import HashEmbeddings
    from ragtel.langchain import TracedEmbeddings

    chain = build_chain(
        embeddings=TracedEmbeddings(HashEmbeddings(), tracer_provider=provider, config=config)
    )
    return chain.invoke


# Share of off-topic questions after the change. With the demo's hashed bag-of-words vectors the
# centroid of a window moves by ~0.45 x this share, while sampling alone moves a 100-query
# window's by ~0.14: at 30% a post-change window's drift (0.15-0.18) sits on ``ragtel drift``'s
# automatic threshold (1.25 x that noise, ~0.17) and crosses it in most runs but not all; at
# 40% (0.20-0.22) it crossed in every run measured.
_OFF_TOPIC_SHARE = 0.4


def _drift_scenario(ask: Callable[[str], object], total: int, stream: TextIO) -> None:
    """Half the stream on-topic; then 40% of questions about managed databases, which the
    corpus lacks. Six in ten of those get a thumbs-down, one in ten on-topic ones a thumbs-up.
    """
    rng = random.Random(7)
    plan = _drift_questions(total, rng)
    for question, off_topic in plan:
        with ragtel.session(session_id=f"user-{rng.randrange(40)}") as session:
            ask(question)
        if off_topic and rng.random() < 0.6:
            ragtel.record_feedback(
                session.trace_ids[0],
                score=0.0,
                label="thumbs_down",
                comment="the answer did not address my question",
            )
        elif not off_topic and rng.random() < 0.1:
            ragtel.record_feedback(session.trace_ids[0], score=1.0, label="thumbs_up")
    off = sum(off_topic for _, off_topic in plan)
    print(f"drift scenario: {total} queries, {off} off-topic after query {total // 2}", file=stream)


def _drift_questions(
    total: int, rng: random.Random, share: float = _OFF_TOPIC_SHARE
) -> list[tuple[str, bool]]:
    """The scenario's questions in order, each with whether it is off-topic.

    Each pool is dealt from shuffled decks: every question comes up about equally often, as
    across many users, rather than a few of them many times over by chance (ten copies of one
    question make a tight cluster of their own, and a vaguely worded one then passes for a gap).
    """
    on_topic, off_topic = _Deck(STREAM_QUESTIONS, rng), _Deck(OFF_TOPIC_QUESTIONS, rng)
    plan = []
    for i in range(total):
        drifting = i >= total // 2 and rng.random() < share
        plan.append(((off_topic if drifting else on_topic).draw(), drifting))
    return plan


class _Deck:
    """Draws from a list without repeats until every item has been drawn, then reshuffles."""

    def __init__(self, items: Sequence[str], rng: random.Random) -> None:
        self._items = list(items)
        self._rng = rng
        self._left: list[str] = []

    def draw(self) -> str:
        if not self._left:
            self._left = self._items.copy()
            self._rng.shuffle(self._left)
        return self._left.pop()
