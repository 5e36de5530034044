"""PROMPT steps: the template as written, its variables, and the rendered messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from ragtel.recording.attributes.io import (
    render_messages,
    template_json,
    template_text,
    variables_json,
)
from ragtel.recording.encode import to_text
from ragtel.recording.records import Message, PromptTemplate, RunContext
from ragtel.semconv import GenAI, OpenInference, Ragtel, prompt_variable
from ragtel.semconv import SpanKind as OIKind

if TYPE_CHECKING:
    from ragtel.recording.recorder import Recorder
    from ragtel.recording.step import Step


def start(
    rec: Recorder,
    name: str,
    template: PromptTemplate,
    parent: Step | None,
    run: RunContext | None,
) -> Step:
    attrs: dict[str, Any] = {
        Ragtel.PROMPT_MESSAGES_COUNT: len(template.messages),
        # Tuples, as the SDK stores sequences: the span's write then converts nothing.
        Ragtel.PROMPT_VARIABLE_NAMES: tuple(sorted(map(str, template.variables))) or ("",),
    }
    if rec.oi:
        attrs[OpenInference.SPAN_KIND] = OIKind.PROMPT
    if template.version:
        if rec.oi:
            attrs[OpenInference.PROMPT_TEMPLATE_VERSION] = template.version
        if rec.genai:
            attrs[GenAI.PROMPT_VERSION] = template.version
    step = rec.open_step(name, OIKind.PROMPT, SpanKind.INTERNAL, parent, attrs, run)
    try:
        step.template = template
        if rec.content:
            vars_json = step.text(variables_json(template))
            if rec.oi:
                step.put(OpenInference.PROMPT_TEMPLATE, step.lasting_text(template_text(template)))
                step.put(OpenInference.PROMPT_TEMPLATE_VARIABLES, vars_json)
                step.put(OpenInference.INPUT_VALUE, vars_json)
            if rec.genai:
                # The registry names each variable (gen_ai.prompt.variable.<name>) but not the
                # template: a chat template's messages, role by role, go under ragtel.
                step.put(Ragtel.PROMPT_TEMPLATE, step.lasting_text(template_json(template)))
                for key, value in template.variables.items():
                    step.put(prompt_variable(str(key)), step.text(to_text(value)))
    except BaseException:  # no hole in the trace: the span ends before the error goes on
        step.abandon()
        raise
    return step


def end(step: Step, messages: Sequence[Message]) -> None:
    rec = step.recorder
    if rec.content and messages and rec.oi:
        step.put(OpenInference.OUTPUT_VALUE, step.text(render_messages(messages)))
    # GenAI has no name for a rendering outside a model call: the chat span that follows holds
    # the same messages (gen_ai.input.messages), so a GenAI-only prompt span has none.
    step.finish()
