"""LangChain adapter: callback events -> ragtel step records -> spans.

Parents come from LangChain's own ``parent_run_id``, never from "the current span": under asyncio
and ``batch`` LangChain delivers callbacks from several threads and tasks at once, interleaved.
State is a dict keyed by run id, safe under the GIL for the single get/set/pop done per event.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from ragtel._guard import report
from ragtel.config import TraceConfig
from ragtel.integrations.langchain import translate as tr
from ragtel.recording import Recorder, Step, TracerProvider
from ragtel.recording.current import Attachments, enter_retrieval, leave_retrieval
from ragtel.recording.records import Message, PromptTemplate, RunContext
from ragtel.semconv import Operation

# LangChain's stream()/astream() start the root run before its input is known, with this
# placeholder, and give the real input with the end callback (its own tracers check the same).
_STREAM_PLACEHOLDER = {"input": ""}
# Root runs built by an agent constructor say so in their metadata; a plain LangGraph graph is an
# agent if its model ran tools (LangGraph's create_react_agent).
_AGENT_INTEGRATIONS = frozenset({"langchain_create_agent"})
_GRAPH_INTEGRATIONS = frozenset({"langgraph"})

# The run metadata key of a retriever's k (search_kwargs["k"]): ragtel.instrument() adds it to
# what vector-store retrievers report (install.py); a run's own metadata may set it too.
RETRIEVER_K_KEY = "ls_retriever_k"

_COMPOSITION_PREFIXES = (
    "RunnableSequence",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnableAssign",
    "RunnablePick",
    "RunnableEach",
)


class _Run:
    """A LangChain run being recorded. Fields most runs leave as they are are read from the class
    until a run sets its own (one run per framework step: each field set costs on all)."""

    retrieval_token: Any = None
    composition = False
    attached = False
    input_at_end = False
    graph = False
    name = ""
    # The template of the prompt step last run directly under this run: the model call that
    # follows it (prompt | model) records it too, where Phoenix looks for it.
    template: PromptTemplate | None = None

    def __init__(self, step: Step, parent: _Run | None, context: RunContext | None) -> None:
        self.step = step
        self.context = context  # for embedding calls made inside the run (TracedEmbeddings)
        if parent is None:
            self.root: _Run = self
            self.in_retrieval = False
        else:
            self.root = parent.root
            self.in_retrieval = parent.in_retrieval


class RagtelCallbackHandler(BaseCallbackHandler):
    """Records every LangChain run (chains, retrievers, prompts, models, tools) as a span.

    Pass it as a callback (``config={"callbacks": [RagtelCallbackHandler()]}``) or let
    ``ragtel.instrument()`` add it to every run in the process.
    """

    # Called in the event loop instead of a thread pool: everything here is CPU-only and short,
    # and a thread hop per event would cost more than the recording itself.
    run_inline = True
    raise_error = False
    # Each hook's body runs inside try/report (ragtel._guard): nothing raises into the chain.
    # What LangChain passes on from its callers is typed Any (a retriever's "query" may be a dict,
    # metadata any mapping): the compiled build checks declared types on entry, before the guard.

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        config: TraceConfig | None = None,
        *,
        recorder: Recorder | None = None,
    ) -> None:
        super().__init__()
        if recorder is None:
            recorder = Recorder(tracer_provider, config, framework="langchain")
        self.recorder = recorder
        self._runs: dict[UUID, _Run] = {}
        self._attachments = Attachments()

    # -- lifecycle helpers ---------------------------------------------------------------------

    def _parent(self, parent_run_id: UUID | None) -> tuple[_Run | None, Step | None]:
        if parent_run_id is None:
            return None, None
        parent = self._runs.get(parent_run_id)
        return parent, (parent.step if parent is not None else None)

    def _opened(
        self,
        run_id: UUID,
        step: Step,
        parent: _Run | None,
        attach: bool,
        context: RunContext | None = None,
    ) -> _Run:
        run = _Run(step, parent, context)
        self._runs[run_id] = run
        if attach:
            run.attached = self._attachments.maybe_attach(step, parent.step if parent else None)
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
            _leave_retrieval(run)
        run.step.fail(error)
        self._closed(run)

    # -- chains, prompts, parsers -------------------------------------------------------------

    def on_chain_start(
        self,
        serialized: Any,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: Any = None,
        metadata: Any = None,
        **kwargs: Any,
    ) -> None:
        try:
            parent, parent_step = self._parent(parent_run_id)
            name = tr.run_name(serialized, kwargs)
            run_ctx = tr.run_context(metadata, tags)
            run_type = kwargs.get("run_type")
            # LangChain's own composition steps (a sequence inside the chain, a parallel map, a
            # passthrough) run no user code: every piece of user code is a run of its own. Their
            # inputs and outputs are their children's, recorded there; and no other
            # instrumentation's span can start inside them, so they are never made current.
            composition = parent_run_id is not None and name.startswith(_COMPOSITION_PREFIXES)
            input_at_end = inputs == _STREAM_PLACEHOLDER
            integration = (metadata or {}).get("ls_integration") if parent_run_id is None else None
            if run_type == "prompt" and serialized:
                template = tr.prompt_template(serialized, inputs, metadata)
                step = self.recorder.start_prompt(name, template, parent_step, run_ctx)
                if parent is not None:
                    parent.template = template
            elif integration in _AGENT_INTEGRATIONS:
                step = self.recorder.start_agent(
                    name, None if input_at_end else inputs, parent_step, run_ctx
                )
            else:
                recorded = None if composition or input_at_end else inputs
                step = self.recorder.start_chain(name, recorded, parent_step, run_ctx)
            quiet = composition or run_type in ("prompt", "parser")
            attach = parent_run_id is not None and not quiet
            run = self._opened(run_id, step, parent, attach, run_ctx)
            if composition:
                run.composition = True
            elif input_at_end:
                run.input_at_end = True
            if parent_run_id is None:  # what a root that turns out to be an agent needs
                run.graph = integration in _GRAPH_INTEGRATIONS
                run.name = name
        except Exception as exc:
            report("RagtelCallbackHandler.on_chain_start", exc)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            run = self._closing(run_id)
            if run is None:
                return
            step = run.step
            if step.kind == "PROMPT":
                step.end_prompt(tr.prompt_value_messages(outputs))
            else:
                if run.input_at_end:
                    step.add_input(kwargs.get("inputs"))
                step.end_chain(None if run.composition else outputs)
            self._closed(run)
        except Exception as exc:
            report("RagtelCallbackHandler.on_chain_end", exc)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._fail(error, run_id)
        except Exception as exc:
            report("RagtelCallbackHandler.on_chain_error", exc)

    # -- retrievers ----------------------------------------------------------------------------

    def on_retriever_start(
        self,
        serialized: Any,
        query: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: Any = None,
        metadata: Any = None,
        **kwargs: Any,
    ) -> None:
        try:
            parent, parent_step = self._parent(parent_run_id)
            md = metadata or {}
            run_ctx = tr.run_context(metadata, tags)
            step = self.recorder.start_retrieval(
                tr.run_name(serialized, kwargs),
                query,
                parent_step,
                run_ctx,
                top_k=tr.int_or_none(md.get(RETRIEVER_K_KEY)),
                data_source=md.get("ls_vector_store_provider"),
            )
            run = self._opened(run_id, step, parent, parent_run_id is not None, run_ctx)
            run.in_retrieval = True
            run.retrieval_token = enter_retrieval(self.recorder, step, run_ctx)
        except Exception as exc:
            report("RagtelCallbackHandler.on_retriever_start", exc)

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            run = self._closing(run_id)
            if run is None:
                return
            _leave_retrieval(run)
            run.step.end_retrieval([tr.to_document(d) for d in documents])
            self._closed(run)
        except Exception as exc:
            report("RagtelCallbackHandler.on_retriever_end", exc)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._fail(error, run_id)
        except Exception as exc:
            report("RagtelCallbackHandler.on_retriever_error", exc)

    # -- models --------------------------------------------------------------------------------

    def on_chat_model_start(
        self,
        serialized: Any,
        messages: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: Any = None,
        metadata: Any = None,
        **kwargs: Any,
    ) -> None:
        try:
            converted = [tr.to_message(m) for m in (messages[0] if messages else ())]
            self._start_generation(
                serialized, converted, Operation.CHAT, run_id, parent_run_id, tags, metadata, kwargs
            )
        except Exception as exc:
            report("RagtelCallbackHandler.on_chat_model_start", exc)

    def on_llm_start(
        self,
        serialized: Any,
        prompts: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: Any = None,
        metadata: Any = None,
        **kwargs: Any,
    ) -> None:
        try:
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
        except Exception as exc:
            report("RagtelCallbackHandler.on_llm_start", exc)

    def _start_generation(
        self,
        serialized: Any,
        messages: list[Message],
        operation: str,
        run_id: UUID,
        parent_run_id: UUID | None,
        tags: Any,
        metadata: Any,
        kwargs: dict[str, Any],
    ) -> None:
        parent, parent_step = self._parent(parent_run_id)
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
        tools = tr.tool_definitions(params)
        template = None
        if parent is not None:
            template, parent.template = parent.template, None
        step = self.recorder.start_generation(
            tr.run_name(serialized, kwargs),
            parent_step,
            tr.run_context(metadata, tags),
            model=str(model) if model else None,
            provider=md.get("ls_provider"),
            params=params,
            messages=messages,
            operation=operation,
            template=template,
            tools=tools,
            endpoint=tr.endpoint(params, serialized),
        )
        self._opened(run_id, step, parent, parent_run_id is not None)
        if parent is not None and parent.root.step.kind == "AGENT":
            parent.root.step.note_provider(md.get("ls_provider"))

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            run = self._runs.get(run_id)
            if run is not None:
                run.step.first_token()
        except Exception as exc:
            report("RagtelCallbackHandler.on_llm_new_token", exc)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            run = self._closing(run_id)
            if run is None:
                return
            result = tr.generation_result(response)
            run.step.end_generation(
                result.outputs,
                usage=result.usage,
                finish_reasons=result.finish_reasons,
                response_model=result.response_model,
                response_id=result.response_id,
            )
            self._closed(run)
        except Exception as exc:
            report("RagtelCallbackHandler.on_llm_end", exc)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._fail(error, run_id)
        except Exception as exc:
            report("RagtelCallbackHandler.on_llm_error", exc)

    # -- tools ---------------------------------------------------------------------------------

    def on_tool_start(
        self,
        serialized: Any,
        input_str: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: Any = None,
        metadata: Any = None,
        inputs: Any = None,
        **kwargs: Any,
    ) -> None:
        try:
            parent, parent_step = self._parent(parent_run_id)
            call_id = kwargs.get("tool_call_id")
            run_ctx = tr.run_context(metadata, tags)
            step = self.recorder.start_tool(
                tr.run_name(serialized, kwargs),
                inputs if inputs is not None else input_str,
                parent_step,
                run_ctx,
                description=(serialized or {}).get("description"),
                call_id=str(call_id) if call_id is not None else None,
            )
            self._opened(run_id, step, parent, parent_run_id is not None, run_ctx)
            if parent is not None and parent.root.graph:
                # A LangGraph graph whose model called a tool: the run is an agent.
                parent.root.step.become_agent(parent.root.name)
        except Exception as exc:
            report("RagtelCallbackHandler.on_tool_start", exc)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            run = self._closing(run_id)
            if run is None:
                return
            run.step.end_tool(output)
            self._closed(run)
        except Exception as exc:
            report("RagtelCallbackHandler.on_tool_end", exc)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._fail(error, run_id)
        except Exception as exc:
            report("RagtelCallbackHandler.on_tool_error", exc)

    def open_run(self, run_id: UUID | None) -> tuple[Step, RunContext | None, bool] | None:
        """The open step of ``run_id``, its run context, and whether it runs inside a retrieval
        (for calls made inside the run that have no callback of their own)."""
        run = self._runs.get(run_id) if run_id is not None else None
        if run is None or run.step.ended:
            return None
        return run.step, run.context, run.in_retrieval

    @property
    def open_runs(self) -> int:
        """Runs started and not yet ended (0 when idle; a leak shows here)."""
        return len(self._runs)


def _leave_retrieval(run: _Run) -> None:
    token, run.retrieval_token = run.retrieval_token, None
    if token is not None:
        leave_retrieval(token)
