"""LlamaIndex instrumentation events -> prompt, generation and embedding steps."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from llama_index.core.instrumentation.events.embedding import (
    EmbeddingEndEvent,
    EmbeddingStartEvent,
)
from llama_index.core.instrumentation.events.exception import ExceptionEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatStartEvent,
    LLMCompletionStartEvent,
    LLMPredictStartEvent,
)

from ragtel.integrations.llamaindex import translate as tr
from ragtel.integrations.llamaindex.classify import _EMBED_ABATCH, _EMBED_QUERY, _EMBED_TEXT, _LLM
from ragtel.integrations.llamaindex.tree import _Node, _Open
from ragtel.recording import Recorder, Step
from ragtel.recording.records import Message, PromptTemplate
from ragtel.semconv import EmbeddingRole, Operation


class _Events:
    """The event half of the tracker (mixed into ``_Tracker``)."""

    recorder: Recorder
    nodes: dict[str, _Node]
    generations: dict[str, _Open]
    _events: dict[type, Callable[[Any], None]]

    if TYPE_CHECKING:

        def _attach(self, node: _Node, op: _Open | Step) -> None: ...
        def _detach_top(self, node: _Node | None, op: _Open | Step) -> None: ...
        def _hold(self, first: _Open | None) -> None: ...
        def _release(
            self, first: _Open | None, output: str | None, error: BaseException | None
        ) -> None: ...

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
            name, template, owner.step if owner is not None else None, tr.run_context(event.tags)
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
        template = self._end_pending_prompt(node, owner, messages)
        llm = node.instance if node is not None else None
        model = tr.model_name(event.model_dict, llm)
        params = tr.parameters(llm, call_kwargs) if llm is not None else dict(call_kwargs or {})
        tools = tr.tool_definitions(params)
        step = self.recorder.start_generation(
            type(llm).__name__ if llm is not None else "llm",
            owner.step if owner is not None else None,
            tr.run_context(event.tags),
            model=model,
            provider=tr.provider(llm) if llm is not None else None,
            params=params,
            messages=messages,
            operation=operation,
            template=template,
            tools=tools,
            endpoint=tr.endpoint(llm) if llm is not None else None,
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
    ) -> PromptTemplate | None:
        """The prompt of the predict call this model call belongs to ends with these messages;
        returns its template, which the model call records too."""
        hops = 0
        while node is not None and node.owner is owner and hops < 4:
            prompt = node.prompt
            if prompt is not None:
                prompt.end_prompt(messages)
                node.prompt = None
                return prompt.template
            node = node.parent
            hops += 1
        return None

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
            owner.step if owner is not None else None,
            tr.run_context(event.tags),
            model=tr.model_name(event.model_dict, node.instance),
            texts=[t if isinstance(t, str) else "" for t in texts],
            role=role,
            provider=tr.provider(node.instance),
        )
        if node.embeds is None:
            node.embeds = deque()
        node.embeds.append(step)
        # Async batches start every request before awaiting them together: nothing to nest.
        if kind is not _EMBED_ABATCH:
            self._attach(node, step)

    def _embedding_end(self, event: EmbeddingEndEvent) -> None:
        node = self.nodes.get(event.span_id) if event.span_id else None
        if node is None or not node.embeds:
            return
        step = node.embeds.popleft()
        self._detach_top(node, step)
        step.embedding_texts = event.chunks
        step.end_embedding(event.embeddings)
