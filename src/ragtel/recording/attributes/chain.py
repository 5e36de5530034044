"""CHAIN steps (OpenInference) / the GenAI workflow at a run's root."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from ragtel.recording.attributes.io import add_io
from ragtel.recording.records import RunContext
from ragtel.semconv import GenAI, OpenInference, Operation
from ragtel.semconv import SpanKind as OIKind

if TYPE_CHECKING:
    from ragtel.recording.recorder import Recorder
    from ragtel.recording.step import Step


def start(
    rec: Recorder, name: str, inputs: Any, parent: Step | None, run: RunContext | None
) -> Step:
    attrs: dict[str, Any] = {}
    if rec.oi:
        attrs[OpenInference.SPAN_KIND] = OIKind.CHAIN
    if rec.genai and parent is None:
        # The run as a whole is the GenAI "workflow"; the chains inside it are plain steps.
        attrs[GenAI.OPERATION_NAME] = Operation.INVOKE_WORKFLOW
        attrs[GenAI.WORKFLOW_NAME] = name
    step = rec.open_step(name, OIKind.CHAIN, SpanKind.INTERNAL, parent, attrs, run)
    add_io(step, OpenInference.INPUT_VALUE, inputs)
    return step


def end(step: Step, outputs: Any) -> None:
    add_io(step, OpenInference.OUTPUT_VALUE, outputs)
    step.finish()
