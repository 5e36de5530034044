"""``_Tracker``: the adapter's state, shared by the span handler and the event handler.

Dispatcher spans (``enter``/``exit``/``drop``) open and end CHAIN, RETRIEVER and TOOL steps; the
events (``events``) make prompts, generations and embeddings; streams (``streams``) keep steps open
until what they returned is consumed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from llama_index.core.base.response.schema import StreamingResponse
from llama_index.core.chat_engine.types import StreamingAgentChatResponse
from llama_index.core.instrumentation.events.embedding import (
    EmbeddingEndEvent,
    EmbeddingStartEvent,
)
from llama_index.core.instrumentation.events.exception import ExceptionEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatInProgressEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionInProgressEvent,
    LLMCompletionStartEvent,
    LLMPredictStartEvent,
)

from ragtel.integrations.llamaindex import translate as tr
from ragtel.integrations.llamaindex.classify import (
    _AGENT,
    _CHAIN,
    _EMBED_ABATCH,
    _EMBED_BATCH,
    _RETRIEVER,
    _SPAN_DRIVEN,
    _STREAMING_KINDS,
    _TOOL,
    _UNSCOPED,
    _UUID_SUFFIX,
    _WORKFLOW,
    _classify,
)
from ragtel.integrations.llamaindex.events import _Events
from ragtel.integrations.llamaindex.streams import _GENERATORS, _UNSET, _Lazy, _Reaper, _Streams
from ragtel.integrations.llamaindex.tree import _ROOT, _Node, _Open
from ragtel.recording import Recorder, Step
from ragtel.recording.current import attach, detach
from ragtel.recording.records import INDEX_BUILD

_RUN_ID_TAG = "llamaindex.run_id"
_STREAMED = (StreamingAgentChatResponse, StreamingResponse)


class _Tracker(_Events, _Streams):
    """The adapter's state and logic, shared by the span handler and the event handler.

    Dispatcher spans are tracked in a dict keyed by LlamaIndex's span id; a span ragtel has no use
    for maps to its parent's node, so its children find their ragtel parent in one lookup.
    Generations are tracked by the id of the call that started them, which outlives the call when
    it streams.
    """

    def __init__(self, recorder: Recorder, stream_timeout: float | None) -> None:
        self.recorder = recorder
        self.nodes: dict[str, _Node] = {}
        self.generations: dict[str, _Open] = {}
        self.lazies: dict[int, _Lazy] = {}  # by id() of the generator's frame
        # Workflow steps carry their run's id in their tags: the run they belong to, should the
        # dispatcher report one without its parent.
        self.workflow_runs: dict[str, _Node] = {}
        # The ToolCall event a workflow step (an agent's call_tool) is running, by its span id:
        # the tool called inside it answers that call (id, and arguments as the model gave them).
        self.tool_calls: dict[str, Any] = {}
        self._kinds: dict[tuple[type, str], str | None] = {}
        self._lock = threading.RLock()  # a GC finalizer can run while this thread holds it
        self._reaper = (
            _Reaper(self._expire, stream_timeout, self._waiting) if stream_timeout else None
        )
        self._events: dict[type, Callable[[Any], None]] = {
            LLMPredictStartEvent: self._predict_start,
            LLMChatStartEvent: self._chat_start,
            LLMCompletionStartEvent: self._completion_start,
            LLMChatInProgressEvent: self._generation_progress,
            LLMCompletionInProgressEvent: self._generation_progress,
            LLMChatEndEvent: self._generation_end,
            LLMCompletionEndEvent: self._generation_end,
            ExceptionEvent: self._exception,
            EmbeddingStartEvent: self._embedding_start,
            EmbeddingEndEvent: self._embedding_end,
        }

    # -- dispatcher spans -------------------------------------------------------------------------

    def enter(
        self,
        id_: str,
        bound_args: Any,
        instance: Any,
        parent_id: str | None,
        tags: Mapping[str, Any] | None,
    ) -> None:
        parent = self.nodes.get(parent_id) if parent_id is not None else None
        if tags and self.workflow_runs:
            run_id = tags.get(_RUN_ID_TAG)
            if run_id is not None:
                if parent is None:
                    parent = self.workflow_runs.get(run_id)
                elif parent.kind in _UNSCOPED:
                    self.workflow_runs.setdefault(run_id, parent)
        elif tags and parent is not None and parent.kind in _UNSCOPED:
            run_id = tags.get(_RUN_ID_TAG)
            if run_id is not None:
                self.workflow_runs[run_id] = parent
        kind = None
        method = ""
        if instance is not None and len(id_) > _UUID_SUFFIX:
            prefix = id_[:-_UUID_SUFFIX]
            method = prefix[prefix.rfind(".") + 1 :]
            key = (type(instance), method)
            kind = self._kinds.get(key, _UNSET)
            if kind is _UNSET:
                kind = self._kinds[key] = _classify(type(instance), method)
        lazy = None
        if self.lazies and (parent is None or kind is not None):
            lazy = self._running_lazy(parent.owner if parent is not None else None)
        if instance is None and bound_args is not None:  # a workflow step: is it a tool call?
            event = bound_args.arguments.get("ev")
            if event is not None and getattr(event, "tool_id", None) is not None:
                self.tool_calls[id_] = event
        if kind is None and lazy is None:
            if parent is not None:
                self.nodes[id_] = parent  # transparent: children find the parent's step
            elif self.lazies:
                self.nodes[id_] = _ROOT  # spare its children the stack walk
            return
        node = _Node(id_, parent, kind, instance, bound_args.arguments)  # type: ignore[arg-type]
        if lazy is not None:  # called from inside a generator a step returned: its child
            node.owner = lazy.owner
            node.lazy = lazy
        self.nodes[id_] = node
        if kind in _SPAN_DRIVEN:
            call = self.tool_calls.get(parent_id) if self.tool_calls and parent_id else None
            self._open_step(node, method, tags, call=call)
        elif kind is _EMBED_BATCH or kind is _EMBED_ABATCH:
            texts = node.arguments.get("texts")
            size = getattr(instance, "embed_batch_size", None) or 1
            if isinstance(texts, list) and len(texts) > size:
                self._open_step(node, method, tags, _CHAIN)

    def exit(self, id_: str, result: Any) -> None:
        if self.tool_calls:
            self.tool_calls.pop(id_, None)
        node = self.nodes.pop(id_, None)
        if node is None:
            return
        lazy_result = type(result) in _GENERATORS
        if node.id != id_:  # a transparent span: only a lazy result concerns ragtel
            if lazy_result and node.owner is not None and node.kind not in _STREAMING_KINDS:
                self._watch_lazy(result, node.owner)
            return
        self._detach_all(node)
        if node.prompt is not None:
            node.prompt.end_prompt(())
            node.prompt = None
        if node.embeds:
            for step in node.embeds:
                step.end_embedding(())
        generation = self.generations.get(id_)
        if generation is not None:
            self._outlived(id_, generation, result)
            if lazy_result:  # a wrapper may call the model again from inside the stream
                self._watch_lazy(result, generation, hold=False)
        elif lazy_result and node.owner is not None and node.kind not in _STREAMING_KINDS:
            self._watch_lazy(result, node.owner)
        if node.lazy is not None:
            self._lazy_done(node.lazy)
        if node.kind in _UNSCOPED:
            self._forget_run(node)
        op = node.open
        if op is not None:
            outcome = _outcome(op.kind, result)  # not the result itself: it may hold the stream
            with self._lock:
                if op.pending > 0:  # a stream below is still running: end with it
                    op.deferred = True
                    op.result = outcome
                    return
            self._finish(op, outcome, op.output)

    def drop(self, id_: str, error: BaseException | None) -> None:
        if self.tool_calls:
            self.tool_calls.pop(id_, None)
        node = self.nodes.pop(id_, None)
        if node is None or node.id != id_:
            return
        if node.kind in _UNSCOPED:
            self._forget_run(node)
        self._detach_all(node)
        failure = error if error is not None else RuntimeError("LlamaIndex dropped the span")
        if node.prompt is not None:
            node.prompt.fail(failure)
            node.prompt = None
        if node.embeds:
            for step in node.embeds:
                step.fail(failure)
        generation = self.generations.pop(id_, None)
        if generation is not None:
            self._end_generation(generation, None, failure)
        if node.lazy is not None:
            self._lazy_done(node.lazy)
        if node.open is not None:
            node.open.step.fail(failure)

    def _open_step(
        self,
        node: _Node,
        method: str,
        tags: Mapping[str, Any] | None,
        kind: str | None = None,
        call: Any = None,
    ) -> None:
        kind = kind or node.kind
        instance = node.instance
        owner = node.owner
        if owner is not None and owner.instance is instance and owner.kind == kind:
            return  # a wrapper call of the same step (tool __call__ -> call)
        parent = owner.step if owner is not None else None
        run = tr.run_context(tags)
        name = f"{type(instance).__name__}.{method.lstrip('_')}"
        rec = self.recorder
        args = node.arguments
        if kind is _RETRIEVER:
            step = rec.start_retrieval(
                type(instance).__name__,
                tr.query_text(tr.first_argument(args)),
                parent,
                run,
                top_k=tr.retriever_top_k(instance),
                data_source=tr.retriever_data_source(instance),
            )
        elif kind is _TOOL:
            meta = getattr(instance, "metadata", None)
            call_id = getattr(call, "tool_id", None)
            step = rec.start_tool(
                getattr(meta, "name", None) or type(instance).__name__,
                call.tool_kwargs if call is not None else tr.tool_arguments(args),
                parent,
                run,
                description=getattr(meta, "description", None),
                call_id=str(call_id) if call_id is not None else None,
            )
        elif kind is _AGENT:
            agent_name = getattr(instance, "name", None) or type(instance).__name__
            llm = getattr(instance, "llm", None)
            step = rec.start_agent(
                str(agent_name),
                tr.agent_input(args),
                parent,
                run,
                provider=tr.provider(llm) if llm is not None else None,
            )
        elif kind is _WORKFLOW:
            step = rec.start_chain(name, tr.agent_input(args), parent, run)
        elif node.kind is _EMBED_BATCH or node.kind is _EMBED_ABATCH:
            # A batch of texts embedded outside any query is an index build: named so at the root.
            step = rec.start_chain(INDEX_BUILD if parent is None else name, None, parent, run)
        else:
            step = rec.start_chain(name, tr.step_input(args), parent, run)
        op = _Open(step, owner, kind, instance)
        node.open = node.owner = op
        if kind not in _UNSCOPED:
            self._attach(node, op)

    def _finish(
        self,
        op: _Open,
        outcome: Any,
        output: str | None = None,
        error: BaseException | None = None,
    ) -> None:
        step = op.step
        if error is not None:
            step.fail(error)
        elif op.kind is _RETRIEVER:
            step.end_retrieval(outcome or ())
        elif op.kind is _TOOL:
            step.end_tool(outcome)
        else:
            step.end_chain(outcome if outcome is not None else output)

    def _forget_run(self, node: _Node) -> None:
        if self.workflow_runs:
            for run_id in [k for k, v in self.workflow_runs.items() if v is node]:
                del self.workflow_runs[run_id]

    # -- context -----------------------------------------------------------------------------------

    def _attach(self, node: _Node, op: _Open | Step) -> None:
        token = attach(op if isinstance(op, Step) else op.step)
        if token is None:
            return
        node.tokens.append((token, op))

    def _detach_all(self, node: _Node) -> None:
        tokens = node.tokens
        while tokens:
            detach(tokens.pop()[0])

    def _detach_top(self, node: _Node | None, op: _Open | Step) -> None:
        if node is not None and node.tokens and node.tokens[-1][1] is op:
            detach(node.tokens.pop()[0])

    # -- shutdown ----------------------------------------------------------------------------------

    def close(self) -> None:
        """End everything still open (the handler is being removed)."""
        if self._reaper is not None:
            self._reaper.stop()
        for id_ in list(self.generations):
            self._collected(id_)
        for lazy in list(self.lazies.values()):
            if lazy.finalizer is not None:
                lazy.finalizer.detach()
            self._lazy_done(lazy)
        self.lazies.clear()
        reason = RuntimeError("ragtel's LlamaIndex instrumentation was removed during the call")
        for id_, node in list(self.nodes.items()):
            if node.id != id_:
                continue
            # Attached in the running call's context, which only that call could detach: a call
            # in flight while the handler is removed keeps its (now ended) span current.
            node.tokens.clear()
            if node.prompt is not None:
                node.prompt.fail(reason)
            for step in node.embeds or ():
                step.fail(reason)
            if node.open is not None:
                node.open.step.fail(reason)
        self.nodes.clear()

    @property
    def open_count(self) -> int:
        own = sum(1 for id_, node in list(self.nodes.items()) if node.id == id_)
        waiting = sum(1 for lazy in list(self.lazies.values()) if not lazy.released)
        return own + len(self.generations) + waiting


def _outcome(kind: str, result: Any) -> Any:
    """What a step's span records of its call's result."""
    if kind is _RETRIEVER:
        return tr.documents(result if isinstance(result, list) else None)
    if kind in _UNSCOPED:
        return tr.agent_output(result)
    if isinstance(result, _STREAMED):
        # Filled in as the stream is consumed (by the caller or a writer thread): the answer is
        # the generation's output, recorded when it ends, not what the object holds right now.
        return None
    return tr.step_output(result)
