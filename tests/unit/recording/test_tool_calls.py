"""Tool calls, tool definitions and agents, from neutral records to both conventions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from ragtel.config import TraceConfig
from ragtel.monitor import EmbeddingMonitor
from ragtel.recording import Recorder
from ragtel.recording.records import Message, ToolCall, ToolDefinition
from ragtel.semconv import EmbeddingRole
from tests.unit.conftest import Traced

SEARCH = ToolDefinition(
    "search_docs",
    "Search the documentation.",
    {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
)
CALL = ToolCall("call_1", "search_docs", {"query": "refund policy"})


def _exchange(recorder: Recorder) -> None:
    """An agent asking for a tool, the tool answering, the agent reading the answer."""
    agent = recorder.start_agent("support", "What is the refund policy?", None)
    ask = recorder.start_generation(
        "chat", agent, model="m", messages=[Message("user", "What is the refund policy?")],
        tools=[SEARCH],
    )  # fmt: skip
    ask.end_generation([Message("assistant", "", tool_calls=[CALL])], finish_reasons=["tool_calls"])
    tool = recorder.start_tool("search_docs", {"query": "refund policy"}, agent, call_id="call_1")
    tool.end_tool("Refunds are prorated.")
    history = [
        Message("user", "What is the refund policy?"),
        Message("assistant", "", tool_calls=[CALL]),
        Message("tool", "Refunds are prorated.", tool_call_id="call_1"),
    ]
    answer = recorder.start_generation("chat", agent, model="m", messages=history)
    answer.end_generation([Message("assistant", "They are prorated.")])
    agent.end_chain("They are prorated.")


def _by_name(traced: Traced) -> dict[str, list[dict[str, Any]]]:
    spans: dict[str, list[dict[str, Any]]] = {}
    for span in traced.spans:
        spans.setdefault(span.name, []).append(dict(span.attributes or {}))
    return spans


def test_both_sides_of_a_tool_call_in_both_conventions(traced: Traced) -> None:
    _exchange(Recorder(traced.provider, traced.config))
    spans = _by_name(traced)
    (agent,) = spans["invoke_agent support"]
    assert agent["openinference.span.kind"] == "AGENT"
    assert agent["gen_ai.operation.name"] == "invoke_agent"
    assert agent["gen_ai.agent.name"] == agent["agent.name"] == "support"
    ask, answer = spans["chat m"]
    # The request: a tool_call part (arguments as JSON, not a string) and the indexed keys.
    (message,) = json.loads(ask["gen_ai.output.messages"])
    assert message["parts"] == [
        {"type": "tool_call", "id": "call_1", "name": "search_docs", "arguments": CALL.arguments}
    ]
    prefix = "llm.output_messages.0.message.tool_calls.0.tool_call."
    assert ask[prefix + "id"] == "call_1"
    assert ask[prefix + "function.name"] == "search_docs"
    assert json.loads(ask[prefix + "function.arguments"]) == CALL.arguments
    # The tools offered.
    (definition,) = json.loads(ask["gen_ai.tool.definitions"])
    assert definition == {
        "type": "function",
        **{k: getattr(SEARCH, k) for k in ("name", "description", "parameters")},
    }
    schema = json.loads(ask["llm.tools.0.tool.json_schema"])
    assert schema["function"]["name"] == "search_docs"
    assert schema["function"]["parameters"] == SEARCH.parameters
    # The tool's span names the call it answers.
    (tool,) = spans["execute_tool search_docs"]
    assert tool["gen_ai.tool.call.id"] == tool["tool.id"] == "call_1"
    assert json.loads(tool["gen_ai.tool.call.arguments"]) == CALL.arguments
    # The answer read back: the call and the tool's response, joined by the id.
    history = json.loads(answer["gen_ai.input.messages"])
    assert history[1]["parts"][0]["type"] == "tool_call"
    assert history[2] == {
        "role": "tool",
        "parts": [
            {"type": "tool_call_response", "id": "call_1", "response": "Refunds are prorated."}
        ],
    }
    assert answer["llm.input_messages.2.message.role"] == "tool"
    assert answer["llm.input_messages.2.message.tool_call_id"] == "call_1"
    assert answer["llm.input_messages.1.message.tool_calls.0.tool_call.id"] == "call_1"


def test_arguments_and_definitions_follow_the_capture_switch_and_redaction() -> None:
    redacting = Traced(TraceConfig(monitor=False, redact=lambda t: t.replace("refund", "[X]")))
    _exchange(Recorder(redacting.provider, redacting.config))
    payload = encode_spans(redacting.spans).SerializeToString()
    assert b"refund" not in payload and b"[X] policy" in payload
    silent = Traced(TraceConfig(monitor=False, capture_content=False))
    _exchange(Recorder(silent.provider, silent.config))
    payload = encode_spans(silent.spans).SerializeToString()
    assert b"refund" not in payload and b"Search the documentation" not in payload
    # Ids are not content: the exchange can still be followed.
    (tool,) = [s for s in silent.spans if s.name == "execute_tool search_docs"]
    assert tool.attributes["gen_ai.tool.call.id"] == "call_1"


@pytest.mark.parametrize("conventions", [{"genai"}, {"openinference"}])
def test_one_convention_writes_only_its_own_keys(conventions: set[str]) -> None:
    traced = Traced(TraceConfig(monitor=False, conventions=frozenset(conventions)))
    _exchange(Recorder(traced.provider, traced.config))
    keys = {k for s in traced.spans for k in s.attributes}
    genai = {k for k in keys if k.startswith("gen_ai.")}
    oi = {k for k in keys if k.startswith(("llm.", "tool_call.", "agent.", "openinference."))}
    assert bool(genai) is ("genai" in conventions)
    assert bool(oi) is ("openinference" in conventions)


def test_a_chain_that_runs_tools_becomes_an_agent(traced: Traced) -> None:
    recorder = Recorder(traced.provider, traced.config)
    root = recorder.start_chain("LangGraph", {"messages": []}, None)
    root.become_agent("LangGraph")
    root.end_chain({"messages": []})
    (span,) = traced.spans
    assert span.name == "invoke_agent LangGraph"
    assert span.attributes["openinference.span.kind"] == "AGENT"
    assert span.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert "gen_ai.workflow.name" not in span.attributes


def test_documents_embedded_while_answering_are_not_the_knowledge_base() -> None:
    traced = Traced(TraceConfig(monitor=True))
    monitor = EmbeddingMonitor()
    recorder = Recorder(traced.provider, traced.config, monitor=monitor)
    for role, count in ((EmbeddingRole.DOCUMENT, 3), (EmbeddingRole.QUERY_DOCUMENT, 2)):
        step = recorder.start_embedding("e", None, model="m", texts=["a"] * count, role=role)
        step.end_embedding([[1.0, float(i)] for i in range(count)])
    assert monitor.context_count == 3
    roles = sorted(s.attributes["ragtel.embedding.role"] for s in traced.spans)
    assert roles == ["document", "query_document"]
