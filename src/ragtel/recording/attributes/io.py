"""Input/output values and chat messages, in both conventions (shared by several step kinds)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from ragtel.recording.budget import text_size
from ragtel.recording.encode import to_json, to_text
from ragtel.recording.records import Message
from ragtel.semconv import OpenInference, message_prefix

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
MESSAGES_TRUNCATED: Final = "ragtel.messages.truncated"


def add_io(step: Step, key: str, value: Any, *, genai_key: str | None = None) -> None:
    """An input or output value: ``input.value``/``output.value`` and, if given, its GenAI key."""
    rec = step.recorder
    if value is None or not rec.content:
        return
    raw = to_text(value)
    text = step.text(raw)
    if rec.oi and step.put(key, text) and raw is not value and raw[:1] in "{[":
        # Phoenix shows JSON as a tree; text/plain is the convention's default.
        step.put(_MIME_KEYS[key], JSON_MIME)
    if genai_key and rec.genai:
        step.put(genai_key, text)


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
    if rec.genai:
        payload: list[dict[str, Any]] = [
            {"role": role, "parts": [{"type": "text", "content": content}]}
            for role, content in texts
        ]
        if finish_reason is not None:
            for item in payload:
                item["finish_reason"] = finish_reason
        step.put(genai_key, to_json(payload))
    if rec.oi:
        for i, (role, content) in enumerate(texts):
            prefix = message_prefix(oi_prefix, i)
            if not step.room(2, text_size(content)):
                step.cut(MESSAGES_TRUNCATED, len(texts) - i)
                break
            step.put(prefix + _OI_ROLE, role)
            step.put(prefix + _OI_CONTENT, content)


def join_templates(messages: Sequence[tuple[str, str]]) -> str:
    if len(messages) == 1:
        return messages[0][1]
    return "\n".join(f"{role}: {text}" for role, text in messages)


def render_messages(messages: Sequence[Message]) -> str:
    if len(messages) == 1:
        return messages[0].content
    return "\n".join(f"{m.role}: {m.content}" for m in messages)
