"""LangChain adapter: callback events -> ragtel step records -> spans.

Parents come from LangChain's own ``parent_run_id``, never from "the current span": under asyncio
and ``batch`` LangChain delivers callbacks from several threads and tasks at once, interleaved.
State is a dict keyed by run id, safe under the GIL for the single get/set/pop done per event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import trace
from opentelemetry.context import Context

from ragtel._defaults import default_recorder
from ragtel._guard import guarded
from ragtel.config import TraceConfig
from ragtel.integrations._context import Attachments
from ragtel.recorder import Recorder, Step
from ragtel.records import Document, Message, PromptTemplate, RunContext, Usage
from ragtel.semconv import Operation

_COMPOSITION_PREFIXES = (
    "RunnableSequence",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnableAssign",
    "RunnablePick",
    "RunnableEach",
)
_SCORE_KEYS = ("score", "relevance_score", "similarity_score", "_score", "distance")
_FRAMEWORK_METADATA_PREFIXES = ("ls_", "lc_", "langgraph_", "checkpoint_")
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

# The retriever step running in this context, so that TracedEmbeddings can parent its span under
# it: the embedding call has no callback of its own and receives no run id.
active_retrieval: ContextVar[tuple[Recorder, Step] | None] = ContextVar(
    "ragtel_active_retrieval", default=None
)


class _Run:
    __slots__ = ("_context", "attached", "composition", "retrieval_token", "step")

    def __init__(self, step: Step) -> None:
        self.step = step
        self._context: Context | None = None
        self.retrieval_token: Any = None
        self.composition = False
        self.attached = False

    def context(self) -> Context:
        if self._context is None:
            self._context = trace.set_span_in_context(self.step.span)
        return self._context


class RagtelCallbackHandler(BaseCallbackHandler):
    """Records every LangChain run (chains, retrievers, prompts, models, tools) as a span.

    Pass it as a callback (``config={"callbacks": [RagtelCallbackHandler()]}``) or let
    ``ragtel.instrument()`` add it to every run in the process.
    """

    # Called in the event loop instead of a thread pool: everything here is CPU-only and short,
    # and a thread hop per event would cost more than the recording itself.
    run_inline = True
    raise_error = False

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        config: TraceConfig | None = None,
        *,
        recorder: Recorder | None = None,
    ) -> None:
        super().__init__()
        if recorder is None:
            recorder = default_recorder("langchain", tracer_provider, config)
        self.recorder = recorder
        self._runs: dict[UUID, _Run] = {}
        self._attachments = Attachments()

    # -- lifecycle helpers ---------------------------------------------------------------------

    def _parent(self, parent_run_id: UUID | None) -> tuple[_Run | None, Context | None]:
        if parent_run_id is None:
            return None, None
        parent = self._runs.get(parent_run_id)
        return parent, (parent.context() if parent is not None else None)

    def _opened(self, run_id: UUID, step: Step, parent: _Run | None, attach: bool) -> _Run:
        run = _Run(step)
        self._runs[run_id] = run
        if attach:
            # The step's context is built once: for attaching and for parenting its children.
            run.attached = self._attachments.maybe_attach(
                step, parent.step if parent else None, run.context
            )
        return run

    def _closing(self, run_id: UUID) -> _Run | None:
        return self._runs.pop(run_id, None)

    def _closed(self, run: _Run) -> None:
        if run.attached:
            self._attachments.release(run.step)

    def _fail(self, error: BaseException, run_id: UUID) -> None:
        run = self._closing(run_id)
        if run is None:
            return
        if run.retrieval_token is not None:
            _reset_active_retrieval(run)
        run.step.fail(error)
        self._closed(run)

    # -- chains, prompts, parsers -------------------------------------------------------------

    @guarded
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        parent, ctx = self._parent(parent_run_id)
        name = _run_name(serialized, kwargs)
        run_ctx = _run_context(metadata, tags)
        run_type = kwargs.get("run_type")
        # LangChain's own composition steps (a sequence inside the chain, a parallel map, a
        # passthrough) run no user code: every piece of user code is a run of its own. Their
        # inputs and outputs are their children's, recorded there; and no other
        # instrumentation's span can start inside them, so they are never made current.
        composition = parent_run_id is not None and name.startswith(_COMPOSITION_PREFIXES)
        if run_type == "prompt" and serialized:
            template = _prompt_template(serialized, inputs)
            step = self.recorder.start_prompt(name, template, ctx, run_ctx)
        else:
            step = self.recorder.start_chain(name, None if composition else inputs, ctx, run_ctx)
        quiet = composition or run_type in ("prompt", "parser")
        attach = parent_run_id is not None and not quiet
        run = self._opened(run_id, step, parent, attach)
        run.composition = composition

    @guarded
    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._closing(run_id)
        if run is None:
            return
        step = run.step
        if step.kind == "PROMPT":
            step.end_prompt(_prompt_value_messages(outputs))
        else:
            step.end_chain(None if run.composition else outputs)
        self._closed(run)

    @guarded
    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(error, run_id)

    # -- retrievers ----------------------------------------------------------------------------

    @guarded
    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        parent, ctx = self._parent(parent_run_id)
        md = metadata or {}
        step = self.recorder.start_retrieval(
            _run_name(serialized, kwargs),
            query,
            ctx,
            _run_context(metadata, tags),
            top_k=_int_or_none(md.get("ls_retriever_k") or md.get("k")),
            data_source=md.get("ls_vector_store_provider"),
        )
        run = self._opened(run_id, step, parent, parent_run_id is not None)
        run.retrieval_token = active_retrieval.set((self.recorder, step))

    @guarded
    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        run = self._closing(run_id)
        if run is None:
            return
        _reset_active_retrieval(run)
        run.step.end_retrieval([_document(d) for d in documents])
        self._closed(run)

    @guarded
    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(error, run_id)

    # -- models --------------------------------------------------------------------------------

    @guarded
    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        converted = [_message(m) for m in (messages[0] if messages else ())]
        self._start_generation(
            serialized, converted, Operation.CHAT, run_id, parent_run_id, tags, metadata, kwargs
        )

    @guarded
    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        converted = [Message("user", p) for p in prompts[:1]]
        self._start_generation(
            serialized,
            converted,
            Operation.TEXT_COMPLETION,
            run_id,
            parent_run_id,
            tags,
            metadata,
            kwargs,
        )

    def _start_generation(
        self,
        serialized: dict[str, Any] | None,
        messages: list[Message],
        operation: str,
        run_id: UUID,
        parent_run_id: UUID | None,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        kwargs: dict[str, Any],
    ) -> None:
        parent, ctx = self._parent(parent_run_id)
        md = metadata or {}
        params: dict[str, Any] = dict(kwargs.get("invocation_params") or {})
        model = (
            md.get("ls_model_name")
            or params.get("model")
            or params.get("model_name")
            or params.get("model_id")
            or params.get("_type")
        )
        params.pop("_type", None)
        step = self.recorder.start_generation(
            _run_name(serialized, kwargs),
            ctx,
            _run_context(metadata, tags),
            model=str(model) if model else None,
            provider=md.get("ls_provider"),
            params=params,
            messages=messages,
            operation=operation,
        )
        self._opened(run_id, step, parent, parent_run_id is not None)

    @guarded
    def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._runs.get(run_id)
        if run is not None:
            run.step.first_token()

    @guarded
    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._closing(run_id)
        if run is None:
            return
        outputs, usage, finish, response_model = _generation_result(response)
        run.step.end_generation(
            outputs, usage=usage, finish_reasons=finish, response_model=response_model
        )
        self._closed(run)

    @guarded
    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(error, run_id)

    # -- tools ---------------------------------------------------------------------------------

    @guarded
    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        parent, ctx = self._parent(parent_run_id)
        step = self.recorder.start_tool(
            _run_name(serialized, kwargs),
            inputs if inputs is not None else input_str,
            ctx,
            _run_context(metadata, tags),
            description=(serialized or {}).get("description"),
        )
        self._opened(run_id, step, parent, parent_run_id is not None)

    @guarded
    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._closing(run_id)
        if run is None:
            return
        run.step.end_tool(output)
        self._closed(run)

    @guarded
    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(error, run_id)

    @property
    def open_runs(self) -> int:
        """Runs started and not yet ended (0 when idle; a leak shows here)."""
        return len(self._runs)


# -- translation: LangChain objects -> ragtel records (pure functions) ---------------------------


def _reset_active_retrieval(run: _Run) -> None:
    token, run.retrieval_token = run.retrieval_token, None
    if token is None:
        return
    # Ended in another context: the stale value there names an ended step and is ignored.
    with suppress(ValueError):
        active_retrieval.reset(token)


def _run_name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> str:
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


def _run_context(
    metadata: Mapping[str, Any] | None, tags: Sequence[str] | None
) -> RunContext | None:
    # LangChain tags and metadata mix the user's own with its bookkeeping (step positions,
    # ls_* model facts, lc_versions): only the user's reach the span.
    user_tags = [t for t in tags or () if not t.startswith(("seq:step:", "map:key:"))]
    user_metadata = (
        {k: v for k, v in metadata.items() if not k.startswith(_FRAMEWORK_METADATA_PREFIXES)}
        if metadata
        else None
    )
    return RunContext.from_metadata(user_metadata, user_tags)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _document(doc: Any) -> Document:
    metadata = getattr(doc, "metadata", None) or {}
    score = None
    for key in _SCORE_KEYS:
        if key in metadata:
            score = metadata[key]
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


def _message(message: Any) -> Message:
    kind = getattr(message, "type", "user")
    role = getattr(message, "role", None) if kind == "chat" else _ROLES.get(kind, kind)
    return Message(str(role or kind), _text_of(getattr(message, "content", message)))


def _prompt_value_messages(value: Any) -> list[Message]:
    messages = getattr(value, "messages", None)
    if messages is not None:
        return [_message(m) for m in messages]
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return [Message("user", text)]
    if isinstance(value, str):
        return [Message("user", value)]
    return []


def _prompt_template(serialized: Mapping[str, Any], inputs: Any) -> PromptTemplate:
    kwargs = serialized.get("kwargs") or {}
    messages: list[tuple[str, str]] = []
    for item in kwargs.get("messages") or ():
        messages.append(_template_message(item))
    if not messages and isinstance(kwargs.get("template"), str):
        messages.append(("user", kwargs["template"]))
    variables: dict[str, Any] = {}
    partials = kwargs.get("partial_variables")
    if isinstance(partials, Mapping):
        variables.update(partials)
    if isinstance(inputs, Mapping):
        variables.update(inputs)
    return PromptTemplate(messages, variables)


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


def _generation_result(response: Any) -> tuple[list[Message], Usage, list[str], str | None]:
    generations = getattr(response, "generations", None) or [[]]
    first = generations[0] if generations else []
    outputs: list[Message] = []
    finish: list[str] = []
    usage = Usage()
    response_model = None
    for gen in first:
        message = getattr(gen, "message", None)
        info = getattr(gen, "generation_info", None) or {}
        if message is not None:
            outputs.append(_message(message))
            meta = getattr(message, "response_metadata", None) or {}
            reason = (
                meta.get("finish_reason") or meta.get("stop_reason") or info.get("finish_reason")
            )
            response_model = response_model or meta.get("model_name") or meta.get("model")
            um = getattr(message, "usage_metadata", None)
            if um:
                usage = Usage(
                    um.get("input_tokens"), um.get("output_tokens"), um.get("total_tokens")
                )
        else:
            outputs.append(Message("assistant", getattr(gen, "text", "")))
            reason = info.get("finish_reason")
        if reason:
            finish.append(str(reason))
    if not usage:
        llm_output = getattr(response, "llm_output", None) or {}
        raw = llm_output.get("token_usage") or llm_output.get("usage") or {}
        if isinstance(raw, Mapping):
            usage = Usage(
                _int_or_none(raw.get("prompt_tokens", raw.get("input_tokens"))),
                _int_or_none(raw.get("completion_tokens", raw.get("output_tokens"))),
                _int_or_none(raw.get("total_tokens")),
            )
        response_model = response_model or llm_output.get("model_name")
    return outputs, usage, finish, response_model
