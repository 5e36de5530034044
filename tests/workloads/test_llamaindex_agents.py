"""LlamaIndex workflow agents (``FunctionAgent``, ``ReActAgent``) with a query-engine tool.

A workflow run hands its steps to the dispatcher in pieces (the model call, the tool call, the
next model call) with nothing joining them; whatever the dispatcher gives, one ``run`` must be one
trace under an agent span that holds the question and the answer, and concurrent runs must stay
apart.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ReActAgent

from ragtel.llamaindex import RagtelSpanHandler
from tests.unit.conftest import Traced
from tests.workloads import li_kb
from tests.workloads.li_models import FunctionCallingFakeLLM, call_id
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
]
AGENTS = {"FunctionAgent": FunctionAgent, "ReActAgent": ReActAgent}


@pytest.fixture(params=list(AGENTS))
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def _agent(kind: str, li_index: Any, streaming: bool) -> Any:
    llm = FunctionCallingFakeLLM()
    return AGENTS[kind](tools=[li_kb.query_tool(li_index, llm)], llm=llm, streaming=streaming)


def _check(run: Run, kind: str, question: str, answer: str) -> None:
    root = run.root
    assert run.kind(root) == "AGENT", run.tree()
    assert attrs(root)["gen_ai.operation.name"] == "invoke_agent"
    assert_agent_conformance(run)
    assert question in attrs(root)["input.value"]
    assert attrs(root)["output.value"] == answer
    structured = kind == "FunctionAgent"
    call = assert_tool_exchange(
        run, tool=li_kb.TOOL, arguments={"input": question}, structured=structured
    )
    if structured:  # the model's own id; ReAct's ids are made up by the agent
        assert call == call_id(question, li_kb.TOOL)
    (tool,) = run.of_kind("TOOL")
    assert run.nearest(tool, ["AGENT"]) is root
    (retrieval,) = run.of_kind("RETRIEVER")
    assert run.nearest(retrieval, ["TOOL"]) is tool
    assert attrs(retrieval)["input.value"] == question
    assert_documents(retrieval, scored=True)
    (embedding,) = run.of_kind("EMBEDDING")
    assert run.parent(embedding) is retrieval
    # The agent's two turns and the query engine's synthesis.
    llms = run.of_kind("LLM")
    assert len(llms) == 3, run.tree()
    for llm in llms:
        assert attrs(llm)["gen_ai.usage.input_tokens"] > 0
    # The model's last turn holds the answer (a ReAct turn wraps it in "Thought: ... Answer: ...").
    assert answer in attrs(llms[-1])["output.value"]


async def _run(agent: Any, question: str, stream: bool) -> str:
    handler = agent.run(question)
    if stream:
        deltas = [e.delta async for e in handler.stream_events() if isinstance(e, AgentStream)]
        assert deltas
    return str(await handler)


@pytest.mark.parametrize("stream", [False, True], ids=["run", "stream_events"])
async def test_run(
    kind: str, li_index: Any, traced: Traced, li_handler: RagtelSpanHandler, stream: bool
) -> None:
    answer = await _run(_agent(kind, li_index, stream), QUESTIONS[0], stream)
    (run,) = runs(traced.spans)
    _check(run, kind, QUESTIONS[0], answer)
    assert li_handler.open_steps == 0


@pytest.mark.parametrize("stream", [False, True], ids=["run", "stream_events"])
async def test_concurrent_runs(
    kind: str, li_index: Any, traced: Traced, li_handler: RagtelSpanHandler, stream: bool
) -> None:
    agent = _agent(kind, li_index, stream)
    answers = await asyncio.gather(*(_run(agent, q, stream) for q in QUESTIONS))
    found = runs(traced.spans)
    assert len(found) == len(QUESTIONS), [r.tree() for r in found]
    for run in found:
        question = next(q for q in QUESTIONS if q in attrs(run.root)["input.value"])
        _check(run, kind, question, answers[QUESTIONS.index(question)])


def test_runs_in_threads(
    kind: str, li_index: Any, traced: Traced, li_handler: RagtelSpanHandler
) -> None:
    # Each thread with its own event loop, as a sync web server calling asyncio.run per request.
    agent = _agent(kind, li_index, False)
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda q: asyncio.run(_run(agent, q, False)), QUESTIONS))
    found = runs(traced.spans)
    assert len(found) == len(QUESTIONS)
    for run in found:
        question = next(q for q in QUESTIONS if q in attrs(run.root)["input.value"])
        _check(run, kind, question, answers[QUESTIONS.index(question)])
