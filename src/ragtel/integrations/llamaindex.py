"""LlamaIndex adapter: dispatcher spans and instrumentation events -> ragtel step records -> spans.

LlamaIndex reports every decorated call to the span handlers of its root dispatcher (enter, exit,
drop, with the call's id and its parent's id) and emits typed events inside those calls. ragtel
listens to both:

- query engines, synthesizers, chat engines and node postprocessors become CHAIN spans, retrievers
  RETRIEVER spans and tools TOOL spans, from the dispatcher span itself (arguments at enter, result
  at exit);
- ``LLMPredictStartEvent`` opens a PROMPT span with the template actually used; it ends, with the
  rendered messages, when the model call it leads to starts;
- ``LLMChat*``/``LLMCompletion*`` events make one LLM span per generation: a model call made inside
  another call of the same generation (``achat`` -> ``chat`` -> ``complete`` in CustomLLM-based
  models) is part of the outer span, not a new one;
- ``EmbeddingStart``/``EmbeddingEnd`` events make one EMBEDDING span per request to the model (a
  ``get_text_embedding_batch`` call that takes several requests is grouped under a CHAIN span).

Every other dispatcher span is transparent: its children hang under the nearest ragtel span.
Parents come from LlamaIndex's own ``parent_id``, never from "the current span". LlamaIndex calls
the handler inline, in the caller's context, before and after the decorated function, so a step's
span is made current (``context.attach``) for the duration of the call and detached when it returns:
spans of other instrumentations (HTTP clients, vector database drivers) nest under the step.

A streaming call returns before the stream is consumed. Its LLM span stays open until the stream
ends, and so does every ragtel span above it whose call already returned (the query, the
synthesizer): they end together when the last token arrives, when the stream is closed or garbage
collected, or after ``stream_timeout`` seconds, whichever comes first. A streaming synthesizer only
calls the model once its generator is iterated, outside any LlamaIndex span (no parent id): such a
call is recognised by the generator's frame on the stack, and parented under the step that
returned the generator.

Compared with the LangChain adapter on the same pipeline, spans have the same names, kinds and
keys, except that LlamaIndex retrievers also give each document's score and the retriever's top_k
(LangChain's vector store retriever reports neither). Agent workflows (``Workflow.run``) get no
span of their own: ``run`` returns a future whose end is reported from another context.
"""

from __future__ import annotations

import heapq
import sys
import threading
import time
import types
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any, Final

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.chat_engine.types import BaseChatEngine
from llama_index.core.instrumentation import Dispatcher, get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
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
from llama_index.core.instrumentation.span import BaseSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.response_synthesizers.base import BaseSynthesizer
from llama_index.core.tools.types import BaseTool
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from pydantic import PrivateAttr

from ragtel._defaults import default_recorder
from ragtel._guard import call_quietly, guarded
from ragtel.config import TraceConfig
from ragtel.integrations import llamaindex_translate as tr
from ragtel.recorder import Recorder, Step
from ragtel.records import Message
from ragtel.semconv import EmbeddingRole, Operation

try:  # the runtime context behind context.attach/detach; detach() logs loudly on misuse
    from opentelemetry.context import _RUNTIME_CONTEXT as _RUNTIME
except ImportError:  # pragma: no cover - older or future API layouts
    _RUNTIME = None

__all__ = [
    "DEFAULT_STREAM_TIMEOUT",
    "RagtelEventHandler",
    "RagtelSpanHandler",
    "StreamTimeout",
    "instrument",
    "uninstrument",
]

DEFAULT_STREAM_TIMEOUT: Final = 600.0
"""Seconds a stream may stay unconsumed before its spans are ended as timed out."""

