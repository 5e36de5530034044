"""LlamaIndex objects -> ragtel records: pure functions, no OpenTelemetry, no state.

Everything here reads framework objects defensively (duck typing, ``getattr`` with defaults) so
that a model or store with an unusual shape degrades to "not recorded", never to an exception in
the user's call. Nothing here serializes whole framework objects: nodes, responses and models are
reduced to the few fields a span shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ragtel.recording.records import Document, Message, PromptTemplate, RunContext, Usage

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

# ``llama_index.llms.<package>`` -> gen_ai.provider.name (well-known values where one exists).
_PROVIDERS: Final = {
    "openai": "openai",
    "openai_like": "openai",
    "azure_openai": "azure.ai.openai",
    "anthropic": "anthropic",
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "gemini": "gcp.gemini",
    "google_genai": "gcp.gen_ai",
    "vertex": "gcp.vertex_ai",
    "mistralai": "mistral_ai",
    "groq": "groq",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "perplexity": "perplexity",
    "xai": "x_ai",
    "ibm": "ibm.watsonx.ai",
}
_LLM_PACKAGE: Final = "llama_index.llms."

_class_params: dict[type, tuple[str, ...]] = {}
_class_providers: dict[type, str | None] = {}


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
    return [Message(role_of(m), _content(m)) for m in chat_messages]


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


def provider(llm: Any) -> str | None:
    """``gen_ai.provider.name`` of a LlamaIndex model, from its package or a ``provider`` field."""
    cls = type(llm)
    if cls not in _class_providers:
        found = None
        for klass in cls.__mro__:
            module = getattr(klass, "__module__", "") or ""
            if module.startswith(_LLM_PACKAGE):
                package = module[len(_LLM_PACKAGE) :].partition(".")[0]
                found = _PROVIDERS.get(package, package)
                break
        _class_providers[cls] = found
    found = _class_providers[cls]
    if found is None:
        value = getattr(llm, "provider", None) if "provider" in _fields(cls) else None
        found = value if isinstance(value, str) and value else None
    return found


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
    message = getattr(response, "message", None)
    if message is not None:
        return [Message(role_of(message), _content(message))]
    text = getattr(response, "text", None)
    return [Message("assistant", text)] if isinstance(text, str) else []


def _get(source: Any, *names: str) -> Any:
    if source is None:
        return None
    if isinstance(source, Mapping):
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
    return Usage(
        _int(_get(source, "prompt_tokens", "input_tokens", "prompt_token_count")),
        _int(_get(source, "completion_tokens", "output_tokens", "candidates_token_count")),
        _int(_get(source, "total_tokens", "total_token_count")),
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
