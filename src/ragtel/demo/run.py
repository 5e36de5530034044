"""``ragtel demo``: the built-in RAG pipeline, traced and exported, printed as trees."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import ragtel
from ragtel.config import TraceConfig
from ragtel.demo.corpus import OFF_TOPIC_QUESTIONS, QUESTIONS, STREAM_QUESTIONS
from ragtel.demo.tree import format_trace, group_traces
from ragtel.export import OTLPFileExporter, otlp_exporter, resolve_protocol

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


def run_demo(options: DemoOptions, stream: TextIO = sys.stdout) -> int:
    exporter, destination = _exporter(options)
    provider = ragtel.configure(options.service_name, exporter=exporter)
    assert isinstance(provider, TracerProvider)
    shown = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(shown))
    config = TraceConfig()
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
    print(f"{len(traces)} traces, {len(spans)} spans exported to {destination}", file=stream)
    if options.scenario == "drift" and destination.endswith(".jsonl"):
        print(f"next: ragtel drift {destination} --out ragtel-report", file=stream)
    return 0


def _exporter(options: DemoOptions) -> tuple[SpanExporter | None, str]:
    env = os.environ
    endpoint = (
        options.endpoint
        or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    if endpoint:
        exporter = otlp_exporter(endpoint=options.endpoint, protocol=options.protocol)
        protocol = resolve_protocol(options.protocol, endpoint)
        return exporter, f"{endpoint} (OTLP {protocol})"
    return OTLPFileExporter(options.out), options.out


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
