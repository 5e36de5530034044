"""Input/output values and chat messages, in both conventions (shared by several step kinds)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from ragtel.recording.budget import text_size
from ragtel.recording.encode import is_mapping, json_string, registered_forms, to_json, to_text
from ragtel.recording.records import Message, PromptTemplate, ToolCall, ToolDefinition
from ragtel.recording.secrets import strip_secrets
from ragtel.semconv import (
    GenAI,
    OpenInference,
    Ragtel,
    message_prefix,
    tool_call_prefix,
    tool_prefix,
)

if TYPE_CHECKING:
    from ragtel.recording.step import Step

JSON_MIME: Final = "application/json"
TEXT_MIME: Final = "text/plain"
_MIME_KEYS: Final = {
    OpenInference.INPUT_VALUE: OpenInference.INPUT_MIME_TYPE,
    OpenInference.OUTPUT_VALUE: OpenInference.OUTPUT_MIME_TYPE,
}
_OI_ROLE: Final = OpenInference.MESSAGE_ROLE
_OI_CONTENT: Final = OpenInference.MESSAGE_CONTENT
_OI_CALL_ID: Final = OpenInference.TOOL_CALL_ID
_OI_CALL_NAME: Final = OpenInference.TOOL_CALL_FUNCTION_NAME
_OI_CALL_ARGUMENTS: Final = OpenInference.TOOL_CALL_FUNCTION_ARGUMENTS
_OI_ANSWERS: Final = OpenInference.MESSAGE_TOOL_CALL_ID
MESSAGES_TRUNCATED: Final = "ragtel.messages.truncated"
_USER_MESSAGE: Final = '[{"role":"user","parts":[{"type":"text","content":'
_ASSISTANT_MESSAGE: Final = '[{"role":"assistant","parts":[{"type":"text","content":'


def add_io(step: Step, key: str, value: Any, *, genai_key: str | None = None) -> str | None:
    """An input or output value: ``input.value``/``output.value`` and, if given, its GenAI key.
    Returns the text recorded (through the text policy), None when nothing was."""
    rec = step.recorder
    if value is None or not rec.content:
        return None
    forms = registered_forms(value)
    done = rec.policy.forms_json(forms) if forms is not None else None
    text: str | None
    if done is not None:  # a retriever's documents, from their parts policed on its span
        raw = text = done[0]
        if done[1]:
            step.cut(Ragtel.TEXT_TRUNCATED_COUNT)
    else:
        if is_mapping(value) and rec.settings.redact_secrets:
            value = strip_secrets(value)  # tool arguments such as api_key: masked by their name
        raw = to_text(value)
        text = step.text(raw)
    if rec.oi and step.put(key, text) and raw is not value and raw[:1] in "{[":
        # Phoenix shows JSON as a tree; text/plain is the convention's default.
        step.put(_MIME_KEYS[key], JSON_MIME)
    if genai_key and rec.genai:
        step.put(genai_key, text)
    return text


def add_root_message(step: Step, genai_key: str, value: Any, text: str | None) -> None:
    """The question (``gen_ai.input.messages``) or answer (``gen_ai.output.messages``) of a
    run's root, when it is one text: a string, or a mapping holding one string (``{"input":
    ...}``). ``text`` is that value as ``add_io`` recorded it (policy applied)."""
    if text is None or not step.recorder.genai:
        return
    if isinstance(value, str):
        pass
    elif is_mapping(value):
        if len(value) != 1:
            return
        (value,) = value.values()
        if not isinstance(value, str):
            return
        text = step.text(value)
    else:
        return
    # Written out: what the encoder writes for [{"role": ..., "parts": [...]}], without the
    # dicts and lists to hand it.
    content = json_string(text) if text is not None else "null"
    if genai_key == GenAI.INPUT_MESSAGES:
        message = _USER_MESSAGE + content + "}]}]"
    else:
        message = _ASSISTANT_MESSAGE + content + '}],"finish_reason":"stop"}]'
    step.put(genai_key, message)


def add_messages(
    step: Step,
    oi_prefix: str,
    genai_key: str,
    messages: Sequence[Message],
    finish_reason: str | None = None,
) -> None:
    """Chat messages: indexed OpenInference keys and one GenAI JSON list."""
    rec = step.recorder
    if not rec.content:
        return
    limit = rec.settings.max_messages
    if len(messages) > limit:
        step.cut(MESSAGES_TRUNCATED, len(messages) - limit)
        # The latest messages say most about this call; keep the system prompt and the tail.
        messages = [*messages[:1], *messages[len(messages) - limit + 1 :]] if limit else []
    texts = [(m.role, step.text(m.content) or "") for m in messages]
    # Messages of a tool exchange (calls, or answers to one), by index; most chats have none.
    exchange = {
        i: [(c, step.text(_arguments_json(c))) for c in m.tool_calls]
        for i, m in enumerate(messages)
        if m.tool_calls or m.tool_call_id is not None
    }
    if rec.genai:
        step.put(genai_key, _genai_messages(messages, texts, exchange, finish_reason))
    if rec.oi:
        for i, (role, content) in enumerate(texts):
            prefix = message_prefix(oi_prefix, i)
            message_calls = exchange.get(i) if exchange else None
            if message_calls is None:
                if not step.room(2, text_size(content)):
                    step.cut(MESSAGES_TRUNCATED, len(texts) - i)
                    break
                step.put(prefix + _OI_ROLE, role)
                step.put(prefix + _OI_CONTENT, content)
                continue
            answers = messages[i].tool_call_id
            keys = 2 + 3 * len(message_calls) + (answers is not None)
            size = text_size(content) + sum(text_size(a or "") for _, a in message_calls)
            if not step.room(keys, size):
                step.cut(MESSAGES_TRUNCATED, len(texts) - i)
                break
            step.put(prefix + _OI_ROLE, role)
            step.put(prefix + _OI_CONTENT, content)
            for j, (call, arguments) in enumerate(message_calls):
                call_prefix = tool_call_prefix(prefix, j)
                step.put(call_prefix + _OI_CALL_ID, call.id)
                step.put(call_prefix + _OI_CALL_NAME, call.name)
                step.put(call_prefix + _OI_CALL_ARGUMENTS, arguments)
            step.put(prefix + _OI_ANSWERS, answers)


def _genai_messages(
    messages: Sequence[Message],
    texts: Sequence[tuple[str, str]],
    exchange: dict[int, list[tuple[ToolCall, str | None]]],
    finish_reason: str | None,
) -> str:
    """``gen_ai.{input,output}.messages`` as JSON. Text messages, nearly all of them, are written
    out as the encoder would write them; a tool exchange goes through the encoder."""
    if exchange:
        payload: list[dict[str, Any]] = [
            {"role": role, "parts": [{"type": "text", "content": content}]}
            for role, content in texts
        ]
        for i, exchanged in exchange.items():
            payload[i] = _genai_message(messages[i], *texts[i], exchanged)
        if finish_reason is not None:
            for item in payload:
                item["finish_reason"] = finish_reason
        return to_json(payload)
    end = (
        "}]}" if finish_reason is None else '}],"finish_reason":' + json_string(finish_reason) + "}"
    )
    return (
        "["
        + ",".join(
            '{"role":' + json_string(role) + ',"parts":[{"type":"text","content":'
            + json_string(content) + end
            for role, content in texts
        )
        + "]"
    )  # fmt: skip


def _arguments_json(call: ToolCall) -> str:
    arguments = call.arguments
    if arguments is None:
        return "{}"
    return arguments if isinstance(arguments, str) else to_json(arguments)


def _genai_message(
    message: Message, role: str, content: str, calls: Sequence[tuple[ToolCall, str | None]]
) -> dict[str, Any]:
    """One message of ``gen_ai.{input,output}.messages``: text, tool calls, or a tool's answer."""
    if message.tool_call_id is not None and role == "tool":
        part = {"type": "tool_call_response", "id": message.tool_call_id, "response": content}
        return {"role": role, "parts": [part]}
    parts: list[dict[str, Any]] = []
    if content or not calls:
        parts.append({"type": "text", "content": content})
    for call, arguments in calls:
        parts.append(
            {"type": "tool_call", "id": call.id, "name": call.name, "arguments": _parsed(arguments)}
        )
    return {"role": role, "parts": parts}


