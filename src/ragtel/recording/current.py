"""Making a step's span current for code that runs inside it, without ever leaking it.

Spans of other instrumentations (an HTTP client, a vector database driver) nest under a ragtel
step only if that step's span is the current span while the step runs. LangChain gives no hook
around the step's body, only start/end callbacks, and those are not always nested like a stack:
a streaming sequence starts steps 1, 2, 3 and ends them 1, 2, 3. So each attach remembers the
context it replaced, and ending a step unwinds every ended step whose span became current again.
Under asyncio nothing is attached at all: a callback there runs in the caller's task, and a span
left attached in that context would outlive the run.

Frameworks that call around the step's body (LlamaIndex's span handler) use ``attach`` and
``detach`` instead: plain, scoped, and quiet when a token is detached in another context.

``open_retrieval`` hands the running retriever step to an embedding call made inside it that has
no callback of its own (``TracedEmbeddings``), so its span nests there.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from contextlib import suppress
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span

from ragtel._sdk import can_detach, detach_quietly
from ragtel.recording.records import RunContext
from ragtel.recording.step import Step

if TYPE_CHECKING:
    from ragtel.recording.recorder import Recorder


class Attachments:
    """Per-handler bookkeeping of spans attached as current.

    Keyed weakly by span: when the context a span was attached in is gone (LangChain runs steps in
    copied contexts) and the span has been exported, its entry goes with it. Nothing here keeps a
    span alive, so bookkeeping cannot grow with traffic.
    """

    def __init__(self) -> None:
        # Values hold the context to go back to, never a contextvars Token: a token refers to
        # the Context it was made in, which holds the span, which would pin the weak key forever.
        self._attached: weakref.WeakKeyDictionary[Span, tuple[Context, int]] = (
            weakref.WeakKeyDictionary()
        )

    def maybe_attach(self, step: Step, parent: Step | None) -> bool:
        """Make ``step`` current if the stack allows (True when it did). Only a step that was
        attached needs ``release``."""
        if asyncio._get_running_loop() is not None:
            return False
        previous = otel_context.get_current()
        current = trace.get_current_span(previous)
        # Attach only where the stack is what it should be: the parent's span is current, or a
        # span that is not ours (the user's own). A sibling's span being current means runs are
        # interleaved in this thread (batch, streaming), and attaching would mis-nest.
        if (parent is None or current is not parent.span) and current in self._attached:
            return False
        otel_context.attach(step.context())
        self._attached[step.span] = (previous, threading.get_ident())
        return True

    def release(self, step: Step) -> None:
        """After ``step`` ended: detach it and every ended step that becomes current again."""
        span = step.span
        entry = self._attached.get(span)
        if entry is None:
            return
        thread = threading.get_ident()
        current = trace.get_current_span()
        while entry is not None:
            previous, owner = entry
            # Not current: a later sibling is on top, and unwinds this one when it ends.
            if owner != thread or current is not span or span.is_recording():
                return
            del self._attached[span]
            # Setting the previous context back (rather than resetting a token) is the same here:
            # this thread's current span is the one attached, so this is the context it was in.
            otel_context.attach(previous)
            span = current = trace.get_current_span(previous)
            entry = self._attached.get(span)

    def __len__(self) -> int:
        return len(self._attached)


def attach(step: Step) -> Any:
    """Make ``step`` current until ``detach(token)``; None when the API cannot (nothing to undo)."""
    if not can_detach():
        return None
    return otel_context.attach(step.context())


def detach(token: Any) -> None:
    """Undo ``attach``; quiet when the token belongs to another context (it unwinds there)."""
    if token is not None:
        detach_quietly(token)


# -- the hand-off to embedding calls that have no callback of their own ----------------------------


class OpenRetrieval:
    """A retrieval running in this context, for an embedding call made inside it.

    Each one links to the retrieval that was open when it started: a nested retriever that ends
    in another context (LangChain ends runs from executor threads and other tasks) cannot reset
    the context variable here, so the value left behind names an ended step, and the one to use is
    the nearest open one up the chain.
    """

    __slots__ = ("outer", "recorder", "run", "step")

    def __init__(
        self, recorder: Recorder, step: Step, run: RunContext | None, outer: OpenRetrieval | None
    ) -> None:
        self.recorder = recorder
        self.step = step
        self.run = run
        self.outer = outer


_open_retrieval: ContextVar[OpenRetrieval | None] = ContextVar(
    "ragtel_open_retrieval", default=None
)


def enter_retrieval(
    recorder: Recorder, step: Step, run: RunContext | None = None
) -> Token[OpenRetrieval | None]:
    """``step`` is the retrieval running in this context (until ``leave_retrieval``)."""
    return _open_retrieval.set(OpenRetrieval(recorder, step, run, open_retrieval()))


def leave_retrieval(token: Token[OpenRetrieval | None]) -> None:
    # Ended in another context: the stale value there names an ended step and is skipped.
    with suppress(ValueError):
        _open_retrieval.reset(token)


def open_retrieval() -> OpenRetrieval | None:
    """The innermost retrieval running in this context that has not ended, if any."""
    found = _open_retrieval.get()
    while found is not None and found.step.ended:
        found = found.outer
    return found