# What a dispatcher span is to ragtel, decided once per (class, method).
_CHAIN: Final = "chain"
_RETRIEVER: Final = "retriever"
_TOOL: Final = "tool"
_LLM: Final = "llm"  # chat/complete and their variants: events make the generation
_PREDICT: Final = "predict"  # predict/stream: events make the prompt
_EMBED_QUERY: Final = "embed_query"
_EMBED_TEXT: Final = "embed_text"
_EMBED_BATCH: Final = "embed_batch"
_EMBED_ABATCH: Final = "embed_abatch"
_SPAN_DRIVEN: Final = frozenset({_CHAIN, _RETRIEVER, _TOOL})
_STREAMING_KINDS: Final = frozenset(
    {_LLM, _PREDICT, _EMBED_QUERY, _EMBED_TEXT, _EMBED_BATCH, _EMBED_ABATCH}
)
_GENERATORS: Final = frozenset({types.GeneratorType, types.AsyncGeneratorType})
_UNSET: Final = object()

_UUID_SUFFIX: Final = 37  # "-" + str(uuid4()): the dispatcher's span ids end with it

_LLM_CALLS: Final = frozenset(
    {
        "chat",
        "achat",
        "stream_chat",
        "astream_chat",
        "complete",
        "acomplete",
        "stream_complete",
        "astream_complete",
    }
)
_PREDICTS: Final = frozenset({"predict", "apredict", "stream", "astream"})
_EMBEDDINGS: Final = {
    "get_query_embedding": _EMBED_QUERY,
    "aget_query_embedding": _EMBED_QUERY,
    "get_text_embedding": _EMBED_TEXT,
    "aget_text_embedding": _EMBED_TEXT,
    "get_text_embedding_batch": _EMBED_BATCH,
    "aget_text_embedding_batch": _EMBED_ABATCH,
}
_STEP_METHODS: Final[tuple[tuple[type, frozenset[str], str], ...]] = (
    (BaseRetriever, frozenset({"retrieve", "aretrieve"}), _RETRIEVER),
    (BaseQueryEngine, frozenset({"query", "aquery"}), _CHAIN),
    (BaseSynthesizer, frozenset({"synthesize", "asynthesize"}), _CHAIN),
    (BaseChatEngine, frozenset({"chat", "achat", "stream_chat", "astream_chat"}), _CHAIN),
    (BaseNodePostprocessor, frozenset({"_postprocess_nodes", "_apostprocess_nodes"}), _CHAIN),
    (BaseTool, frozenset({"__call__", "call", "acall"}), _TOOL),
)


def _classify(cls: type, method: str) -> str | None:
    if issubclass(cls, BaseLLM):
        if method in _LLM_CALLS:
            return _LLM
        return _PREDICT if method in _PREDICTS else None
    if issubclass(cls, BaseEmbedding):
        return _EMBEDDINGS.get(method)
    for base, methods, kind in _STEP_METHODS:
        if method in methods and issubclass(cls, base):
            return kind
    return None


class _Open:
    """A ragtel step opened for a LlamaIndex call, and what ending it depends on."""

    __slots__ = (
        "context",
        "deferred",
        "finalizer",
        "instance",
        "kind",
        "last",
        "node",
        "output",
        "parent",
        "pending",
        "result",
        "step",
    )

    def __init__(self, step: Step, parent: _Open | None, kind: str, instance: Any) -> None:
        self.step = step
        self.parent = parent
        self.kind = kind
        self.instance = instance
        self.context: Context = trace.set_span_in_context(step.span)
        self.pending = 0  # generations still streaming somewhere below this step
        self.deferred = False  # the call returned; the step ends when ``pending`` reaches 0
        self.result: Any = None
        self.last: Any = None  # the latest streamed response (a generation's partial output)
        self.output: str | None = None  # the text of the latest generation that ended below
        self.finalizer: weakref.finalize | None = None
        self.node: _Node | None = None


class _Lazy:
    """A generator a step returned, whose body runs later, in the consumer's context.

    A streaming synthesizer returns one: the model is only called when the caller iterates it,
    outside any LlamaIndex span. Calls made while its frame is on the stack belong to ``owner``,
    and ``owner`` (with the steps above it) stays open until the first of them returns, the
    generator is garbage collected, or the stream timeout passes.
    """

    __slots__ = ("finalizer", "key", "owner", "ref", "released")

    def __init__(self, owner: _Open, generator: Any, key: int) -> None:
        self.owner = owner
        self.ref = weakref.ref(generator)
        self.key = key
        self.released = False
        self.finalizer: weakref.finalize | None = None

    def running_frame(self) -> Any:
        generator = self.ref()
        return _frame_of(generator) if generator is not None else None


