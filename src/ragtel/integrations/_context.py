"""Making a step's span current for code that runs inside it, without ever leaking it.

Spans of other instrumentations (an HTTP client, a vector database driver) nest under a ragtel
step only if that step's span is the current span while the step runs. LangChain gives no hook
around the step's body, only start/end callbacks, and those are not always nested like a stack:
a streaming sequence starts steps 1, 2, 3 and ends them 1, 2, 3. So each attach remembers its
token, and ending a step unwinds every ended step whose span has become current again. Under
asyncio nothing is attached at all: a callback there runs in the caller's task, and a span left
attached in that context would outlive the run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context

from ragtel.recorder import Step

try:  # the runtime context behind context.attach/detach; detach() logs loudly on misuse
    from opentelemetry.context import _RUNTIME_CONTEXT as _RUNTIME
except ImportError:  # pragma: no cover - older or future API layouts
    _RUNTIME = None


class Attachments:
    """Per-handler bookkeeping of spans attached as current, keyed by ``id(span)``.

    An entry lives only while its span is attached, which keeps the span alive: ids are not reused.
    """

    def __init__(self) -> None:
        self._attached: dict[int, tuple[Step, Token[Any], int]] = {}

    def maybe_attach(self, step: Step, parent: Step | None, context: Callable[[], Context]) -> None:
        """Make ``step`` current if the stack allows; ``context`` gives the step's own context."""
        if _RUNTIME is None or asyncio._get_running_loop() is not None:
            return
        current = trace.get_current_span()
        # Attach only where the stack is what it should be: the parent's span is current, or a
        # span that is not ours (the user's own). A sibling's span being current means runs are
        # interleaved in this thread (batch, streaming), and attaching would mis-nest.
        if (parent is None or current is not parent.span) and (
            current.get_span_context().span_id in self._attached
        ):
            return
        token = otel_context.attach(context())
        self._attached[step.span.get_span_context().span_id] = (step, token, threading.get_ident())

    def release(self, step: Step) -> None:
        """After ``step`` ended: detach it and every ended step that becomes current again."""
        if not self._attached:
            return
        entry = self._attached.get(id(step.span))
        if entry is None:
            return
        thread = threading.get_ident()
        while entry is not None:
            ended_step, token, owner = entry
            if owner != thread or not ended_step.ended:
                return
            if trace.get_current_span() is not ended_step.span:
                return  # a later sibling is on top; it unwinds this one when it ends
            del self._attached[id(ended_step.span)]
            try:
                _RUNTIME.detach(token)  # type: ignore[union-attr]
            except (ValueError, RuntimeError):
                return
            entry = self._attached.get(id(trace.get_current_span()))
