"""LangChain objects -> ragtel records: pure functions (each prompt's messages read once, kept by
its serialized form), no OpenTelemetry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import filterfalse
from operator import methodcaller
from typing import Any

from langchain_core.documents import Document as LangChainDocument

from ragtel.recording.encode import is_mapping, register_json_encoder
from ragtel.recording.records import (
    Document,
    Message,
    PromptTemplate,
    RunContext,
    ToolCall,
    ToolDefinition,
    Usage,
)

_SCORE_KEYS = ("score", "relevance_score", "similarity_score", "_score", "distance")
_FRAMEWORK_METADATA_PREFIXES = ("ls_", "lc_", "langgraph_", "checkpoint_")
_is_framework_key = methodcaller("startswith", _FRAMEWORK_METADATA_PREFIXES)
_is_step_tag = methodcaller("startswith", ("seq:step:", "map:key:"))
_ROLES = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "tool": "tool",
    "function": "tool",
    "AIMessageChunk": "assistant",
    "developer": "system",
}
_TEMPLATE_ROLES = {
    "SystemMessagePromptTemplate": "system",
    "HumanMessagePromptTemplate": "user",
    "AIMessagePromptTemplate": "assistant",
}


def run_name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> str:
    name = kwargs.get("name")
    if name:
        return str(name)
    if serialized:
        if serialized.get("name"):
            return str(serialized["name"])
        ident = serialized.get("id")
        if ident:
            return str(ident[-1])
    return "unnamed"


def run_context(
    metadata: Mapping[str, Any] | None, tags: Sequence[str] | None
) -> RunContext | None:
    # LangChain tags and metadata mix the user's own with its bookkeeping (step positions,
    # ls_* model facts, lc_versions): only the user's reach the span.
    # Filtered in C: most runs carry only LangChain's, and this runs for every one.
    user_tags = list(filterfalse(_is_step_tag, tags)) if tags else None
    user_keys = list(filterfalse(_is_framework_key, metadata)) if metadata else None
    if not user_tags and not user_keys:
        return None
    user_metadata = {k: metadata[k] for k in user_keys} if metadata and user_keys else None
    return RunContext.from_metadata(user_metadata, user_tags)


def int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def to_document(doc: Any) -> Document:
    metadata = getattr(doc, "metadata", None) or {}
    score = None
    for key in _SCORE_KEYS:
        if key in metadata:
            # Recorded as the document's score: once, not again inside its metadata (a copy:
            # the document's own stays as it was).
            metadata = dict(metadata)
            score = metadata.pop(key)
            break
    doc_id = getattr(doc, "id", None) or metadata.get("id") or metadata.get("doc_id")
    return Document(
        content=getattr(doc, "page_content", None),
        id=str(doc_id) if doc_id is not None else None,
        score=score,
        metadata=metadata or None,
    )


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping) and isinstance(block.get("text"), str):
                parts.append(block["text"])
        return "".join(parts)
    return str(content)


def to_message(message: Any) -> Message:
    kind = getattr(message, "type", "user")
    role = getattr(message, "role", None) if kind == "chat" else _ROLES.get(kind, kind)
    text = _text_of(getattr(message, "content", message))
    # AIMessage.tool_calls (parsed, with the provider's ids) and ToolMessage.tool_call_id, read
    # only on those types: a missing attribute costs a pydantic lookup on every other message.
    if kind == "ai" or kind == "AIMessageChunk":
        calls = getattr(message, "tool_calls", None)
        if calls:
            return Message(str(role or kind), text, tool_calls=[_tool_call(c) for c in calls])
    elif kind == "tool":
        answers = getattr(message, "tool_call_id", None)
        if answers is not None:
            return Message(str(role or kind), text, tool_call_id=str(answers))
    return Message(str(role or kind), text)


def _tool_call(call: Mapping[str, Any]) -> ToolCall:
    call_id = call.get("id")
    return ToolCall(
        str(call_id) if call_id is not None else None, str(call.get("name")), call.get("args")
    )


def tool_definitions(params: dict[str, Any]) -> list[ToolDefinition]:
    """The tools bound to the model, taken out of its invocation parameters (recorded once):
    provider packages bind them as the schemas they send (``bind_tools``)."""
    tools = params.get("tools")
    if not isinstance(tools, list):
        return []
    del params["tools"]
    found = (ToolDefinition.from_schema(t) for t in tools if isinstance(t, Mapping))
    return [t for t in found if t is not None]


def prompt_value_messages(value: Any) -> list[Message]:
    messages = getattr(value, "messages", None)
    if messages is not None:
        return [to_message(m) for m in messages]
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return [Message("user", text)]
    if isinstance(value, str):
        return [Message("user", value)]
    return []


# Run metadata naming a prompt's version: the user's own key, or the LangChain Hub commit a
# pulled prompt carries.
_VERSION_KEYS = ("prompt_version", "lc_hub_commit_hash")


def prompt_template(
    serialized: Mapping[str, Any], inputs: Any, metadata: Mapping[str, Any] | None = None
) -> PromptTemplate:
    kwargs = serialized.get("kwargs") or {}
    variables: dict[str, Any] = {}
    partials = kwargs.get("partial_variables")
    if partials and is_mapping(partials):
        variables.update(partials)
    if is_mapping(inputs):
        variables.update(inputs)
    version = next((metadata[k] for k in _VERSION_KEYS if metadata and metadata.get(k)), None)
    return PromptTemplate(
        _template_messages(serialized), variables, str(version) if version is not None else None
    )


# A prompt's serialized form is built once per prompt object (LangChain caches it), so its
# messages are read once per prompt: by the serialized dict's identity, the dict kept alive
# with them so that the identity cannot be reused.
_MAX_TEMPLATES = 256
_templates: dict[int, tuple[Mapping[str, Any], tuple[tuple[str, str], ...]]] = {}


def _template_messages(serialized: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    known = _templates.get(id(serialized))
    if known is not None and known[0] is serialized:
        return known[1]
    kwargs = serialized.get("kwargs") or {}
    messages = [_template_message(item) for item in kwargs.get("messages") or ()]
    if not messages and isinstance(kwargs.get("template"), str):
        messages.append(("user", kwargs["template"]))
    if len(_templates) >= _MAX_TEMPLATES:
        _templates.clear()
    found = tuple(messages)
    _templates[id(serialized)] = (serialized, found)
    return found


def _template_message(item: Any) -> tuple[str, str]:
    if not isinstance(item, Mapping):
        return ("user", str(item))
    cls = (item.get("id") or ["?"])[-1]
    kw = item.get("kwargs") or {}
    if cls == "MessagesPlaceholder":
        return ("placeholder", "{" + str(kw.get("variable_name", "")) + "}")
    role = _TEMPLATE_ROLES.get(cls) or kw.get("role") or "user"
    prompt = kw.get("prompt")
    if isinstance(prompt, Mapping):
        template = (prompt.get("kwargs") or {}).get("template")
        if isinstance(template, str):
            return (role, template)
    if isinstance(prompt, list):  # multi-part templates
        texts = [
            (p.get("kwargs") or {}).get("template", "") for p in prompt if isinstance(p, Mapping)
        ]
        return (role, "".join(t for t in texts if isinstance(t, str)))
    if "content" in kw:  # a fixed message inside a template
        return (_ROLES.get(str(kw.get("type", "")), role), _text_of(kw["content"]))
    return (role, "")


@dataclass(slots=True)
class GenerationResult:
    outputs: list[Message]
    usage: Usage
    finish_reasons: list[str]
    response_model: str | None
    response_id: str | None


def generation_result(response: Any) -> GenerationResult:
    generations = getattr(response, "generations", None) or [[]]
    first = generations[0] if generations else []
    outputs: list[Message] = []
    finish: list[str] = []
    usage = Usage()
    response_model = None
    response_id = None
    for gen in first:
        message = getattr(gen, "message", None)
        info = getattr(gen, "generation_info", None) or {}
        if message is not None:
            outputs.append(to_message(message))
            meta = getattr(message, "response_metadata", None) or {}
            reason = (
                meta.get("finish_reason") or meta.get("stop_reason") or info.get("finish_reason")
            )
            response_model = response_model or meta.get("model_name") or meta.get("model")
            # The provider's id of the completion (OpenAI's chatcmpl-…, Anthropic's msg_…).
            response_id = response_id or meta.get("id")
            um = getattr(message, "usage_metadata", None)
            if um:
                usage = _usage_metadata(um)
        else:
            outputs.append(Message("assistant", getattr(gen, "text", "")))
            reason = info.get("finish_reason")
        if reason:
            finish.append(str(reason))
    if not usage:
        llm_output = getattr(response, "llm_output", None) or {}
        raw = llm_output.get("token_usage") or llm_output.get("usage") or {}
        if is_mapping(raw):
            usage = Usage(
                int_or_none(raw.get("prompt_tokens", raw.get("input_tokens"))),
                int_or_none(raw.get("completion_tokens", raw.get("output_tokens"))),
                int_or_none(raw.get("total_tokens")),
            )
        response_model = response_model or llm_output.get("model_name")
    return GenerationResult(
        outputs,
        usage,
        finish,
        str(response_model) if response_model else None,
        str(response_id) if response_id else None,
    )


def _usage_metadata(um: Mapping[str, Any]) -> Usage:
    # LangChain's input_tokens already include cached ones (its providers add them up).
    details = um.get("input_token_details") or {}
    return Usage(
        um.get("input_tokens"),
        um.get("output_tokens"),
        um.get("total_tokens"),
        cache_read_tokens=int_or_none(details.get("cache_read")),
        cache_creation_tokens=int_or_none(details.get("cache_creation")),
    )


# Where provider packages keep the base URL they call: invocation parameters or constructor
# arguments (ChatOpenAI's openai_api_base / base_url, Azure's azure_endpoint, Ollama's base_url).
_ENDPOINT_KEYS = ("base_url", "openai_api_base", "api_base", "azure_endpoint", "endpoint_url")
_ENDPOINT_KEY_SET = frozenset(_ENDPOINT_KEYS)


def endpoint(params: Mapping[str, Any], serialized: Mapping[str, Any] | None) -> str | None:
    kwargs = (serialized or {}).get("kwargs")
    for source in (params, kwargs if is_mapping(kwargs) else {}):
        if _ENDPOINT_KEY_SET.isdisjoint(source):  # most models name none: one pass in C
            continue
        for key in _ENDPOINT_KEYS:
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def document_json(doc: LangChainDocument) -> dict[str, Any]:
    """A LangChain document in a JSON value: what a reader needs, minus pydantic's fields."""
    return {"id": doc.id, "page_content": doc.page_content, "metadata": doc.metadata}


register_json_encoder(LangChainDocument, document_json)