def _frame_of(generator: Any) -> Any:
    frame = getattr(generator, "gi_frame", _UNSET)
    return frame if frame is not _UNSET else getattr(generator, "ag_frame", None)


class _Node:
    """A live dispatcher span with something of its own (a step, a model call, a prompt)."""

    __slots__ = (
        "arguments",
        "embed_count",
        "embeds",
        "id",
        "instance",
        "kind",
        "lazy",
        "open",
        "owner",
        "parent",
        "prompt",
        "tokens",
    )

    def __init__(
        self,
        id_: str,
        parent: _Node | None,
        kind: str,
        instance: Any,
        arguments: Mapping[str, Any],
    ) -> None:
        self.id = id_
        self.parent = parent
        self.owner: _Open | None = parent.owner if parent is not None else None
        self.kind = kind
        self.instance = instance
        self.arguments = arguments
        self.open: _Open | None = None
        self.prompt: Step | None = None
        self.embeds: deque[Step] | None = None
        self.embed_count = 0
        self.lazy: _Lazy | None = None
        self.tokens: list[tuple[object, _Open | Step]] = []


_ROOT: Final = _Node("", None, None, None, {})  # type: ignore[arg-type]
"""Stands for an ignored top-level call, so its children skip the search for a running stream."""


class _Tracker:
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
        kind = None
        method = ""
        if instance is not None and len(id_) > _UUID_SUFFIX:
            prefix = id_[:-_UUID_SUFFIX]
            method = prefix[prefix.rfind(".") + 1 :]
            key = (type(instance), method)
            kind = self._kinds.get(key, _UNSET)  # type: ignore[arg-type]
            if kind is _UNSET:
                kind = self._kinds[key] = _classify(type(instance), method)
        lazy = None
        if self.lazies and (parent is None or kind is not None):
            lazy = self._running_lazy(parent.owner if parent is not None else None)
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
            self._open_step(node, method, tags)
        elif kind is _EMBED_BATCH or kind is _EMBED_ABATCH:
            texts = node.arguments.get("texts")
            size = getattr(instance, "embed_batch_size", None) or 1
            if isinstance(texts, list) and len(texts) > size:
                self._open_step(node, method, tags, _CHAIN)

    def exit(self, id_: str, result: Any) -> None:
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
        op = node.open
        if op is not None:
            outcome = _outcome(op.kind, result)  # not the result itself: it may hold the stream
            with self._lock:
                if op.pending > 0:  # a stream below is still running: end with it
                    op.deferred = True
                    op.result = outcome
                    return
            self._finish(op, outcome)

    def drop(self, id_: str, error: BaseException | None) -> None:
        node = self.nodes.pop(id_, None)
        if node is None or node.id != id_:
            return
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
    ) -> None:
        kind = kind or node.kind
        instance = node.instance
        owner = node.owner
        if owner is not None and owner.instance is instance and owner.kind == kind:
            return  # a wrapper call of the same step (tool __call__ -> call)
        parent = owner.context if owner is not None else None
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
            step = rec.start_tool(
                getattr(meta, "name", None) or type(instance).__name__,
                dict(args) if args else None,
                parent,
                run,
                description=getattr(meta, "description", None),
            )
        elif node.kind is _EMBED_BATCH or node.kind is _EMBED_ABATCH:
            step = rec.start_chain(name, None, parent, run)
        else:
            step = rec.start_chain(name, tr.step_input(args), parent, run)
        op = _Open(step, owner, kind, instance)
        node.open = node.owner = op
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

    # -- context -----------------------------------------------------------------------------------

    def _attach(self, node: _Node, op: _Open | Step, ctx: Context | None = None) -> None:
        if _RUNTIME is None:
            return
        token = otel_context.attach(ctx if ctx is not None else op.context)  # type: ignore[union-attr]
        node.tokens.append((token, op))

    def _detach_all(self, node: _Node) -> None:
        tokens = node.tokens
        while tokens:
            _detach(tokens.pop()[0])

    def _detach_top(self, node: _Node | None, op: _Open | Step) -> None:
        if node is not None and node.tokens and node.tokens[-1][1] is op:
            _detach(node.tokens.pop()[0])

    # -- events ------------------------------------------------------------------------------------

    def event(self, event: Any) -> None:
        handler = self._events.get(type(event))
        if handler is not None:
            handler(event)

    def _predict_start(self, event: LLMPredictStartEvent) -> None:
        node = self.nodes.get(event.span_id) if event.span_id else None
        owner = node.owner if node is not None else None
        name, template = tr.prompt_template(
            event.template, event.template_args, node.instance if node is not None else None
        )
        step = self.recorder.start_prompt(
            name, template, owner.context if owner is not None else None, tr.run_context(event.tags)
        )
        if node is None:
            step.end_prompt(())
        else:
            if node.prompt is not None:
                node.prompt.end_prompt(())
            node.prompt = step

    def _chat_start(self, event: LLMChatStartEvent) -> None:
        self._generation_start(
            event, tr.messages(event.messages), Operation.CHAT, event.additional_kwargs
        )

    def _completion_start(self, event: LLMCompletionStartEvent) -> None:
        self._generation_start(
            event,
            [Message("user", event.prompt)],
            Operation.TEXT_COMPLETION,
            event.additional_kwargs,
        )

    def _generation_start(
        self,
        event: Any,
        messages: list[Message],
        operation: str,
        call_kwargs: Mapping[str, Any] | None,
    ) -> None:
        span_id = event.span_id
        if span_id is None or span_id in self.generations:
            return
        node = self.nodes.get(span_id)
        owner = node.owner if node is not None else None
        if owner is not None and owner.kind is _LLM and not owner.step.ended:
            return  # a call inside a call of the same generation (achat -> chat -> complete)
        self._end_pending_prompt(node, owner, messages)
        llm = node.instance if node is not None else None
        model = tr.model_name(event.model_dict, llm)
        step = self.recorder.start_generation(
            type(llm).__name__ if llm is not None else "llm",
            owner.context if owner is not None else None,
            tr.run_context(event.tags),
            model=model,
            provider=tr.provider(llm) if llm is not None else None,
            params=tr.parameters(llm, call_kwargs) if llm is not None else dict(call_kwargs or {}),
            messages=messages,
            operation=operation,
        )
        op = _Open(step, owner, _LLM, llm)
        self.generations[span_id] = op
        if node is not None:
            node.owner = op
            op.node = node
            self._attach(node, op)
        self._hold(owner)

    def _end_pending_prompt(
        self, node: _Node | None, owner: _Open | None, messages: list[Message]
    ) -> None:
        """The prompt of the predict call this model call belongs to ends with these messages."""
        hops = 0
        while node is not None and node.owner is owner and hops < 4:
            if node.prompt is not None:
                node.prompt.end_prompt(messages)
                node.prompt = None
                return
            node = node.parent
            hops += 1

    def _generation_progress(self, event: Any) -> None:
        op = self.generations.get(event.span_id)
        if op is not None:
            op.step.first_token()
            op.last = event.response

    def _generation_end(self, event: Any) -> None:
        op = self.generations.pop(event.span_id, None)
        if op is not None:
            self._end_generation(op, event.response)

    def _exception(self, event: ExceptionEvent) -> None:
        op = self.generations.pop(event.span_id, None) if event.span_id else None
        if op is None:
            return
        if isinstance(event.exception, GeneratorExit):  # the consumer closed the stream early
            self._end_generation(op, op.last, abandoned="closed")
        else:
            self._end_generation(op, None, event.exception)

    def _end_generation(
        self,
        op: _Open,
        response: Any,
        error: BaseException | None = None,
        abandoned: str | None = None,
    ) -> None:
        if op.finalizer is not None:
            op.finalizer.detach()
            op.finalizer = None
        node = op.node
        if node is not None and self.nodes.get(node.id) is node:
            self._detach_top(node, op)
        op.node = None
        step = op.step
        output = None
        if error is not None:
            step.fail(error)
        else:
            outputs = tr.response_messages(response)
            finish, response_model, response_id = tr.response_details(response)
            step.end_generation(
                outputs,
                usage=tr.usage(response),
                finish_reasons=finish,
                response_model=response_model,
                response_id=response_id,
                abandoned=abandoned,
            )
            output = outputs[-1].content if outputs else None
        self._release(op.parent, output, error)

    def _outlived(self, id_: str, op: _Open, result: Any) -> None:
        """The call that started a generation returned before the generation ended."""
        if type(result) in _GENERATORS:
            try:  # also called at interpreter exit, before the provider flushes
                op.finalizer = weakref.finalize(result, self._collected, id_)
            except TypeError:
                op.finalizer = None
            if self._reaper is not None:
                self._reaper.watch(id_)
            return
        # A model that reported no end event: its result is the response.
        if self.generations.pop(id_, None) is op:
            self._end_generation(op, result if hasattr(result, "raw") else op.last)

    def _collected(self, id_: str) -> None:
        op = self.generations.pop(id_, None)
        if op is not None:
            op.finalizer = None
            self._end_generation(op, op.last, abandoned="collected")

    def _waiting(self, item: Any) -> bool:
        if isinstance(item, _Lazy):
            return not item.released
        return item in self.generations

    def _expire(self, item: Any) -> None:
        if isinstance(item, _Lazy):
            self._lazy_done(item, StreamTimeout())
            return
        op = self.generations.pop(item, None)
        if op is not None:
            self._end_generation(op, None, StreamTimeout())

    # -- streams keep their callers' steps open ----------------------------------------------------

    def _watch_lazy(self, generator: Any, owner: _Open, *, hold: bool = True) -> None:
        """Calls made from inside ``generator`` belong to ``owner``; with ``hold``, ``owner``
        stays open until the first of them returns (or the generator goes away)."""
        frame = _frame_of(generator)
        if frame is None:
            return
        known = self.lazies.get(id(frame))
        if known is not None and known.running_frame() is frame:
            return  # returned again by an enclosing call
        lazy = _Lazy(owner, generator, id(frame))
        if hold:
            self._hold(owner)
        else:
            lazy.released = True
        self.lazies[lazy.key] = lazy
        lazy.finalizer = weakref.finalize(generator, self._lazy_collected, lazy)
        if hold and self._reaper is not None:
            self._reaper.watch(lazy)

    def _running_lazy(self, owner: _Open | None) -> _Lazy | None:
        """The watched generator running in this thread whose step is below ``owner``, if any.

        A generator's body runs wherever it is consumed: in the caller's context (no parent), or
        in a task or thread the framework started for it (the parent is then the call that
        started the task, an ancestor of the step that returned the generator).
        """
        lazies = self.lazies
        frame = sys._getframe(2)
        while frame is not None:
            lazy = lazies.get(id(frame))
            if lazy is not None and lazy.running_frame() is frame:
                if owner is None:
                    return lazy
                step: _Open | None = lazy.owner
                while step is not None:
                    if step is owner:
                        return lazy
                    step = step.parent
                return None
            frame = frame.f_back
        return None

    def _lazy_done(self, lazy: _Lazy, error: BaseException | None = None) -> None:
        with self._lock:
            if lazy.released:
                return
            lazy.released = True
        self._release(lazy.owner, None, error)

    def _lazy_collected(self, lazy: _Lazy) -> None:
        if self.lazies.get(lazy.key) is lazy:
            del self.lazies[lazy.key]
        self._lazy_done(lazy)

    def _hold(self, first: _Open | None) -> None:
        """``first`` and every step above it wait for one more stream."""
        with self._lock:
            while first is not None:
                first.pending += 1
                first = first.parent

    def _release(
        self, first: _Open | None, output: str | None, error: BaseException | None
    ) -> None:
        ready: list[_Open] = []
        with self._lock:
            while first is not None:
                first.pending -= 1
                if output is not None:
                    first.output = output
                if first.deferred and first.pending <= 0:
                    first.deferred = False
                    ready.append(first)
                first = first.parent
        for waiting in ready:  # innermost first
            self._finish(waiting, waiting.result, waiting.output, error)
            waiting.result = None

    # -- embeddings --------------------------------------------------------------------------------

    def _embedding_start(self, event: EmbeddingStartEvent) -> None:
        node = self.nodes.get(event.span_id) if event.span_id else None
        if node is None:
            return
        kind = node.kind
        args = node.arguments
        if kind is _EMBED_QUERY:
            texts, role = [args.get("query")], EmbeddingRole.QUERY
        elif kind is _EMBED_TEXT:
            texts, role = [args.get("text")], EmbeddingRole.DOCUMENT
        else:  # batches are consecutive slices of embed_batch_size texts
            size = getattr(node.instance, "embed_batch_size", None) or 1
            start = node.embed_count * size
            texts, role = (
                list(args.get("texts") or ())[start : start + size],
                EmbeddingRole.DOCUMENT,
            )
        node.embed_count += 1
        owner = node.owner
        step = self.recorder.start_embedding(
            f"{type(node.instance).__name__}.embed",
            owner.context if owner is not None else None,
            tr.run_context(event.tags),
            model=tr.model_name(event.model_dict, node.instance),
            texts=[t if isinstance(t, str) else "" for t in texts],
            role=role,
        )
        if node.embeds is None:
            node.embeds = deque()
        node.embeds.append(step)
        # Async batches start every request before awaiting them together: nothing to nest.
        if kind is not _EMBED_ABATCH:
            self._attach(node, step, trace.set_span_in_context(step.span))

    def _embedding_end(self, event: EmbeddingEndEvent) -> None:
        node = self.nodes.get(event.span_id) if event.span_id else None
        if node is None or not node.embeds:
            return
        step = node.embeds.popleft()
        self._detach_top(node, step)
        step.embedding_texts = event.chunks
        step.end_embedding(event.embeddings)

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