def _parsed(arguments: str | None) -> Any:
    # The convention wants the arguments as JSON, not as a string holding JSON; a model's partial
    # or cut JSON stays a string.
    if not arguments:
        return arguments
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def add_tool_definitions(step: Step, tools: Sequence[ToolDefinition]) -> None:
    """The tools offered to the model: one GenAI JSON list, one OpenInference schema per tool."""
    rec = step.recorder
    if not rec.content or not tools:
        return
    functions = [
        {"name": t.name, "description": t.description, "parameters": t.parameters} for t in tools
    ]
    if rec.genai:
        definitions = [{"type": "function", **f} for f in functions]
        step.put(GenAI.TOOL_DEFINITIONS, step.text(to_json(definitions)))
    if rec.oi:
        for i, function in enumerate(functions):
            schema = to_json({"type": "function", "function": function})  # OpenAI's format
            step.put(tool_prefix(i) + OpenInference.TOOL_JSON_SCHEMA, step.text(schema))


def template_text(template: PromptTemplate) -> str:
    """The template as one text (OpenInference's ``llm.prompt_template.template``)."""
    return _template_texts(_key(template.messages))[0]


def template_json(template: PromptTemplate) -> str:
    """The template's messages, role by role, as JSON (``ragtel.prompt.template``)."""
    return _template_texts(_key(template.messages))[1]


def variables_json(template: PromptTemplate) -> str:
    """The template's variables as JSON, encoded once per template record."""
    if template.variables_json is None:
        template.variables_json = to_json(template.variables)
    return template.variables_json


def _key(messages: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return messages if type(messages) is tuple else tuple(messages)


@functools.lru_cache(maxsize=256)  # a template is the same on every call of its component
def _template_texts(messages: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    if len(messages) == 1:
        joined = messages[0][1]
    else:
        joined = "\n".join(f"{role}: {text}" for role, text in messages)
    return joined, to_json([{"role": r, "template": t} for r, t in messages])


def render_messages(messages: Sequence[Message]) -> str:
    if len(messages) == 1:
        return messages[0].content
    return "\n".join(f"{m.role}: {m.content}" for m in messages)
