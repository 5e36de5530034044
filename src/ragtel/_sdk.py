"""Every access to a private field of the OpenTelemetry SDK or API, each with a public fallback.

ragtel reads or writes four things the SDK does not publish; when a future SDK moves them, the
fallback keeps ragtel correct (if slower, or less precise) and this is the one file to update.
"""

from __future__ import annotations

import os
from contextlib import suppress
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.trace import Span, Tracer

_DEFAULT_ATTRIBUTE_COUNT = 128  # the SDK's default when no limit is configured

try:  # the runtime context behind context.attach/detach; detach() logs loudly on misuse
    from opentelemetry.context import _RUNTIME_CONTEXT

    _RUNTIME: Any = _RUNTIME_CONTEXT
except ImportError:  # pragma: no cover - older or future API layouts
    _RUNTIME = None


def span_limits(tracer: Tracer) -> tuple[int, int | None]:
    """(attributes per span, characters per value or None) that ``tracer``'s spans keep.

    Private: ``Tracer._span_limits``. Fallback: the ``OTEL_*`` limit variables, else the defaults.
    """
    limits = getattr(tracer, "_span_limits", None)
    if limits is not None:
        count = getattr(limits, "max_span_attributes", None) or _DEFAULT_ATTRIBUTE_COUNT
        return int(count), getattr(limits, "max_attribute_length", None)
    env = os.environ
    raw_count = env.get("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT") or env.get("OTEL_ATTRIBUTE_COUNT_LIMIT")
    raw_length = env.get("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT") or env.get(
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"
    )
    count = int(raw_count) if raw_count and raw_count.isdigit() else _DEFAULT_ATTRIBUTE_COUNT
    length = int(raw_length) if raw_length and raw_length.isdigit() else None
    return count, length


def write_attributes(span: Span, attrs: dict[str, Any]) -> None:
    """``span.set_attributes(attrs)``, minus the SDK re-validating what the recorder built.

    Everything the recorder writes is already a valid attribute value that fits the span's limits
    (it budgets both), so on an SDK span with no value-length limit the values go straight into
    the span's attribute store, under the span's lock. This halves the cost of ending a span with
    documents on it. Private: ``Span._attributes`` (a ``BoundedAttributes``), ``Span._lock``,
    ``Span._end_time``. Fallback: ``span.set_attributes``.
    """
    try:
        bounded = span._attributes  # type: ignore[attr-defined]
        store = bounded._dict
        lock = span._lock  # type: ignore[attr-defined]
        maxlen = bounded.maxlen
        direct = bounded.max_value_len is None and not bounded._immutable
    except AttributeError:  # not an SDK span, or an SDK that changed: the public path
        direct = False
    if not direct or (maxlen is not None and len(store) + len(attrs) > maxlen):
        span.set_attributes(attrs)
        return
    # The SDK stores sequences as tuples; readers expect that. Most spans hold no list: looked
    # for in one pass in C before any Python loop.
    if list in map(type, attrs.values()):
        for key, value in attrs.items():
            if type(value) is list:
                attrs[key] = tuple(value)
    with lock:
        if span._end_time is None:  # type: ignore[attr-defined]
            store.update(attrs)


def can_detach() -> bool:
    """False when the API has no runtime context to detach from (then nothing is attached)."""
    return _RUNTIME is not None


def detach_quietly(token: Any) -> None:
    """Detach ``token``; silent when it was created in another context (it unwinds there).

    Private: ``opentelemetry.context._RUNTIME_CONTEXT``: the public ``detach`` logs an error for a
    token of another context, which is normal here (LlamaIndex may exit a span in a copied
    context). Fallback: the public ``detach``.
    """
    if _RUNTIME is None:
        otel_context.detach(token)
        return
    with suppress(ValueError, RuntimeError):
        _RUNTIME.detach(token)


def batch_queue_full(processor: Any) -> bool:
    """True when a ``BatchSpanProcessor``'s queue is full (its next span will be dropped).

    Private: ``BatchSpanProcessor._batch_processor._queue`` / ``._max_queue_size``. Fallback:
    False (the drop is then only logged by the SDK, not counted).
    """
    batch = getattr(processor, "_batch_processor", None)
    queue = getattr(batch, "_queue", None)
    if queue is None:
        return False
    return len(queue) >= getattr(batch, "_max_queue_size", 1 << 62)


def shutdown_batch(processor: Any, timeout_seconds: float) -> bool:
    """Shut a ``BatchSpanProcessor`` down within ``timeout_seconds``; False if it cannot be bounded.

    Private: ``BatchSpanProcessor._batch_processor.shutdown(timeout_millis=...)`` (the public
    ``shutdown()`` waits the SDK's 30 s per processor when the endpoint does not answer).
    Fallback: False, and the caller uses the public ``shutdown()``.
    """
    batch = getattr(processor, "_batch_processor", None)
    shutdown = getattr(batch, "shutdown", None)
    if shutdown is None:
        return False
    try:
        shutdown(timeout_millis=timeout_seconds * 1000)
    except TypeError:  # an SDK whose batch processor takes no timeout
        return False
    return True
