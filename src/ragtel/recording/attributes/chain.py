"""CHAIN steps (OpenInference) / the GenAI workflow at a run's root.

A run's root is GenAI's ``invoke_workflow`` span, named ``invoke_workflow {gen_ai.workflow.name}``.
The workflow name is the application's when it gives one (metadata ``workflow_name``: LangChain's
``config={"metadata": ...}``, LlamaIndex's instrument tags, ``ragtel.session(metadata=...)``),
else the root run's name (LangChain's ``run_name``, or its class). Chains inside a run are no GenAI
operation: they carry OpenInference's CHAIN kind and no ``gen_ai.operation.name``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from ragtel.recording.attributes.io import add_io, add_root_message
from ragtel.recording.records import WORKFLOW_KEY, RunContext
from ragtel.recording.session import current_session
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
    span_name = name
    workflow = rec.genai and parent is None
    if workflow:
        workflow_name = rec.policy.name(_workflow_name(run) or name)
        attrs[GenAI.OPERATION_NAME] = Operation.INVOKE_WORKFLOW
        attrs[GenAI.WORKFLOW_NAME] = workflow_name
        span_name = f"{Operation.INVOKE_WORKFLOW} {workflow_name}"
    step = rec.open_step(span_name, OIKind.CHAIN, SpanKind.INTERNAL, parent, attrs, run)
    try:
        if inputs is not None:  # a composition step's are its children's
            text = add_io(step, OpenInference.INPUT_VALUE, inputs)
            if workflow:
                add_root_message(step, GenAI.INPUT_MESSAGES, inputs, text)
    except BaseException:  # no hole in the trace: the span ends before the error goes on
        step.abandon()
        raise
    return step


def end(step: Step, outputs: Any) -> None:
    if outputs is not None:  # a composition step's are its children's
        text = add_io(step, OpenInference.OUTPUT_VALUE, outputs)
        if step.pending.get(GenAI.OPERATION_NAME) == Operation.INVOKE_WORKFLOW:
            add_root_message(step, GenAI.OUTPUT_MESSAGES, outputs, text)
    step.finish()


def add_input(step: Step, inputs: Any) -> None:
    """The input of a run that learned it only at its end (LangChain's streamed runs)."""
    text = add_io(step, OpenInference.INPUT_VALUE, inputs)
    if step.pending.get(GenAI.OPERATION_NAME) == Operation.INVOKE_WORKFLOW:
        add_root_message(step, GenAI.INPUT_MESSAGES, inputs, text)


def _workflow_name(run: RunContext | None) -> str | None:
    if run is not None and run.workflow_name:
        return run.workflow_name
    session = current_session()
    name = (session.metadata or {}).get(WORKFLOW_KEY) if session is not None else None
    return str(name) if name else None
