"""The handlers LlamaIndex calls, and what ``ragtel.instrument()`` registers."""

from __future__ import annotations

from typing import Any

# Re-exported there without __all__: the public path all the same.
from llama_index.core.instrumentation import Dispatcher, get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.span import BaseSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from pydantic import PrivateAttr

from ragtel._guard import report
from ragtel.config import TraceConfig
from ragtel.integrations.llamaindex.streams import DEFAULT_STREAM_TIMEOUT
from ragtel.integrations.llamaindex.tracker import _Tracker
from ragtel.recording import Recorder, TracerProvider


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
        tracer_provider: TracerProvider | None = None,
        config: TraceConfig | None = None,
        *,
        recorder: Recorder | None = None,
        stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT,
    ) -> None:
        super().__init__()
        if recorder is None:
            recorder = Recorder(tracer_provider, config, framework="llamaindex")
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

    # Each hook's body runs inside try/report (ragtel._guard): nothing raises into LlamaIndex.

    # BaseSpanHandler keeps its own span objects; ragtel keeps steps, so these three are no-ops.
    def new_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def span_enter(
        self,
        id_: str,
        bound_args: Any,
        instance: Any = None,
        parent_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            self._tracker.enter(id_, bound_args, instance, parent_id, tags)
        except Exception as exc:
            report("RagtelSpanHandler.span_enter", exc)

    def span_exit(
        self, id_: str, bound_args: Any, instance: Any = None, result: Any = None, **kwargs: Any
    ) -> None:
        try:
            self._tracker.exit(id_, result)
        except Exception as exc:
            report("RagtelSpanHandler.span_exit", exc)

    def span_drop(
        self,
        id_: str,
        bound_args: Any,
        instance: Any = None,
        err: BaseException | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            self._tracker.drop(id_, err)
        except Exception as exc:
            report("RagtelSpanHandler.span_drop", exc)

    def close(self) -> None:
        try:
            self._tracker.close()
        except Exception as exc:
            report("RagtelSpanHandler.close", exc)


class RagtelEventHandler(BaseEventHandler):
    """The event half of ``RagtelSpanHandler`` (prompts, generations, embeddings)."""

    _tracker: _Tracker = PrivateAttr()

    def __init__(self, tracker: _Tracker) -> None:
        super().__init__()
        self._tracker = tracker

    @classmethod
    def class_name(cls) -> str:
        return "RagtelEventHandler"

    def handle(self, event: Any, **kwargs: Any) -> None:
        try:
            self._tracker.event(event)
        except Exception as exc:
            report("RagtelEventHandler.handle", exc)


# -- what ragtel.instrument() calls ----------------------------------------------------------------


def instrument(
    tracer_provider: TracerProvider | None = None,
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
