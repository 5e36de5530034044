"""An agent per framework, exported by ragtel to a real Jaeger and read back through its API.

What a user opens an agent trace for must survive the trip: one trace per question, the agent at
its root, the model's tool call (id, name, arguments) on the model span, the tool span with the
same call id and the arguments as given, and the tools the model was offered.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from backends import Jaeger, flatten_spans, poll
from llama_index.core.agent.workflow import FunctionAgent
from opentelemetry.sdk.trace import TracerProvider
from ragtel_pipeline import assert_tree, by_trace, kind, unique_service
from tests.workloads import lc_kb, lc_models, li_kb, li_models

import ragtel
from ragtel.langchain import RagtelCallbackHandler
from ragtel.llamaindex import instrument_llamaindex, uninstrument_llamaindex

QUESTION = "How do I download my invoice?"


def _configure(jaeger: Jaeger, service: str) -> TracerProvider:
    provider = ragtel.configure(service, endpoint=jaeger.otlp_grpc_endpoint, protocol="grpc")
    assert isinstance(provider, TracerProvider)
    return provider


def _agent_trace(jaeger: Jaeger, service: str, min_spans: int) -> list[dict[str, Any]]:
    # Jaeger stores spans as they come off its queue: the service can already show min_spans (the
    # index build's among them) while the agent's root is still on its way, so wait for the root.
    def traces_with_agent_root() -> dict[str, list[dict[str, Any]]] | None:
        traces = by_trace(flatten_spans(jaeger.find_traces(service, min_spans=min_spans)))
        has_root = any(
            kind(s) == "AGENT" and not s["parent_span_id"] for t in traces.values() for s in t
        )
        return traces if has_root else None

    traces = poll(traces_with_agent_root, timeout=60, what=f"the agent's root span of {service}")
    # Index builds are traces of their own; the question is the one trace with an agent root.
    agent_traces = [t for t in traces.values() if kind(assert_tree(t)) == "AGENT"]
    assert len(agent_traces) == 1, [[s["name"] for s in t] for t in traces.values()]
    return agent_traces[0]


def _check_tool_call(
    trace: list[dict[str, Any]], call_id: str, tool: str, args: dict[str, Any]
) -> None:
    root = assert_tree(trace)
    assert root["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert QUESTION in root["attributes"]["input.value"]
    (tool_span,) = [s for s in trace if kind(s) == "TOOL"]
    attributes = tool_span["attributes"]
    assert attributes["gen_ai.tool.call.id"] == call_id
    assert attributes["gen_ai.tool.name"] == tool
    assert json.loads(attributes["gen_ai.tool.call.arguments"]) == args
    asking = [s for s in trace if kind(s) == "LLM" and s["end_ns"] <= tool_span["start_ns"]]
    llm = max(asking, key=lambda s: s["end_ns"])["attributes"]
    (message,) = json.loads(llm["gen_ai.output.messages"])
    parts = [p for p in message["parts"] if p["type"] == "tool_call"]
    assert parts == [{"type": "tool_call", "id": call_id, "name": tool, "arguments": args}]
    assert llm["llm.output_messages.0.message.tool_calls.0.tool_call.id"] == call_id
    assert llm["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"] == tool
    arguments = llm["llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments"]
    assert json.loads(arguments) == args
    assert [d["name"] for d in json.loads(llm["gen_ai.tool.definitions"])] == [tool]
    assert json.loads(llm["llm.tools.0.tool.json_schema"])["function"]["name"] == tool


def test_langchain_create_agent_in_jaeger(jaeger: Jaeger) -> None:
    from langchain.agents import create_agent

    service = unique_service("lc-agent")
    provider = _configure(jaeger, service)
    agent = create_agent(
        lc_models.ToolCallingChatModel(), [lc_kb.retriever_tool(lc_kb.store(None))]
    )
    agent.invoke(
        {"messages": [{"role": "user", "content": QUESTION}]},
        config={"callbacks": [RagtelCallbackHandler()]},
    )
    assert provider.force_flush(30_000)
    trace = _agent_trace(jaeger, service, min_spans=8)
    _check_tool_call(trace, lc_models.call_id(QUESTION), lc_kb.TOOL, {"query": QUESTION})


def test_llamaindex_function_agent_in_jaeger(jaeger: Jaeger) -> None:
    service = unique_service("li-agent")
    provider = _configure(jaeger, service)
    handle = instrument_llamaindex()

    async def ask() -> Any:  # a workflow agent lives in an event loop
        llm = li_models.FunctionCallingFakeLLM()
        agent = FunctionAgent(tools=[li_kb.query_tool(li_kb.index(), llm)], llm=llm)
        return await agent.run(QUESTION)

    try:
        answer = asyncio.run(ask())
    finally:
        uninstrument_llamaindex(handle)
    assert provider.force_flush(30_000)
    trace = _agent_trace(jaeger, service, min_spans=8)
    call_id = li_models.call_id(QUESTION, li_kb.TOOL)
    _check_tool_call(trace, call_id, li_kb.TOOL, {"input": QUESTION})
    assert assert_tree(trace)["attributes"]["output.value"] == str(answer)
