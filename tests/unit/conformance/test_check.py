"""The conformance checker itself: it passes a span written by the registry's own rules and
names each kind of violation (so that "0 violations" means something)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from .check import check_spans
from .registry import load

CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": 12,
    "gen_ai.request.temperature": 0.2,
    "gen_ai.input.messages": json.dumps(
        [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    ),
    "openinference.span.kind": "LLM",
    "llm.model_name": "gpt-4o",
    "llm.provider": "openai",
    "ragtel.anything": 1,
}


def _span(
    name: str = "chat gpt-4o",
    attributes: dict | None = None,
    kind: SpanKind = SpanKind.CLIENT,
    error: bool = False,
    event: tuple[str, dict] | None = None,
) -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = provider.get_tracer("t").start_span(name, kind=kind, attributes=attributes or {})
    if event:
        span.add_event(*event)
    if error:
        span.set_status(Status(StatusCode.ERROR, "boom"))
    span.end()
    (finished,) = exporter.get_finished_spans()
    return finished


def test_registry_reads_span_types_and_additions() -> None:
    reg = load()
    assert reg.spans["gen_ai.embeddings.client"].attributes["gen_ai.provider.name"].level == (
        "required"
    )
    assert reg.spans["gen_ai.retrieval.client"].kind == "client"
    assert reg.attribute("gen_ai.prompt.variable.question").template  # type: ignore[union-attr]
    assert reg.attributes["gen_ai.retrieval.top_k"].type == "int"
    assert "aws.bedrock" in reg.attributes["gen_ai.provider.name"].members


def test_a_conformant_span_passes() -> None:
    assert check_spans([_span(attributes=CHAT)]) == []


@pytest.mark.parametrize(
    ("change", "name", "kind", "error", "expected"),
    [
        ({"gen_ai.provider.name": None}, "chat gpt-4o", SpanKind.CLIENT, False,
         "gen_ai.provider.name: required"),
        ({"gen_ai.provider.name": "google_vertexai"}, "chat gpt-4o", SpanKind.CLIENT, False,
         "not a registry member"),
        ({}, "chat gpt-4o", SpanKind.INTERNAL, False, "span.kind"),
        ({}, "RunnableSequence", SpanKind.CLIENT, False, "span.name: expected 'chat gpt-4o'"),
        ({}, "chat gpt-4o", SpanKind.CLIENT, True, "error.type: conditionally required"),
        ({"error.type": "KeyError"}, "chat gpt-4o", SpanKind.CLIENT, False, "did not fail"),
        ({"gen_ai.request.temperature": 1}, "chat gpt-4o", SpanKind.CLIENT, False,
         "expected double"),
        ({"gen_ai.prompt.template": "x"}, "chat gpt-4o", SpanKind.CLIENT, False,
         "not a GenAI registry name"),
        ({"gen_ai.input.messages": '[{"role": "user"}]'}, "chat gpt-4o", SpanKind.CLIENT, False,
         "schema: 'parts' is a required property"),
        ({"llm.provider": "ragtel-local"}, "chat gpt-4o", SpanKind.CLIENT, False,
         "not an OpenInference provider"),
        ({"mystuff.key": "x"}, "chat gpt-4o", SpanKind.CLIENT, False, "neither GenAI"),
        ({"gen_ai.operation.name": None}, "chat gpt-4o", SpanKind.CLIENT, False,
         "gen_ai.operation.name: missing"),
        ({"gen_ai.response.time_to_first_chunk": 0.1}, "chat gpt-4o", SpanKind.CLIENT, False,
         "gen_ai.request.stream: conditionally required"),
    ],
)  # fmt: skip
def test_each_violation_is_named(
    change: dict, name: str, kind: SpanKind, error: bool, expected: str
) -> None:
    attrs = {k: v for k, v in {**CHAT, **change}.items() if v is not None}
    found = [str(v) for v in check_spans([_span(name, attrs, kind, error)])]
    assert any(expected in v for v in found), found


def test_evaluation_event_must_sit_on_the_span_it_evaluates() -> None:
    event = ("gen_ai.evaluation.result", {"gen_ai.evaluation.name": "user_feedback"})
    assert check_spans([_span(attributes=CHAT, event=event)]) == []
    loose = _span("feedback", {"openinference.span.kind": "EVALUATOR"}, SpanKind.INTERNAL,
                  event=event)  # fmt: skip
    found = [str(v) for v in check_spans([loose], genai=True)]
    assert any("not on the GenAI operation span" in v for v in found), found
    unnamed = _span(attributes=CHAT, event=("gen_ai.evaluation.result", {}))
    assert any("gen_ai.evaluation.name required" in str(v) for v in check_spans([unnamed]))


def test_custom_values_of_open_enums_pass_unless_they_spell_a_member() -> None:
    custom = {**CHAT, "gen_ai.provider.name": "ollama"}
    assert check_spans([_span(attributes=custom)]) == []
    for spelling, member in [("amazon_bedrock", "aws.bedrock"), ("azure", "azure.ai")]:
        found = [str(v) for v in check_spans([_span(attributes={**CHAT, "gen_ai.provider.name":
                                                                spelling})])]  # fmt: skip
        assert any(f"spells it {member}" in v for v in found), found


def _child(parent: ReadableSpan, name: str, attributes: dict, event: tuple | None = None) -> Any:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    context = trace.set_span_in_context(trace.NonRecordingSpan(parent.context))
    span = provider.get_tracer("t").start_span(name, context=context, attributes=attributes)
    if event:
        span.add_event(*event)
    span.end()
    (finished,) = exporter.get_finished_spans()
    return finished


def test_a_step_inside_a_run_carries_no_operation_attributes() -> None:
    root = _span(attributes=CHAT)
    step = _child(root, "ChatPromptTemplate", {"openinference.span.kind": "PROMPT",
                                               "gen_ai.prompt.variable.q": "x"})  # fmt: skip
    assert check_spans([root, step]) == []
    leaky = _child(root, "Chain", {"openinference.span.kind": "CHAIN",
                                   "gen_ai.request.model": "m"})  # fmt: skip
    found = [str(v) for v in check_spans([root, leaky])]
    assert found == ["Chain: gen_ai.request.model: on a span with no gen_ai.operation.name"]


def test_evaluation_event_may_sit_on_a_child_of_the_evaluated_span() -> None:
    root = _span(attributes=CHAT)
    event = ("gen_ai.evaluation.result", {"gen_ai.evaluation.name": "user_feedback"})
    feedback = _child(root, "feedback", {"openinference.span.kind": "EVALUATOR"}, event)
    assert check_spans([root, feedback]) == []
    # Alone, with the evaluated span not among the spans, the placement cannot be shown.
    assert any("nor under it" in str(v) for v in check_spans([feedback]))
