"""``ragtel.record_feedback``: a user's judgement of a run, exported next to the run's own spans."""

from __future__ import annotations

import time

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from ragtel._active import provider as current_provider
from ragtel._active import settings
from ragtel.recording.runs import root_of
from ragtel.recording.text import TextPolicy
from ragtel.semconv import GenAI

EVALUATION_EVENT = "gen_ai.evaluation.result"


def record_feedback(
    trace_id: str | int,
    *,
    span_id: str | int | None = None,
    score: float | None = None,
    label: str | None = None,
    comment: str | None = None,
    name: str = "user_feedback",
) -> None:
    """Export feedback on a trace (``ragtel.last_trace_id()`` gives the one just made).

    The feedback becomes a span named ``feedback`` inside the judged trace, a child of ``span_id``
    (default: the run's root span), carrying the GenAI evaluation attributes. Raises ValueError for
    a malformed id or when neither score nor label is given.
    """
    trace_int = _parse_id(trace_id, 32, "trace_id")
    remembered = root_of(format(trace_int, "032x"))
    # The provider that recorded the run (instrument(tracer_provider=...) or a handler's own), so
    # the feedback is exported where the run was; else the configured one.
    provider = remembered[1] if remembered is not None else current_provider()
    if span_id is None:
        span_int = _parse_id(remembered[0], 16, "span_id") if remembered else None
    else:
        span_int = _parse_id(span_id, 16, "span_id")
    if score is None and label is None:
        raise ValueError("record_feedback needs a score, a label, or both")
    attributes: dict[str, str | float] = {GenAI.EVALUATION_NAME: name}
    if score is not None:
        attributes[GenAI.EVALUATION_SCORE_VALUE] = float(score)
    # The label and the comment are user text: the text policy applies (the comment is left out
    # when content capture is off; a label is a category, kept, but redacted and cut).
    policy = TextPolicy(settings())
    if label is not None:
        attributes[GenAI.EVALUATION_SCORE_LABEL] = policy.apply(str(label))[0]
    if comment is not None and policy.capture:
        attributes[GenAI.EVALUATION_EXPLANATION] = policy.apply(str(comment))[0]
    parent_ctx = SpanContext(
        trace_id=trace_int,
        # Unknown root: a remote parent with the trace's id keeps the feedback in that trace.
        span_id=span_int or (trace_int & 0xFFFFFFFFFFFFFFFF) or 1,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    tracer = trace.get_tracer("ragtel.feedback", tracer_provider=provider)
    now = time.time_ns()
    span = tracer.start_span(
        "feedback",
        context=trace.set_span_in_context(NonRecordingSpan(parent_ctx)),
        attributes=attributes,
        start_time=now,
    )
    span.add_event(EVALUATION_EVENT, attributes, timestamp=now)
    span.end(end_time=now)


def _parse_id(value: str | int, hex_digits: int, what: str) -> int:
    if isinstance(value, int):
        number = value
    else:
        try:
            number = int(value.removeprefix("0x"), 16)
        except ValueError:
            raise ValueError(f"{what} {value!r} is not hexadecimal") from None
    if not 0 < number < 16**hex_digits:
        raise ValueError(f"{what} {value!r} is not a valid {hex_digits}-digit id")
    return number
