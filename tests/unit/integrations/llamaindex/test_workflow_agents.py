"""Workflow agents: the run is the root whatever the dispatcher reports, and never stays current."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.agent.workflow.workflow_events import ToolCall
from llama_index.core.tools import FunctionTool
from opentelemetry import trace

from ragtel.llamaindex import RagtelSpanHandler
from tests.unit.conftest import Traced
from tests.workloads import li_kb
from tests.workloads.li_models import FunctionCallingFakeLLM

QUESTION = "How do I download my invoice?"


def _id(name: str) -> str:
    return f"{name}-{uuid.uuid4()}"  # how the dispatcher names its spans


def _args(**arguments: Any) -> SimpleNamespace:
    return SimpleNamespace(arguments=arguments)


def search(query: str) -> str:
    """Search the docs."""
    return "Invoices are monthly."


def test_steps_reported_without_their_parent_join_the_run_by_its_id(traced: Traced) -> None:
    handler = RagtelSpanHandler(traced.provider, traced.config)  # fed by hand, not registered
    agent = FunctionAgent(tools=[search], llm=FunctionCallingFakeLLM())
    tool = FunctionTool.from_defaults(search)
    run = _id("FunctionAgent.run")
    handler.span_enter(run, _args(user_msg=QUESTION), instance=agent)
    tags = {"llamaindex.run_id": "r-1"}
    # The first step arrives with its parent: the run's id is learnt from it.
    setup = _id("BaseWorkflowAgent.setup_agent")
    handler.span_enter(setup, _args(ev=None), parent_id=run, tags=tags)
    handler.span_exit(setup, _args())
    # A later step and the tool inside it arrive without a parent (another dispatcher, a lost
    # context): the run id in their tags puts them under the agent.
    call = ToolCall(tool_name="search", tool_kwargs={"query": QUESTION}, tool_id="call_9")
    step = _id("BaseWorkflowAgent.call_tool")
    handler.span_enter(step, _args(ev=call), tags=tags)
    acall = _id("FunctionTool.acall")
    handler.span_enter(acall, _args(args=(), kwargs={"query": QUESTION}), tool, step, tags)
    handler.span_exit(acall, _args(), tool, result=None)
    handler.span_exit(step, _args())
    handler.span_exit(run, _args(), agent, result=None)
    assert handler.open_steps == 0
    spans = {s.attributes["openinference.span.kind"]: s for s in traced.spans}
    agent_span, tool_span = spans["AGENT"], spans["TOOL"]
    assert agent_span.parent is None
    assert tool_span.parent.span_id == agent_span.context.span_id  # type: ignore[union-attr]
    assert tool_span.attributes["gen_ai.tool.call.id"] == "call_9"
    assert tool_span.attributes["input.value"] == '{"query":"How do I download my invoice?"}'


def test_the_run_is_never_left_current_in_the_caller(traced: Traced) -> None:
    handler = RagtelSpanHandler(traced.provider, traced.config).attach()

    async def ask() -> str:
        llm = FunctionCallingFakeLLM()
        agent = FunctionAgent(tools=[li_kb.query_tool(li_kb.index(), llm)], llm=llm)
        answer = str(await agent.run(QUESTION))
        assert trace.get_current_span() is trace.INVALID_SPAN
        return answer

    try:
        answer = asyncio.run(ask())
    finally:
        handler.detach()
    (agent_span,) = [s for s in traced.spans if s.name == "invoke_agent Agent"]
    assert agent_span.attributes["output.value"] == answer
    assert trace.get_current_span() is trace.INVALID_SPAN
