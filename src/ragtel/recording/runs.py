"""Which traces ragtel started, so that an application can attach feedback to a run it made."""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextvars import ContextVar
from typing import NamedTuple

from opentelemetry.trace import Span, TracerProvider

from ragtel.config import Settings
from ragtel.recording.session import current_session

_MAX_REMEMBERED = 10_000

_last_in_context: ContextVar[str | None] = ContextVar("ragtel_last_trace", default=None)
_lock = threading.Lock()
_last_in_process: str | None = None


class Run(NamedTuple):
    """A run ragtel recorded: its root span, and the provider and settings it was recorded with."""

    root_span_id: str  # hex
    provider: TracerProvider
    settings: Settings


# trace id (hex) -> the run
_roots: OrderedDict[str, Run] = OrderedDict()


def remember_root(span: Span, provider: TracerProvider, settings: Settings) -> None:
    """Called by the recorder for each span that starts a ragtel run."""
    global _last_in_process
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return
    trace_id = format(ctx.trace_id, "032x")
    _last_in_context.set(trace_id)
    session = current_session()
    if session is not None:
        session.trace_ids.append(trace_id)
    with _lock:
        _last_in_process = trace_id
        _roots[trace_id] = Run(format(ctx.span_id, "016x"), provider, settings)
        if len(_roots) > _MAX_REMEMBERED:
            _roots.popitem(last=False)


def last_trace_id() -> str | None:
    """Hex id of the last trace started in this thread or task (else in the process), or None."""
    return _last_in_context.get() or _last_in_process


def root_of(trace_id: str) -> Run | None:
    """The run ragtel recorded in ``trace_id``, if it remembers it."""
    with _lock:
        return _roots.get(trace_id)
