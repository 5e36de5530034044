"""A LlamaIndex function-calling LLM that behaves like a hosted provider, offline.

Built the way provider packages build theirs on ``FunctionCallingLLM``: ``_prepare_chat_with_tools``
turns the tools into OpenAI-format schemas sent with the request, a turn that calls a tool comes
back as ``ToolCallBlock``s with ids (read back by ``get_tool_calls_from_response``), streamed turns
arrive as deltas with the tool call completed in the last chunk, and ``raw`` carries the usage.
The chat/complete methods carry LlamaIndex's own callback decorators, which emit the LLM events.

The script, shared with the LangChain fake in spirit: with tools and no tool result yet, call the
first tool with arguments filled from its schema (strings get the user's question); with a tool
result, answer from it; a ReAct prompt gets ReAct-formatted text; a condense prompt gets the
question; otherwise the answer is the first sentence of the context in the system message.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.tools import ToolSelection

MODEL = "fake-fc-1"
REACT_MARK = "Action Input"
OBSERVATION = "Observation:"
# Where LlamaIndex's prompts put the retrieved context: between dashed lines (query engines,
# ContextChatEngine) or after this header (CondensePlusContextChatEngine).
_CONTEXT = re.compile(
    r"-{10,}\n(.*?)\n-{10,}|documents for the context:\s*(.*?)\n\nInstruction", re.DOTALL
)


def call_id(question: str, tool: str) -> str:
    digest = hashlib.blake2b(f"{tool}:{question}".encode(), digest_size=6).hexdigest()
    return f"call_{digest}"


def _first_sentence(text: str) -> str:
    text = text.strip()
    match = re.search(r"[.!?](\s|$)", text)
    return text[: match.start() + 1] if match else text


def context_of(messages: Sequence[ChatMessage]) -> str:
    """The context block LlamaIndex's templates put between dashed lines, if any."""
    for message in messages:
        found = _CONTEXT.search(message.content or "")
        if found:
            return found.group(1) or found.group(2)
    return ""


def arguments_for(schema: dict[str, Any], question: str) -> dict[str, Any]:
    """Arguments a model would fill in: the question for strings, 1 for numbers."""
    args: dict[str, Any] = {}
    properties = schema.get("properties") or {}
    for name in schema.get("required") or list(properties):
        kind = (properties.get(name) or {}).get("type")
        args[name] = 1 if kind in ("integer", "number") else question
    return args


