"""PROMPT steps: the template as written, its variables, and the rendered messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from ragtel.recording.attributes.io import add_messages, join_templates, render_messages
from ragtel.recording.encode import to_json
from ragtel.recording.records import Message, PromptTemplate, RunContext
from ragtel.semconv import GenAI, OpenInference, Ragtel
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
        Ragtel.PROMPT_VARIABLE_NAMES: sorted(str(k) for k in template.variables) or [""],
    }
    if rec.oi:
        attrs[OpenInference.SPAN_KIND] = OIKind.PROMPT
    if template.version:
        attrs[OpenInference.PROMPT_TEMPLATE_VERSION] = template.version
    step = rec.open_step(name, OIKind.PROMPT, SpanKind.INTERNAL, parent, attrs, run)
    step.template = template
    if rec.content:
        text = step.text(join_templates(template.messages))
        vars_json = step.text(to_json(template.variables))
        if rec.oi:
            step.put(OpenInference.PROMPT_TEMPLATE, text)
            step.put(OpenInference.PROMPT_TEMPLATE_VARIABLES, vars_json)
            step.put(OpenInference.INPUT_VALUE, vars_json)
        if rec.genai:
            step.put(
                GenAI.PROMPT_TEMPLATE,
                step.text(to_json([{"role": r, "template": t} for r, t in template.messages])),
            )
            step.put(GenAI.PROMPT_VARIABLES, vars_json)
    return step


def end(step: Step, messages: Sequence[Message]) -> None:
    rec = step.recorder
    if rec.content and messages:
        if rec.oi:
            step.put(OpenInference.OUTPUT_VALUE, step.text(render_messages(messages)))
        elif rec.genai:
            # With OpenInference on, output.value carries the rendering; the LLM span that
            # follows has the same messages as gen_ai.input.messages: one copy is enough.
            add_messages(step, OpenInference.LLM_INPUT_MESSAGES, GenAI.INPUT_MESSAGES, messages)
    step.finish()
