"""Every span ``ragtel demo`` makes, for both frameworks, passes the GenAI registry's rules and
OpenInference's names: 0 violations. Also what a user adds around the demo (a session with a
workflow name, feedback, a streamed answer, a failure) and each switch (content off, one
convention only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain_core.runnables import RunnableLambda

import ragtel
from ragtel.config import TraceConfig
from ragtel.demo.corpus import QUESTIONS
from ragtel.demo.langchain_app import build_chain
from ragtel.demo.llamaindex_app import build_query_engine
from ragtel.demo.local_models import HashEmbeddings
from ragtel.demo.run import _pipeline
from ragtel.langchain import TracedEmbeddings
from ragtel.recording.monitor_hook import set_monitor
from tests.unit.conftest import Traced

from .check import check_spans

CONFIGS = {
    "default": TraceConfig(monitor=False),
    "content off": TraceConfig(monitor=False, capture_content=False),
    "genai only": TraceConfig(monitor=False, conventions=frozenset({"genai"})),
    "openinference only": TraceConfig(monitor=False, conventions=frozenset({"openinference"})),
}


class DemoError(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield
    ragtel.uninstrument()
    set_monitor(None)


def _violations(traced: Traced, config: TraceConfig) -> list[str]:
    settings = config.settings()
    found = check_spans(traced.spans, genai=settings.genai, openinference=settings.openinference)
    return sorted({str(v) for v in found})


@pytest.mark.parametrize("framework", ["langchain", "llamaindex"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_demo_spans_conform(framework: str, name: str) -> None:
    config = CONFIGS[name]
    traced = Traced(config)
    ask = _pipeline(framework, traced.provider, config)
    with ragtel.session(session_id="chat-1", user_id="u-1", metadata={"workflow_name": "demo"}):
        for question in QUESTIONS:
            ask(question)
    ragtel.record_feedback(ragtel.last_trace_id(), score=1.0, label="thumbs_up", comment="ok")
    assert len(traced.traces()) == len(QUESTIONS) + 1  # and the corpus being embedded
    assert any(s.name == "feedback" for s in traced.spans)
    assert _violations(traced, config) == []


@pytest.mark.parametrize("name", list(CONFIGS))
def test_streamed_and_failed_langchain_runs_conform(name: str) -> None:
    config = CONFIGS[name]
    traced = Traced(config)
    chain = build_chain(
        embeddings=TracedEmbeddings(
            HashEmbeddings(), tracer_provider=traced.provider, config=config
        )
    )
    ragtel.instrument(traced.provider, config)
    assert "".join(chain.stream(QUESTIONS[0]))

    def fail(_: str) -> str:
        raise DemoError("the answer could not be checked")

    with pytest.raises(DemoError):
        (chain | RunnableLambda(fail)).invoke(QUESTIONS[1])
    assert any(s.attributes.get("error.type") == "DemoError" for s in traced.spans)
    if config.settings().genai:
        streamed = [s for s in traced.spans if s.attributes.get("gen_ai.request.stream")]
        assert streamed, [s.name for s in traced.spans]
    assert _violations(traced, config) == []


@pytest.mark.parametrize("name", list(CONFIGS))
def test_streamed_llamaindex_query_conforms(name: str) -> None:
    config = CONFIGS[name]
    traced = Traced(config)
    ragtel.instrument(traced.provider, config)
    engine = build_query_engine(streaming=True)
    response = engine.query(QUESTIONS[0])
    assert "".join(response.response_gen)  # type: ignore[union-attr]
    if config.settings().genai:
        streamed = [s for s in traced.spans if s.attributes.get("gen_ai.request.stream")]
        assert streamed, [s.name for s in traced.spans]
    assert _violations(traced, config) == []
