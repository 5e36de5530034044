"""AGENT steps (OpenInference) / GenAI ``invoke_agent``: a model deciding which tools to run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from ragtel.recording.attributes.io import add_io
from ragtel.recording.providers import genai_provider
from ragtel.recording.records import RunContext
from ragtel.semconv import GenAI, OpenInference, Operation
from ragtel.semconv import SpanKind as OIKind

if TYPE_CHECKING:
    from ragtel.recording.recorder import Recorder
    from ragtel.recording.step import Step


def start(
    rec: Recorder,
    name: str,
    inputs: Any,
    parent: Step | None,
    run: RunContext | None,
    provider: str | None = None,
) -> Step:
    attrs: dict[str, Any] = {}
    _stamp(rec, attrs, name)
    if provider and rec.genai:
        attrs[GenAI.PROVIDER_NAME] = genai_provider(provider)
    span_name = f"{Operation.INVOKE_AGENT} {name}" if rec.genai else name
    step = rec.open_step(span_name, OIKind.AGENT, SpanKind.INTERNAL, parent, attrs, run)
    try:
        add_io(step, OpenInference.INPUT_VALUE, inputs)
    except BaseException:  # no hole in the trace: the span ends before the error goes on
        step.abandon()
        raise
    return step


def promote(step: Step, name: str) -> None:
    """Turn an open CHAIN step into the AGENT it turned out to be (a graph that ran tools)."""
    if step.ended or step.kind == OIKind.AGENT:
        return
    rec = step.recorder
    attrs = step.pending
    attrs.pop(GenAI.WORKFLOW_NAME, None)
    _stamp(rec, attrs, name)
    step.kind = OIKind.AGENT
    if rec.genai:
        step.span.update_name(f"{Operation.INVOKE_AGENT} {name}")


def note_provider(step: Step, provider: str | None) -> None:
    """The provider of the agent's model, learned when the model is first called."""
    if provider and step.recorder.genai and not step.ended:
        step.pending.setdefault(GenAI.PROVIDER_NAME, genai_provider(provider))


def _stamp(rec: Recorder, attrs: dict[str, Any], name: str) -> None:
    if rec.oi:
        attrs[OpenInference.SPAN_KIND] = OIKind.AGENT
        attrs[OpenInference.AGENT_NAME] = name
    if rec.genai:
        attrs[GenAI.OPERATION_NAME] = Operation.INVOKE_AGENT
        attrs[GenAI.AGENT_NAME] = name
