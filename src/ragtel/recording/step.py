"""``Step``: one open span, the attributes pending on it, and what was cut from it.

Attributes are written once, when the step ends: one lock round-trip per span rather than one per
attribute, and no re-validation of values built to be valid. The ``end_*`` methods hand over to
the attribute builders of their step kind (``ragtel.recording.attributes``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode

from ragtel import _stats
from ragtel._sdk import write_attributes
from ragtel.recording.attributes import (
    agent,
    chain,
    embedding,
    generation,
    prompt,
    retrieval,
    tool,
)
from ragtel.recording.budget import BYTES_PER_ATTRIBUTE, size_of
from ragtel.recording.records import Document, Message, PromptTemplate, Usage
from ragtel.semconv import Core, EmbeddingRole, Ragtel

if TYPE_CHECKING:
    from ragtel.recording.recorder import Recorder

# A run's texts kept for reuse: at most this many, of at most this length (the cache keeps them
# alive while the run's steps are).
_MAX_REUSED: Final = 256
_MAX_REUSED_CHARS: Final = 16384


class Step:
    """One open span and what has been written on it; ended by exactly one ``end_*`` or ``fail``.

    Fields most steps never change are read from the class until a step sets its own: a step is
    made for every framework run, and each field set costs on all of them.
    """

    ended: bool = False
    first_token_ns: int | None = None
    embedding_texts: Sequence[str | None] = ()
    embedding_role: str = EmbeddingRole.QUERY
    embedding_ids: Sequence[str | None] = ()
    template: PromptTemplate | None = None  # a PROMPT step's, for the LLM it feeds
    index_build: Step | None = None  # the root an index build's embedding ends with
    _bytes: int = 0
    _cuts: dict[str, int] | None = None
    _context: Context | None = None

    def __init__(
        self,
        recorder: Recorder,
        span: Span,
        kind: str,
        attrs: dict[str, Any],
        parent: Step | None = None,
    ) -> None:
        self.recorder = recorder
        self.span = span
        self.kind = kind
        self.pending = attrs
        """The attributes written so far (applied to the span when it ends)."""
        self.start_ns = time.monotonic_ns()
        self._budget = recorder.budget
        # Texts through the policy in this run (shared by its steps): a run records the same
        # texts on several steps (the question on the root, the retriever and the prompt; the
        # context in the formatter's output and the prompt's variables; the answer on the model,
        # the parser and the root), and the policy's scans cost more than a lookup.
        self._texts: dict[str, tuple[str, bool]] = {} if parent is None else parent._texts

    def context(self) -> Context:
        """The OpenTelemetry context with this step's span current (built once)."""
        if self._context is None:
            self._context = trace.set_span_in_context(self.span)
        return self._context

    # -- budgeted writes --------------------------------------------------------------------------

    def room(self, attributes: int, nbytes: int = 0) -> bool:
        """True when ``attributes`` more attributes of ``nbytes`` fit the span's budget."""
        return self._budget.fits(len(self.pending) + attributes, self._bytes + nbytes)

    def put(self, key: str, value: Any) -> bool:
        """Write one attribute if it fits; a value of None writes nothing."""
        if value is None:
            return False
        if type(value) is str:  # text_size inline: most values are texts
            size = len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))
        else:
            size = size_of(value)
        size += len(key) + BYTES_PER_ATTRIBUTE
        budget = self._budget
        if len(self.pending) >= budget.max_attributes or self._bytes + size > budget.max_bytes:
            self.cut(Ragtel.SPAN_BYTES_TRUNCATED)
            return False
        self.pending[key] = value
        self._bytes += size
        return True

    def put_unbudgeted(self, key: str, value: Any) -> None:
        """Write an attribute already counted by ``charge`` (or a small fixed marker)."""
        self.pending[key] = value

    def charge(self, nbytes: int) -> None:
        """Count ``nbytes`` written through ``put_unbudgeted`` against the byte budget."""
        self._bytes += nbytes

    def cut(self, marker: str, amount: int = 1) -> None:
        """Count something left out; written on the span when it ends."""
        cuts = self._cuts
        if cuts is None:
            cuts = self._cuts = {}
        cuts[marker] = cuts.get(marker, 0) + amount

    def text(self, value: str | None) -> str | None:
        """``value`` through the text policy; None when content is not captured."""
        policy = self.recorder.policy
        if value is None or not policy.capture:
            return None
        done = self._texts.get(value)
        if done is None:
            done = policy.apply(value)
            texts = self._texts
            if (
                policy.deterministic
                and len(value) <= _MAX_REUSED_CHARS
                and len(texts) < _MAX_REUSED
            ):
                texts[value] = done
        if done[1]:
            self.cut(Ragtel.TEXT_TRUNCATED_COUNT)
        return done[0]

    def lasting_text(self, value: str) -> str | None:
        """``value`` through the text policy, for a text that recurs across runs by nature (a
        template); None when content is not captured."""
        policy = self.recorder.policy
        if not policy.capture:
            return None
        text, cut, _ = policy.lasting(value)
        if cut:
            self.cut(Ragtel.TEXT_TRUNCATED_COUNT)
        return text

    # -- ending -----------------------------------------------------------------------------------

    def first_token(self) -> None:
        """Mark the first streamed chunk (time to first token)."""
        if self.first_token_ns is None:
            self.first_token_ns = time.monotonic_ns()

    def end_chain(self, outputs: Any) -> None:
        try:
            chain.end(self, outputs)
        finally:
            self.abandon()  # ended already, unless the builder failed

    def add_input(self, inputs: Any) -> None:
        """The input of a step that learned it only at its end (LangChain's streamed runs)."""
        chain.add_input(self, inputs)

    def note_provider(self, provider: str | None) -> None:
        """On an AGENT step: the provider of its model, once a generation shows it."""
        agent.note_provider(self, provider)

    def become_agent(self, name: str) -> None:
        """This CHAIN step turned out to be an agent (it ran tools): record it as one."""
        agent.promote(self, name)

    def end_tool(self, output: Any) -> None:
        try:
            tool.end(self, output)
        finally:
            self.abandon()  # ended already, unless the builder failed

    def end_prompt(self, messages: Sequence[Message]) -> None:
        try:
            prompt.end(self, messages)
        finally:
            self.abandon()  # ended already, unless the builder failed

    def end_retrieval(self, documents: Sequence[Document]) -> None:
        try:
            retrieval.end(self, documents)
        finally:
            self.abandon()  # ended already, unless the builder failed

    def end_embedding(self, vectors: Sequence[Any]) -> None:
        try:
            embedding.end(self, vectors)
        finally:
            self.abandon()  # ended already, unless the builder failed

    def end_generation(
        self,
        outputs: Sequence[Message],
        *,
        usage: Usage | None = None,
        finish_reasons: Sequence[str] = (),
        response_model: str | None = None,
        response_id: str | None = None,
        abandoned: str | None = None,
    ) -> None:
        """End an LLM step; ``abandoned`` says why a stream stopped before its last chunk."""
        try:
            generation.end(
                self,
                outputs,
                usage=usage,
                finish_reasons=finish_reasons,
                response_model=response_model,
                response_id=response_id,
                abandoned=abandoned,
            )
        finally:
            self.abandon()  # ended already, unless the builder failed

    def seconds_to_first_token(self) -> float:
        return ((self.first_token_ns or self.start_ns) - self.start_ns) / 1e9

    def fail(self, error: BaseException) -> None:
        """End the span as failed, with the exception recorded as an event.

        The message, stack trace and status description are user text: they go through the text
        policy (secrets masked, the user's redaction, cut), and without content capture only the
        exception's type and frames are kept.
        """
        if self.ended:
            return
        try:
            # The exception's class: low-cardinality, no user text (the registry's error.type).
            self.pending[Core.ERROR_TYPE] = type(error).__qualname__
            attributes, description = self.recorder.policy.error(error)
            self.span.add_event("exception", attributes)
            self.span.set_status(Status(StatusCode.ERROR, description))
        finally:
            self.finish()

    def abandon(self) -> None:
        """End the span with nothing more written (after an internal error while ending it)."""
        if not self.ended:
            self.ended = True
            self.span.end()

    def finish(self) -> None:
        """Write the pending attributes and the cut markers, and end the span (once)."""
        if self.ended:
            return
        try:
            attrs = self.pending
            if self._cuts:
                for marker, amount in self._cuts.items():
                    attrs[marker] = amount
                    _stats.add(marker, amount)
                attrs[Ragtel.TEXT_TRUNCATED] = True
            if attrs:
                write_attributes(self.span, attrs)
        finally:  # whatever failed above, the span ends: no hole in the trace
            self.ended = True
            self.span.end()

    def add_event(self, name: str, attributes: dict[str, Any]) -> None:
        self.span.add_event(name, attributes)
