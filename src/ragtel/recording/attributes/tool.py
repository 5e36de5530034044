"""TOOL steps / GenAI ``execute_tool``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from ragtel.recording.attributes.io import add_io
from ragtel.recording.records import RunContext
from ragtel.semconv import GenAI, OpenInference, Operation, ToolType
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
    description: str | None,
    call_id: str | None = None,
) -> Step:
    attrs: dict[str, Any] = {}
    if rec.oi:
        attrs[OpenInference.SPAN_KIND] = OIKind.TOOL
        attrs[OpenInference.TOOL_NAME] = name
        if call_id:
            attrs[OpenInference.TOOL_ID] = call_id
    if rec.genai:
        attrs[GenAI.OPERATION_NAME] = Operation.EXECUTE_TOOL
        attrs[GenAI.TOOL_NAME] = name
        # LangChain and LlamaIndex tools are functions the application runs for the model.
        attrs[GenAI.TOOL_TYPE] = ToolType.FUNCTION
        if call_id:
            # The id the model gave the call: joins this span to the request and the answer.
            attrs[GenAI.TOOL_CALL_ID] = call_id
    span_name = f"{Operation.EXECUTE_TOOL} {name}" if rec.genai else name
    step = rec.open_step(span_name, OIKind.TOOL, SpanKind.INTERNAL, parent, attrs, run)
    try:
        if description and rec.content:
            step.put(
                GenAI.TOOL_DESCRIPTION if rec.genai else OpenInference.TOOL_DESCRIPTION,
                step.text(description),
            )
        add_io(step, OpenInference.INPUT_VALUE, inputs, genai_key=GenAI.TOOL_CALL_ARGUMENTS)
    except BaseException:  # no hole in the trace: the span ends before the error goes on
        step.abandon()
        raise
    return step


def end(step: Step, output: Any) -> None:
    add_io(step, OpenInference.OUTPUT_VALUE, output, genai_key=GenAI.TOOL_CALL_RESULT)
    step.finish()
