"""LangGraph ``create_react_agent`` and LangChain v1 ``create_agent`` with a retriever tool.

Each call must give one trace: the agent at the root with the question and the answer, the model
asking for the tool (call id, name, arguments), the tool running under the agent with the same id,
the retrieval and its embedding inside the tool, and the model reading the tool's result.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain.agents import create_agent
from langgraph.prebuilt import create_react_agent

from ragtel.langchain import RagtelCallbackHandler
from tests.unit.conftest import Traced
from tests.workloads import lc_kb
from tests.workloads.lc_models import ToolCallingChatModel, call_id
from tests.workloads.spans import (
    Run,
    assert_agent_conformance,
    assert_documents,
    assert_tool_exchange,
    attrs,
    runs,
)

QUESTIONS = [
    "How do I download my invoice?",
    "Is my data encrypted at rest?",
    "How large can a single object be?",
    "Which payment methods are accepted?",
]


def _react_agent(tools: list[Any]) -> Any:
    with pytest.warns(DeprecationWarning):  # moved to langchain.agents; still what many apps use
        return create_react_agent(ToolCallingChatModel(), tools)


def _create_agent(tools: list[Any]) -> Any:
    return create_agent(ToolCallingChatModel(), tools, system_prompt="Answer from the docs.")


AGENTS: dict[str, Callable[[list[Any]], Any]] = {
    "langgraph.create_react_agent": _react_agent,
    "langchain.create_agent": _create_agent,
}


def _input(question: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": question}]}


def _answer(state: dict[str, Any]) -> str:
    return str(state["messages"][-1].content)


def _check(run: Run, question: str) -> None:
    root = run.root
    assert run.kind(root) == "AGENT", run.tree()
    assert attrs(root)["gen_ai.operation.name"] == "invoke_agent"
    assert_agent_conformance(run)
    assert question in attrs(root)["input.value"]
    call = assert_tool_exchange(run, tool=lc_kb.TOOL, arguments={"query": question})
    assert call == call_id(question)
    (tool,) = run.of_kind("TOOL")
    assert run.nearest(tool, ["AGENT"]) is root
    (retrieval,) = run.of_kind("RETRIEVER")
    assert run.parent(retrieval) is tool
    assert attrs(retrieval)["input.value"] == question
    docs = assert_documents(retrieval, scored=True)
    (embedding,) = run.of_kind("EMBEDDING")
    assert run.parent(embedding) is retrieval
    llms = run.of_kind("LLM")
    assert len(llms) == 2
    for llm in llms:
        assert run.nearest(llm, ["AGENT"]) is root
        assert attrs(llm)["gen_ai.usage.input_tokens"] > 0
    # The answer the model gave from the tool's result is what the root shows.
    final = attrs(llms[-1])["output.value"]
    assert final and final in docs[0]["content"] + docs[1]["content"]
    assert final in attrs(root)["output.value"]


@pytest.fixture
def handler(traced: Traced) -> RagtelCallbackHandler:
    return RagtelCallbackHandler(traced.provider, traced.config)


@pytest.fixture(params=list(AGENTS))
def agent(request: pytest.FixtureRequest, traced: Traced) -> Any:
    return AGENTS[request.param]([lc_kb.retriever_tool(lc_kb.store(traced))])


def test_invoke(agent: Any, traced: Traced, handler: RagtelCallbackHandler) -> None:
    state = agent.invoke(_input(QUESTIONS[0]), config={"callbacks": [handler]})
    (run,) = runs(traced.spans)
    _check(run, QUESTIONS[0])
    assert _answer(state) in attrs(run.root)["output.value"]
    assert handler.open_runs == 0


def test_threads(agent: Any, traced: Traced, handler: RagtelCallbackHandler) -> None:
    with ThreadPoolExecutor(4) as pool:
        list(
            pool.map(lambda q: agent.invoke(_input(q), config={"callbacks": [handler]}), QUESTIONS)
        )
    found = runs(traced.spans)
    assert len(found) == len(QUESTIONS)
    for run in found:
        question = next(q for q in QUESTIONS if q in attrs(run.root)["input.value"])
        _check(run, question)


async def test_ainvoke_concurrent(
    agent: Any, traced: Traced, handler: RagtelCallbackHandler
) -> None:
    questions = [f"{q} (case {i})" for i in range(4) for q in QUESTIONS]
    await asyncio.gather(
        *(agent.ainvoke(_input(q), config={"callbacks": [handler]}) for q in questions)
    )
    found = runs(traced.spans)
    assert len(found) == len(questions)
    for run in found:
        question = next(
            q for q in questions if json.dumps(q)[1:-1] in attrs(run.root)["input.value"]
        )
        _check(run, question)
    assert handler.open_runs == 0


@pytest.mark.parametrize("mode", ["messages", "updates", "values"])
def test_stream(agent: Any, traced: Traced, handler: RagtelCallbackHandler, mode: str) -> None:
    chunks = list(
        agent.stream(_input(QUESTIONS[1]), config={"callbacks": [handler]}, stream_mode=mode)
    )
    assert chunks
    (run,) = runs(traced.spans)
    _check(run, QUESTIONS[1])
    # Streamed through the model: the first chunk's time is recorded.
    if mode == "messages":
        assert all(attrs(s)["gen_ai.response.time_to_first_chunk"] >= 0 for s in run.of_kind("LLM"))


async def test_astream(agent: Any, traced: Traced, handler: RagtelCallbackHandler) -> None:
    chunks = [
        c
        async for c in agent.astream(
            _input(QUESTIONS[2]), config={"callbacks": [handler]}, stream_mode="messages"
        )
    ]
    assert chunks
    (run,) = runs(traced.spans)
    _check(run, QUESTIONS[2])


async def test_astream_events(agent: Any, traced: Traced, handler: RagtelCallbackHandler) -> None:
    events = [
        e
        async for e in agent.astream_events(
            _input(QUESTIONS[3]), config={"callbacks": [handler]}, version="v2"
        )
    ]
    assert any(e["event"] == "on_tool_end" for e in events)
    (run,) = runs(traced.spans)
    _check(run, QUESTIONS[3])