def _usage(messages: Sequence[ChatMessage], answer: str) -> dict[str, int]:
    prompt = sum(len((m.content or "").split()) for m in messages) + 3
    completion = max(len(answer.split()), 1)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class FunctionCallingFakeLLM(FunctionCallingLLM):
    """Scripted function-calling chat model; see the module docstring."""

    model: str = MODEL
    temperature: float = 0.0
    chunk_size: int = 12

    @classmethod
    def class_name(cls) -> str:
        return "function_calling_fake_llm"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            model_name=self.model,
            is_chat_model=True,
            is_function_calling_model=True,
            num_output=256,
        )

    # -- tool calling, as provider packages do it ------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[Any],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            messages.append(ChatMessage(role=MessageRole.USER, content=user_msg))
        elif user_msg is not None:
            messages.append(user_msg)
        return {
            "messages": messages,
            "tools": [tool.metadata.to_openai_tool() for tool in tools],
            **kwargs,
        }

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        calls = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
        if not calls and error_on_no_tool_call:
            raise ValueError("Expected at least one tool call")
        return [
            ToolSelection(
                tool_id=c.tool_call_id or "",
                tool_name=c.tool_name,
                tool_kwargs=c.tool_kwargs if isinstance(c.tool_kwargs, dict) else {},
            )
            for c in calls
        ]

    # -- the script -------------------------------------------------------------------------

    def _reply(
        self, messages: Sequence[ChatMessage], tools: Sequence[dict[str, Any]]
    ) -> ChatMessage:
        question = next(
            (m.content or "" for m in reversed(messages) if m.role == MessageRole.USER), ""
        )
        last = messages[-1] if messages else None
        if last is not None and last.role == MessageRole.TOOL:
            return ChatMessage(
                role=MessageRole.ASSISTANT, content=_first_sentence(last.content or "")
            )
        if tools:
            function = tools[0]["function"]
            args = arguments_for(function.get("parameters") or {}, question)
            block = ToolCallBlock(
                tool_call_id=call_id(question, function["name"]),
                tool_name=function["name"],
                tool_kwargs=args,
            )
            return ChatMessage(role=MessageRole.ASSISTANT, blocks=[block])
        if messages and REACT_MARK in (messages[0].content or ""):
            return ChatMessage(role=MessageRole.ASSISTANT, content=self._react(messages))
        answer = _first_sentence(context_of(messages)) or f"About: {question}"
        return ChatMessage(role=MessageRole.ASSISTANT, content=answer)

    def _react(self, messages: Sequence[ChatMessage]) -> str:
        observations = [
            m.content or "" for m in messages if (m.content or "").startswith(OBSERVATION)
        ]
        if observations:
            found = _first_sentence(observations[-1][len(OBSERVATION) :])
            return f"Thought: I can answer without using any more tools.\nAnswer: {found}"
        question = next(
            (m.content or "" for m in reversed(messages) if m.role == MessageRole.USER), ""
        )
        tool = re.search(r"> Tool Name: (\S+)", messages[0].content or "")
        name = tool.group(1) if tool else "search"
        return (
            "Thought: I need to look this up.\n"
            f"Action: {name}\n"
            f"Action Input: {json.dumps({'input': question})}"
        )

    def _response(self, messages: Sequence[ChatMessage], reply: ChatMessage) -> ChatResponse:
        text = reply.content or json.dumps(
            [b.tool_kwargs for b in reply.blocks if isinstance(b, ToolCallBlock)]
        )
        raw = {
            "model": self.model,
            "finish_reason": "tool_calls" if not reply.content else "stop",
            "usage": _usage(messages, text),
        }
        return ChatResponse(message=reply, raw=raw)

    def _chunks(self, messages: Sequence[ChatMessage], reply: ChatMessage) -> list[ChatResponse]:
        final = self._response(messages, reply)
        text = reply.content or ""
        chunks: list[ChatResponse] = []
        for start in range(0, len(text), self.chunk_size):
            so_far = text[: start + self.chunk_size]
            chunks.append(
                ChatResponse(
                    message=ChatMessage(
                        role=MessageRole.ASSISTANT, blocks=[TextBlock(text=so_far)]
                    ),
                    delta=text[start : start + self.chunk_size],
                )
            )
        # The last chunk has the whole message (tool calls included) and the usage.
        final.delta = ""
        chunks.append(final)
        return chunks

    # -- LLM API ------------------------------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._response(messages, self._reply(messages, kwargs.get("tools") or ()))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        chunks = self._chunks(messages, self._reply(messages, kwargs.get("tools") or ()))

        def gen() -> ChatResponseGen:
            yield from chunks

        return gen()

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        await asyncio.sleep(0)
        return self._response(messages, self._reply(messages, kwargs.get("tools") or ()))

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        chunks = self._chunks(messages, self._reply(messages, kwargs.get("tools") or ()))

        async def gen() -> ChatResponseAsyncGen:
            for chunk in chunks:
                await asyncio.sleep(0)
                yield chunk

        return gen()

    def _complete_text(self, prompt: str) -> str:
        if "standalone question" in prompt.lower():
            return prompt.rsplit("Follow Up Input:", 1)[-1].split("\n")[0].strip() or prompt
        found = _CONTEXT.search(prompt)
        return _first_sentence((found.group(1) or found.group(2)) if found else prompt)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        text = self._complete_text(prompt)
        return CompletionResponse(text=text, raw={"usage": _usage([], text)})

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        text = self._complete_text(prompt)

        def gen() -> CompletionResponseGen:
            yield CompletionResponse(text=text, delta=text, raw={"usage": _usage([], text)})

        return gen()

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        await asyncio.sleep(0)
        text = self._complete_text(prompt)
        return CompletionResponse(text=text, raw={"usage": _usage([], text)})

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        text = self._complete_text(prompt)

        async def gen() -> CompletionResponseAsyncGen:
            yield CompletionResponse(text=text, delta=text, raw={"usage": _usage([], text)})

        return gen()
