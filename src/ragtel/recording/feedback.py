"""``ragtel.record_feedback``: a user's judgement of a run, exported next to the run's own spans."""

from __future__ import annotations

import time

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from ragtel._active import provider as current_provider
from ragtel._active import settings
from ragtel.recording.runs import root_of
from ragtel.recording.text import TextPolicy
from ragtel.semconv import GenAI, OpenInference, SpanKind


def record_feedback(
    trace_id: str | int,
    *,
    span_id: str | int | None = None,
    score: float | None = None,
    label: str | None = None,
    comment: str | None = None,
    name: str = "user_feedback",
    response_id: str | None = None,
) -> None:
    """Export feedback on a trace (``ragtel.last_trace_id()`` gives the one just made).

    The GenAI registry's ``gen_ai.evaluation.result`` event belongs to the span it evaluates, but
    feedback comes after that span ended and an ended span takes no event: so the event is on a
    span named ``feedback`` (OpenInference kind EVALUATOR), a child of the evaluated span —
    ``span_id``, by default the run's root (the workflow or agent span) — which also carries the
    evaluation attributes, for trace viewers that show attributes rather than events.
    ``response_id`` is the model response judged (``gen_ai.response.id``), when known. Raises
    ValueError for a malformed id or when neither score nor label is given.
    """
    trace_int = _parse_id(trace_id, 32, "trace_id")
    remembered = root_of(format(trace_int, "032x"))
    # The provider that recorded the run (instrument(tracer_provider=...) or a handler's own), so
    # the feedback is exported where the run was; else the configured one.
    provider = remembered.provider if remembered is not None else current_provider()
    if span_id is None:
        span_int = _parse_id(remembered.root_span_id, 16, "span_id") if remembered else None
    else:
        span_int = _parse_id(span_id, 16, "span_id")
    if score is None and label is None:
        raise ValueError("record_feedback needs a score, a label, or both")
    attributes: dict[str, str | float] = {GenAI.EVALUATION_NAME: name}
    if score is not None:
        attributes[GenAI.EVALUATION_SCORE_VALUE] = float(score)
    # The label and the comment are user text: the text policy of the run's settings applies (the
    # comment is left out when content capture is off; a label is a category, kept, but redacted
    # and cut).
    active = remembered.settings if remembered is not None else settings()
    policy = TextPolicy(active)
    if label is not None:
        attributes[GenAI.EVALUATION_SCORE_LABEL] = policy.apply(str(label))[0]
    if comment is not None and policy.capture:
        attributes[GenAI.EVALUATION_EXPLANATION] = policy.apply(str(comment))[0]
    event_attributes = dict(attributes)
    if response_id:
        event_attributes[GenAI.RESPONSE_ID] = policy.name(str(response_id))
    if active.openinference:
        attributes[OpenInference.SPAN_KIND] = SpanKind.EVALUATOR
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
    span.add_event(GenAI.EVALUATION_RESULT_EVENT, event_attributes, timestamp=now)
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
