"""``Recorder``: neutral step records in, OpenTelemetry spans out.

Adapters call ``start_*`` with a record and the parent ``Step`` (None for a run's root) and end the
returned step with its ``end_*`` method; they never see a span or a context. What each step kind
writes is in ``ragtel.recording.attributes``; how much fits in ``budget``; what happens to texts in
``text``; making a step current in ``current``.

A recorder given no provider or config follows ``ragtel.configure()``: it checks one counter per
step and picks up a new provider or settings, so ``instrument()`` may run before ``configure()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Tracer

from ragtel import _active
from ragtel._sdk import span_limits
from ragtel._version import __version__
from ragtel.config import Settings, TraceConfig, resolve
from ragtel.recording.attributes import (
    agent,
    chain,
    embedding,
    generation,
    prompt,
    retrieval,
    tool,
)
from ragtel.recording.attributes.run_context import stamp
from ragtel.recording.budget import SpanBudget
from ragtel.recording.monitor_hook import default_monitor
from ragtel.recording.records import Message, PromptTemplate, RunContext, ToolDefinition
from ragtel.recording.runs import remember_root
from ragtel.recording.session import current_session
from ragtel.recording.step import Step
from ragtel.recording.text import MAX_NAME_CHARS, TextPolicy
from ragtel.semconv import Operation, Ragtel

TracerProvider = trace.TracerProvider
"""The provider type adapters accept and pass on (so that they need not import OpenTelemetry)."""

_SHARED: Final = object()  # the process-wide embedding monitor, if the settings enable it


class Recorder:
    """Turns neutral step records into OpenTelemetry spans.

    Thread-safe: it holds no per-run state; each ``start_*`` returns a ``Step`` owned by the caller.
    """

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        config: TraceConfig | Settings | None = None,
        *,
        framework: str = "ragtel",
        monitor: Any = _SHARED,
    ) -> None:
        self.framework = framework
        self._provider = tracer_provider
        self._config = resolve(config) if config is not None else None
        self._monitor = monitor
        self._generation = -1
        self._refresh()

    def _refresh(self) -> None:
        """(Re)read the provider and settings this recorder records with."""
        self._generation = _active.generation
        settings = self._config or _active.settings()
        self.settings = settings
        self._tracer_provider = self._provider or _active.provider()
        self._tracer: Tracer = trace.get_tracer(
            "ragtel", __version__, tracer_provider=self._tracer_provider
        )
        max_attributes, max_length = span_limits(self._tracer)
        self.budget = SpanBudget.for_limits(max_attributes, settings.max_span_bytes)
        self.policy = TextPolicy(settings, max_length)
        self.content = settings.capture_content
        self.oi = settings.openinference
        self.genai = settings.genai
        self.monitor = default_monitor(settings) if self._monitor is _SHARED else self._monitor

    # -- starting steps -------------------------------------------------------------------------

    def start_chain(
        self, name: str, inputs: Any, parent: Step | None, run: RunContext | None = None
    ) -> Step:
        self._follow()
        return chain.start(self, name, inputs, parent, run)

    def start_agent(
        self,
        name: str,
        inputs: Any,
        parent: Step | None,
        run: RunContext | None = None,
        *,
        provider: str | None = None,
    ) -> Step:
        """An agent run (a model choosing tools in a loop); end it with ``end_chain``.
        ``provider`` is its model's, if known now (else ``Step.note_provider`` later)."""
        self._follow()
        return agent.start(self, name, inputs, parent, run, provider)

    def start_retrieval(
        self,
        name: str,
        query: Any,
        parent: Step | None,
        run: RunContext | None = None,
        *,
        top_k: int | None = None,
        data_source: str | None = None,
    ) -> Step:
        self._follow()
        return retrieval.start(self, name, query, parent, run, top_k, data_source)

    def start_prompt(
        self,
        name: str,
        template: PromptTemplate,
        parent: Step | None,
        run: RunContext | None = None,
    ) -> Step:
        self._follow()
        return prompt.start(self, name, template, parent, run)

    def start_generation(
        self,
        name: str,
        parent: Step | None,
        run: RunContext | None = None,
        *,
        model: str | None,
        provider: str | None = None,
        params: Mapping[str, Any] | None = None,
        messages: Sequence[Message] = (),
        operation: str = Operation.CHAT,
        template: PromptTemplate | None = None,
        tools: Sequence[ToolDefinition] = (),
        endpoint: str | None = None,
    ) -> Step:
        """A model call. ``provider`` as the framework spells it (``ls_provider``, a LlamaIndex
        package); ``endpoint`` the base URL the client calls, if it exposes one."""
        self._follow()
        return generation.start(
            self,
            name,
            parent,
            run,
            model=model,
            provider=provider,
            params=params,
            messages=messages,
            operation=operation,
            template=template,
            tools=tools,
            endpoint=endpoint,
        )

    def start_embedding(
        self,
        name: str,
        parent: Step | None,
        run: RunContext | None = None,
        *,
        model: str | None,
        texts: Sequence[str],
        role: str,
        provider: str | None = None,
    ) -> Step:
        self._follow()
        return embedding.start(
            self,
            name,
            parent,
            run,
            model=model,
            texts=texts,
            role=role,
            provider=provider,
        )

    def start_knowledge_base_sample(
        self,
        texts: Sequence[str | None],
        ids: Sequence[str | None],
        drawn_from: int | None = None,
    ) -> Step:
        """The monitor's knowledge-base sample: a trace of its own, whatever span is current;
        ``drawn_from`` counts the documents it is a sample of, when more than it holds."""
        self._follow()
        return embedding.start_sample(self, texts, ids, drawn_from)

    def start_tool(
        self,
        name: str,
        inputs: Any,
        parent: Step | None,
        run: RunContext | None = None,
        *,
        description: str | None = None,
        call_id: str | None = None,
    ) -> Step:
        """A tool run; ``call_id`` is the id the model gave the call it answers, if any."""
        self._follow()
        return tool.start(self, name, inputs, parent, run, description, call_id)

    def _follow(self) -> None:
        if self._generation != _active.generation:  # configure() ran since
            self._refresh()

    # -- for the attribute builders ---------------------------------------------------------------

    def open_step(
        self,
        name: str,
        kind: str,
        span_kind: SpanKind,
        parent: Step | None,
        attrs: dict[str, Any],
        run: RunContext | None,
        *,
        detached: bool = False,
    ) -> Step:
        """Start the span of a step whose start attributes are ``attrs``; a ``detached`` step
        starts a trace of its own that is not one of the application's runs."""
        session = current_session()
        cuts = 0
        if run is not None or session is not None:
            cuts = stamp(attrs, run, session, self.oi, self.genai, self.policy)
        if not self.content:
            attrs[Ragtel.CONTENT_CAPTURED] = False
        # Attributes are written once, when the step ends (see Step.finish); a sampler sees the
        # span's name and kind, which is what samplers of LLM traffic key on.
        context = parent.context() if parent is not None else (Context() if detached else None)
        if not name.isascii() or len(name) > MAX_NAME_CHARS:  # else policy.name() returns it
            name = self.policy.name(name)
        span = self._tracer.start_span(name, context=context, kind=span_kind)
        if parent is None and not detached:
            remember_root(span, self._tracer_provider, self.settings)
        step = Step(self, span, kind, attrs, parent)
        if cuts:
            step.cut(Ragtel.TEXT_TRUNCATED_COUNT, cuts)
        return step
