"""LlamaIndex objects -> ragtel records: pure functions, no OpenTelemetry, no state.

Everything here reads framework objects defensively (duck typing, ``getattr`` with defaults) so
that a model or store with an unusual shape degrades to "not recorded", never to an exception in
the user's call. Nothing here serializes whole framework objects: nodes, responses and models are
reduced to the few fields a span shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ragtel.recording.providers import home_package, provider_of_class
from ragtel.recording.records import (
    Document,
    Message,
    PromptTemplate,
    RunContext,
    ToolCall,
    ToolDefinition,
    Usage,
)

_ROLES: Final = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    "developer": "system",
    "tool": "tool",
    "function": "tool",
    "chatbot": "assistant",
    "model": "assistant",
}

# LLM fields that are request parameters, when a model class defines them.
_PARAM_FIELDS: Final = (
    "temperature",
    "max_tokens",
    "max_new_tokens",
    "max_completion_tokens",
    "top_p",
    "top_k",
    "seed",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "repetition_penalty",
    "reasoning_effort",
)
# Call keyword arguments that steer LlamaIndex itself rather than the model.
_NOT_PARAMS: Final = frozenset({"formatted"})

_class_params: dict[type, tuple[str, ...]] = {}
_class_providers: dict[type, str | None] = {}
# Where LlamaIndex model classes keep the base URL they call (OpenAI's api_base, Ollama's
# base_url, Azure's azure_endpoint).
_ENDPOINT_FIELDS: Final = ("api_base", "base_url", "azure_endpoint")


# -- inputs and outputs of steps ------------------------------------------------------------------


def query_text(value: Any) -> str | None:
    """The text of a query: a string, a ``QueryBundle`` or a chat message."""
    if value is None or isinstance(value, str):
        return value
    text = getattr(value, "query_str", None)
    if isinstance(text, str):
        return text
    content = getattr(value, "content", None)
    if isinstance(content, str):
        return content
    return None


def first_argument(arguments: Mapping[str, Any]) -> Any:
    for value in arguments.values():
        return value
    return None


def step_input(arguments: Mapping[str, Any]) -> Any:
    """What a chain step was asked: the query or message, else all arguments."""
    first = first_argument(arguments)
    text = query_text(first)
    if text is not None:
        return text
    if is_node_list(first):
        return node_summaries(first)
    return dict(arguments) if arguments else None


def step_output(result: Any) -> Any:
    """What a chain step answered, reduced to what a trace viewer shows."""
    if result is None or isinstance(result, (str, int, float, bool)):
        return result
    response = getattr(result, "response", None)  # Response, AgentChatResponse, PydanticResponse
    if isinstance(response, str):
        return response
    if response is not None and hasattr(response, "model_dump"):
        return response
    content = getattr(result, "content", None)  # ToolOutput
    if isinstance(content, str):
        return content
    if is_node_list(result):
        return node_summaries(result)
    return None


def is_node_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and hasattr(value[0], "node")


def node_summaries(nodes: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {"id": _node_id(getattr(n, "node", n)), "score": getattr(n, "score", None)} for n in nodes
    ]


def documents(nodes: Sequence[Any] | None) -> list[Document]:
    """Retrieved ``NodeWithScore`` objects (or bare nodes) as documents."""
    out: list[Document] = []
    for item in nodes or ():
        node = getattr(item, "node", item)
        text = getattr(node, "text", None)
        if not isinstance(text, str):
            get_content = getattr(node, "get_content", None)
            text = get_content() if callable(get_content) else None
        metadata = getattr(node, "metadata", None)
        out.append(
            Document(
                content=text,
                id=_node_id(node),
                score=getattr(item, "score", None),
                metadata=metadata if isinstance(metadata, Mapping) and metadata else None,
            )
        )
    return out


def _node_id(node: Any) -> str | None:
    ident = getattr(node, "node_id", None) or getattr(node, "id_", None)
    return str(ident) if ident is not None else None


def run_context(tags: Mapping[str, Any] | None) -> RunContext | None:
    """LlamaIndex ``instrument_tags`` as the run's session, user and metadata."""
    return RunContext.from_metadata(tags)


