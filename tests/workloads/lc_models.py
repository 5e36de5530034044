"""A LangChain chat model that behaves like a hosted tool-calling provider, offline.

What the agent constructors rely on, done the way provider packages do it: ``bind_tools`` binds
OpenAI-format tool schemas (so they arrive in the run's ``invocation_params``), an assistant turn
that calls a tool carries ``AIMessage.tool_calls`` with ids and ``finish_reason="tool_calls"``,
streaming yields ``AIMessageChunk``s whose ``tool_call_chunks`` hold the arguments in pieces, and
every answer reports ``usage_metadata``. Native async, so ``ainvoke``/``astream`` never fall back
to a thread.

The script is small and deterministic: with tools and no tool result yet, call the first tool with
the user's question; with a tool result, answer from it; asked for query variants (MultiQuery) or
a standalone question (history-aware retrieval), give them; otherwise answer from the context in
the system message.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

MODEL = "fake-tools-1"
PROVIDER = "fakeprovider"
MULTI_QUERY_MARK = "different versions of the given user"
STANDALONE_MARK = "standalone question"


def call_id(question: str) -> str:
    """The id the fake gives the tool call it makes for ``question`` (stable, unique per text)."""
    return "call_" + hashlib.blake2b(question.encode(), digest_size=6).hexdigest()


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content)


def _usage(messages: Sequence[BaseMessage], answer: str) -> dict[str, int]:
    prompt = sum(len(_text(m).split()) for m in messages) + 3
    completion = max(len(answer.split()), 1)
    return {
        "input_tokens": prompt,
        "output_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _last_human(messages: Sequence[BaseMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return _text(message)
    return ""


def _first_sentence(text: str) -> str:
    text = text.strip()
    match = re.search(r"[.!?](\s|$)", text)
    return text[: match.start() + 1] if match else text


class ToolCallingChatModel(BaseChatModel):
    """Scripted tool-calling chat model; see the module docstring."""

    model_name: str = MODEL
    temperature: float = 0.0
    chunk_size: int = 12  # characters per streamed text chunk

    @property
    def _llm_type(self) -> str:
        return PROVIDER

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "temperature": self.temperature}

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        # What provider packages do: tools go to the API as JSON schemas, bound as a kwarg.
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    # -- the script ---------------------------------------------------------------------------

    def _reply(self, messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]]) -> AIMessage:
        question = _last_human(messages)
        last = messages[-1] if messages else None
        if isinstance(last, ToolMessage):
            answer = _first_sentence(_text(last)) or "I found nothing."
            return self._answer(messages, answer)
        if tools and question:
            name = tools[0]["function"]["name"]
            args = {"query": question}
            return AIMessage(
                content="",
                tool_calls=[
                    {"name": name, "args": args, "id": call_id(question), "type": "tool_call"}
                ],
                usage_metadata=_usage(messages, json.dumps(args)),  # type: ignore[arg-type]
                response_metadata={"model_name": self.model_name, "finish_reason": "tool_calls"},
            )
        prompt = "\n".join(_text(m) for m in messages)
        if MULTI_QUERY_MARK in prompt:
            asked = prompt.rsplit("Original question:", 1)[-1].strip()
            answer = "\n".join(f"{asked} ({i})" for i in ("short", "detailed", "again"))
            return self._answer(messages, answer)
        if STANDALONE_MARK in prompt:
            return self._answer(messages, f"Standalone: {question}")
        context = next((_text(m) for m in messages if isinstance(m, SystemMessage)), "")
        context = context.split(":", 1)[-1]
        return self._answer(messages, _first_sentence(context) or f"About: {question}")

    def _answer(self, messages: Sequence[BaseMessage], answer: str) -> AIMessage:
        return AIMessage(
            content=answer,
            usage_metadata=_usage(messages, answer),  # type: ignore[arg-type]
            response_metadata={"model_name": self.model_name, "finish_reason": "stop"},
        )

    def _chunks(self, reply: AIMessage) -> Iterator[AIMessageChunk]:
        meta = dict(reply.response_metadata)
        if reply.tool_calls:
            for index, call in enumerate(reply.tool_calls):
                args = json.dumps(call["args"])
                half = len(args) // 2
                # The name and id come with the first piece of the arguments, as OpenAI sends them.
                yield AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        {
                            "name": call["name"],
                            "args": args[:half],
                            "id": call["id"],
                            "index": index,
                        }
                    ],
                )
                yield AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        {"name": None, "args": args[half:], "id": None, "index": index}
                    ],
                )
        else:
            text = _text(reply)
            for start in range(0, len(text), self.chunk_size):
                yield AIMessageChunk(content=text[start : start + self.chunk_size])
        yield AIMessageChunk(
            content="",
            usage_metadata=reply.usage_metadata,
            response_metadata=meta,
            chunk_position="last",
        )

    # -- BaseChatModel ------------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._reply(messages, kwargs.get("tools") or ())
        return ChatResult(generations=[ChatGeneration(message=reply)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        await asyncio.sleep(0)  # a network round trip: lets concurrent runs interleave
        return self._generate(messages, stop, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self._chunks(self._reply(messages, kwargs.get("tools") or ())):
            if run_manager and isinstance(chunk.content, str) and chunk.content:
                run_manager.on_llm_new_token(chunk.content)
            yield ChatGenerationChunk(message=chunk)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._chunks(self._reply(messages, kwargs.get("tools") or ())):
            await asyncio.sleep(0)
            if run_manager and isinstance(chunk.content, str) and chunk.content:
                await run_manager.on_llm_new_token(chunk.content)
            yield ChatGenerationChunk(message=chunk)