class StreamTimeout(TimeoutError):
    """A streamed generation was neither consumed nor closed within ``stream_timeout``."""

    def __init__(self) -> None:
        super().__init__("stream neither consumed nor closed within the stream timeout")


def _outcome(kind: str, result: Any) -> Any:
    """What a step's span records of its call's result."""
    if kind is _RETRIEVER:
        return tr.documents(result if isinstance(result, list) else None)
    return tr.step_output(result)


def _detach(token: Any) -> None:
    with suppress(ValueError, RuntimeError):  # created in another context: it unwinds there
        _RUNTIME.detach(token)  # type: ignore[union-attr]


class _Reaper:
    """Ends streams nobody consumes: one daemon thread, woken at the earliest deadline."""

    _PRUNE_AT: Final = 1024

    def __init__(
        self, expire: Callable[[Any], None], timeout: float, alive: Callable[[Any], bool]
    ) -> None:
        self._expire = expire
        self._alive = alive
        self._timeout = timeout
        self._heap: list[tuple[float, int, Any]] = []
        self._seq = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def watch(self, item: Any) -> None:
        with self._cond:
            self._seq += 1
            if len(self._heap) >= self._PRUNE_AT:  # most streams end long before their deadline
                self._heap = [entry for entry in self._heap if self._alive(entry[2])]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (time.monotonic() + self._timeout, self._seq, item))
            if self._thread is None:
                self._stopped = False
                self._thread = threading.Thread(
                    target=self._run, name="ragtel-llamaindex-streams", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        break
                    self._cond.wait(self._heap[0][0] - now if self._heap else None)
                if self._stopped:
                    return
                expired = []
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    expired.append(heapq.heappop(self._heap)[2])
            for key in expired:
                call_quietly(self._expire, key)


# -- the handlers LlamaIndex calls -----------------------------------------------------------------


class RagtelSpanHandler(BaseSpanHandler[BaseSpan]):
    """Records LlamaIndex runs as ragtel spans; register it (and ``event_handler``) on a dispatcher.

    ``instrument_llamaindex()`` does both on the root dispatcher; by hand::

        handler = RagtelSpanHandler()
        handler.attach()          # root dispatcher: every LlamaIndex component
        ...
        handler.detach()

    ``stream_timeout`` bounds how long an unconsumed stream keeps its spans open (None: until the
    stream ends or is garbage collected).
    """

    _tracker: _Tracker = PrivateAttr()
    _events: RagtelEventHandler = PrivateAttr()
    _dispatcher: Dispatcher | None = PrivateAttr(default=None)

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        config: TraceConfig | None = None,
        *,
        recorder: Recorder | None = None,
        stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT,
    ) -> None:
        super().__init__()
        if recorder is None:
            recorder = default_recorder("llamaindex", tracer_provider, config)
        self._tracker = _Tracker(recorder, stream_timeout)
        self._events = RagtelEventHandler(self._tracker)

    @classmethod
    def class_name(cls) -> str:
        return "RagtelSpanHandler"

    @property
    def recorder(self) -> Recorder:
        return self._tracker.recorder

    @property
    def event_handler(self) -> RagtelEventHandler:
        """The event handler that goes with this span handler (register both)."""
        return self._events

    @property
    def open_steps(self) -> int:
        """Calls and generations being tracked (0 when idle; a leak shows here)."""
        return self._tracker.open_count

    def attach(self, dispatcher: Dispatcher | None = None) -> RagtelSpanHandler:
        """Register the span and event handlers on ``dispatcher`` (default: the root one)."""
        target = dispatcher or get_dispatcher()
        if self not in target.span_handlers:
            target.add_span_handler(self)
        if self._events not in target.event_handlers:
            target.add_event_handler(self._events)
        self._dispatcher = target
        return self

    def detach(self) -> None:
        """Remove both handlers from the dispatcher and end whatever is still open.

        Call it while no LlamaIndex call is running: a call in flight cannot restore its context
        once the handler is gone, and its step's span would stay current there after it ended.
        """
        target = self._dispatcher
        if target is not None:
            target.span_handlers = [h for h in target.span_handlers if h is not self]
            target.event_handlers = [h for h in target.event_handlers if h is not self._events]
            self._dispatcher = None
        self._tracker.close()

    # BaseSpanHandler keeps its own span objects; ragtel keeps steps, so these three are no-ops.
    def new_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    @guarded
    def span_enter(
        self,
        id_: str,
        bound_args: Any,
        instance: Any = None,
        parent_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._tracker.enter(id_, bound_args, instance, parent_id, tags)

    @guarded
    def span_exit(
        self, id_: str, bound_args: Any, instance: Any = None, result: Any = None, **kwargs: Any
    ) -> None:
        self._tracker.exit(id_, result)

    @guarded
    def span_drop(
        self,
        id_: str,
        bound_args: Any,
        instance: Any = None,
        err: BaseException | None = None,
        **kwargs: Any,
    ) -> None:
        self._tracker.drop(id_, err)

    @guarded
    def close(self) -> None:
        self._tracker.close()


class RagtelEventHandler(BaseEventHandler):
    """The event half of ``RagtelSpanHandler`` (prompts, generations, embeddings)."""

    _tracker: _Tracker = PrivateAttr()

    def __init__(self, tracker: _Tracker) -> None:
        super().__init__()
        self._tracker = tracker

    @classmethod
    def class_name(cls) -> str:
        return "RagtelEventHandler"

    @guarded
    def handle(self, event: Any, **kwargs: Any) -> None:
        self._tracker.event(event)


# -- what ragtel.instrument() calls ----------------------------------------------------------------


def instrument(
    tracer_provider: trace.TracerProvider | None = None,
    config: TraceConfig | None = None,
    *,
    stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT,
) -> RagtelSpanHandler:
    """Trace every LlamaIndex component via the root dispatcher; returns the handle to remove.

    If a ``RagtelSpanHandler`` is already registered there, it is returned instead of adding a
    second one (every step would be recorded twice).
    """
    root = get_dispatcher()
    for handler in root.span_handlers:
        if isinstance(handler, RagtelSpanHandler):
            return handler
    return RagtelSpanHandler(tracer_provider, config, stream_timeout=stream_timeout).attach(root)


def uninstrument(handle: RagtelSpanHandler) -> None:
    """Remove what ``instrument()`` registered. Idempotent."""
    handle.detach()