def retriever_top_k(retriever: Any) -> int | None:
    for name in ("similarity_top_k", "_similarity_top_k", "top_k", "_top_k"):
        value = getattr(retriever, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def retriever_data_source(retriever: Any) -> str | None:
    """The vector store (or docstore) a retriever reads, by class name."""
    for name in ("_vector_store", "vector_store", "_docstore"):
        store = getattr(retriever, name, None)
        if store is not None:
            return type(store).__name__
    index = getattr(retriever, "_index", None)
    store = getattr(index, "vector_store", None) if index is not None else None
    return type(store).__name__ if store is not None else None


# -- prompts --------------------------------------------------------------------------------------


def prompt_template(
    template: Any, template_args: Mapping[str, Any] | None, llm: Any
) -> tuple[str, PromptTemplate]:
    """The template a predict call used (a selector's pick for ``llm``) and all its variables."""
    chosen = template
    if hasattr(template, "default_template") and callable(getattr(template, "select", None)):
        chosen = template.select(llm)
    messages: list[tuple[str, str]]
    chat = getattr(chosen, "message_templates", None)
    if isinstance(chat, Sequence) and not isinstance(chat, str):
        messages = [(role_of(m), getattr(m, "content", None) or "") for m in chat]
    else:
        text = getattr(chosen, "template", None)
        if not isinstance(text, str):
            text = getattr(chosen, "template_str", None)
        if not isinstance(text, str):
            text = chosen.get_template(llm=llm)
        messages = [("user", text)]
    mappings = getattr(chosen, "template_var_mappings", None) or {}
    partials = getattr(chosen, "kwargs", None) or {}
    variables = {mappings.get(k, k): v for k, v in {**partials, **(template_args or {})}.items()}
    return type(chosen).__name__, PromptTemplate(messages, variables)


# -- models ---------------------------------------------------------------------------------------


def role_of(message: Any) -> str:
    role = getattr(message, "role", "user")
    value = getattr(role, "value", role)
    return _ROLES.get(str(value), str(value))


def messages(chat_messages: Sequence[Any]) -> list[Message]:
    return [message(m) for m in chat_messages]


def message(chat_message: Any) -> Message:
    """A chat message, with the tool calls it makes or the id of the call it answers."""
    role = role_of(chat_message)
    text = _content(chat_message)
    extra = getattr(chat_message, "additional_kwargs", None)
    blocks = getattr(chat_message, "blocks", None)
    # Most messages are one text block with no extras: nothing more to read.
    if not extra and (not blocks or (len(blocks) == 1 and _is_text(blocks[0]))):
        return Message(role, text)
    calls = _tool_calls(blocks, extra)
    answers = extra.get("tool_call_id") if role == "tool" and isinstance(extra, Mapping) else None
    if not calls and answers is None:
        return Message(role, text)
    return Message(
        role, text, tool_calls=calls, tool_call_id=str(answers) if answers is not None else None
    )


def _is_text(block: Any) -> bool:
    return getattr(block, "block_type", None) == "text"


def _tool_calls(blocks: Any, extra: Any) -> list[ToolCall]:
    # LlamaIndex 0.14 models put ToolCallBlocks in the message; older OpenAI-style integrations
    # keep the provider's tool_calls in additional_kwargs (objects or dicts, arguments as JSON).
    found = [
        ToolCall(b.tool_call_id, str(b.tool_name), b.tool_kwargs)
        for b in blocks or ()
        if getattr(b, "block_type", None) == "tool_call"
    ]
    if found:
        return found
    for call in (extra.get("tool_calls") if isinstance(extra, Mapping) else None) or ():
        function = _get(call, "function")
        name = _get(function, "name")
        if name:
            call_id = _get(call, "id")
            found.append(
                ToolCall(str(call_id) if call_id else None, str(name), _get(function, "arguments"))
            )
    return found


def tool_definitions(params: dict[str, Any]) -> list[ToolDefinition]:
    """The tools sent with a chat call, taken out of its parameters (recorded once): provider
    schemas, or LlamaIndex tools (``MockFunctionCallingLLM`` and some integrations pass those)."""
    tools = params.get("tools")
    if not isinstance(tools, list):
        return []
    del params["tools"]
    found = []
    for tool in tools:
        if isinstance(tool, Mapping):
            definition = ToolDefinition.from_schema(tool)
        else:
            meta = getattr(tool, "metadata", None)
            name = getattr(meta, "name", None)
            schema = getattr(meta, "get_parameters_dict", None)
            definition = (
                ToolDefinition(
                    str(name),
                    getattr(meta, "description", None),
                    schema() if callable(schema) else None,
                )
                if name
                else None
            )
        if definition is not None:
            found.append(definition)
    return found


def tool_arguments(arguments: Mapping[str, Any]) -> Any:
    """A tool's arguments as given: ``call(*args, **kwargs)`` binds them under args/kwargs."""
    if not arguments or not set(arguments) <= {"args", "kwargs"}:
        return dict(arguments) if arguments else None
    args, kwargs = arguments.get("args") or (), arguments.get("kwargs") or {}
    if not args:
        return dict(kwargs)
    if not kwargs and len(args) == 1:
        return args[0]
    return {"args": list(args), **kwargs}


def agent_input(arguments: Mapping[str, Any]) -> Any:
    """The question a workflow agent was given (``run(user_msg=...)``)."""
    for key in ("user_msg", "start_event"):
        value = arguments.get(key)
        if value is not None:
            text = query_text(value)
            return text if text is not None else value
    kwargs = arguments.get("kwargs")
    if isinstance(kwargs, Mapping) and kwargs:
        return agent_input(kwargs)
    return step_input(arguments)


def agent_output(result: Any) -> Any:
    """The answer of a workflow run: the agent's last message, or the StopEvent's result."""
    response = getattr(result, "response", None)  # AgentOutput
    if response is not None and hasattr(response, "blocks"):
        return _content(response)
    value = getattr(result, "result", None)  # StopEvent
    if value is not None:
        return agent_output(value) if hasattr(value, "response") else step_output(value)
    return step_output(result)


def _content(message: Any) -> str:
    try:
        content = message.content  # a property joining the text blocks
    except Exception:
        content = None
    return content if isinstance(content, str) else ""


def model_name(model_dict: Mapping[str, Any] | None, llm: Any) -> str | None:
    name = (model_dict or {}).get("model_name")
    if isinstance(name, str) and name and name != "unknown":
        return name
    for attr in ("model", "model_name"):
        value = getattr(llm, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


def provider(model: Any) -> str | None:
    """A LlamaIndex model's provider as its package spells it (``llama_index.llms.bedrock`` ->
    ``bedrock``), else its ``provider`` field, else the package of the model's class."""
    cls = type(model)
    if cls not in _class_providers:
        _class_providers[cls] = provider_of_class(cls)
    found = _class_providers[cls]
    if found is None:
        value = getattr(model, "provider", None) if "provider" in _fields(cls) else None
        found = value if isinstance(value, str) and value else home_package(cls)
    return found


def endpoint(llm: Any) -> str | None:
    """The base URL a model client calls, where its class exposes one."""
    fields = _fields(type(llm))
    for name in _ENDPOINT_FIELDS:
        if name in fields:
            value = getattr(llm, name, None)
            if isinstance(value, str) and value:
                return value
    return None


def _fields(cls: type) -> Mapping[str, Any]:
    fields = getattr(cls, "model_fields", None)
    return fields if isinstance(fields, Mapping) else {}


def parameters(llm: Any, call_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Request parameters: the model's sampling fields, its ``additional_kwargs``, call kwargs."""
    cls = type(llm)
    names = _class_params.get(cls)
    if names is None:
        fields = _fields(cls)
        names = tuple(n for n in _PARAM_FIELDS if n in fields)
        _class_params[cls] = names
    params: dict[str, Any] = {}
    for name in names:
        value = getattr(llm, name, None)
        if value is not None:
            params[name] = value
    extra = getattr(llm, "additional_kwargs", None) if "additional_kwargs" in _fields(cls) else None
    if isinstance(extra, Mapping):
        params.update(extra)
    if call_kwargs:
        for key, value in call_kwargs.items():
            if key not in _NOT_PARAMS:
                params[key] = value
    return params


def response_messages(response: Any) -> list[Message]:
    """The output of a chat or completion response."""
    if response is None:
        return []
    chat_message = getattr(response, "message", None)
    if chat_message is not None:
        return [message(chat_message)]
    text = getattr(response, "text", None)
    return [Message("assistant", text)] if isinstance(text, str) else []


def _get(source: Any, *names: str) -> Any:
    if source is None:
        return None
    if type(source) is dict or isinstance(source, Mapping):  # raw responses are mostly dicts
        for name in names:
            value = source.get(name)
            if value is not None:
                return value
        return None
    for name in names:
        value = getattr(source, name, None)
        if value is not None:
            return value
    return None


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def usage(response: Any) -> Usage:
    """Token usage from ``raw`` (OpenAI-like, Anthropic-like, Gemini-like, Ollama-like) or
    from ``additional_kwargs`` (what several LlamaIndex integrations copy the counts into)."""
    raw = getattr(response, "raw", None)
    found = _usage_from(_get(raw, "usage", "usage_metadata"))
    if not found and raw is not None:
        found = Usage(_int(_get(raw, "prompt_eval_count")), _int(_get(raw, "eval_count")), None)
    if not found:
        found = _usage_from(getattr(response, "additional_kwargs", None))
    if not found:
        message = getattr(response, "message", None)
        found = _usage_from(getattr(message, "additional_kwargs", None))
    return found


def _usage_from(source: Any) -> Usage:
    if source is None:
        return Usage()
    inputs = _int(_get(source, "prompt_tokens", "input_tokens", "prompt_token_count"))
    cache_read = _int(_get(source, "cache_read_input_tokens"))  # Anthropic-like
    cache_creation = _int(_get(source, "cache_creation_input_tokens"))
    if cache_read is not None or cache_creation is not None:
        # Anthropic counts cached tokens apart from input_tokens; the registry counts them in.
        inputs = (inputs or 0) + (cache_read or 0) + (cache_creation or 0)
    else:  # OpenAI-like: prompt_tokens_details.cached_tokens, already part of prompt_tokens
        cache_read = _int(_get(_get(source, "prompt_tokens_details"), "cached_tokens"))
    return Usage(
        inputs,
        _int(_get(source, "completion_tokens", "output_tokens", "candidates_token_count")),
        _int(_get(source, "total_tokens", "total_token_count")),
        cache_read_tokens=cache_read,
        cache_creation_tokens=cache_creation,
    )


def response_details(response: Any) -> tuple[list[str], str | None, str | None]:
    """Finish reasons, response model and response id, where the raw response carries them."""
    raw = getattr(response, "raw", None)
    if raw is None:
        return [], None, None
    reason = _get(raw, "finish_reason", "stop_reason", "done_reason")
    if reason is None:
        choices = _get(raw, "choices")
        if isinstance(choices, Sequence) and choices:
            reason = _get(choices[0], "finish_reason")
    model = _get(raw, "model")
    ident = _get(raw, "id")
    return (
        [str(reason)] if reason is not None else [],
        model if isinstance(model, str) else None,
        ident if isinstance(ident, str) else None,
    )
