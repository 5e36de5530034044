"""LLM steps / GenAI ``chat`` and ``text_completion``: model, parameters, messages, usage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.trace import SpanKind

from ragtel import _stats
from ragtel.recording.attributes.io import (
    TEXT_MIME,
    add_messages,
    add_tool_definitions,
    join_templates,
)
from ragtel.recording.encode import to_json
from ragtel.recording.records import Message, PromptTemplate, RunContext, ToolDefinition, Usage
from ragtel.semconv import GenAI, OpenInference, Ragtel
from ragtel.semconv import SpanKind as OIKind

if TYPE_CHECKING:
    from ragtel.recording.recorder import Recorder
    from ragtel.recording.step import Step

_GENAI_REQUEST_PARAMS: Final = {
    "temperature": GenAI.REQUEST_TEMPERATURE,
    "max_tokens": GenAI.REQUEST_MAX_TOKENS,
    "max_completion_tokens": GenAI.REQUEST_MAX_TOKENS,
    "max_new_tokens": GenAI.REQUEST_MAX_TOKENS,
    "top_p": GenAI.REQUEST_TOP_P,
    "top_k": GenAI.REQUEST_TOP_K,
    "stream": GenAI.REQUEST_STREAM,
    "streaming": GenAI.REQUEST_STREAM,
}
TIME_TO_FIRST_TOKEN: Final = "ragtel.llm.time_to_first_token"


def start(
    rec: Recorder,
    name: str,
    parent: Step | None,
    run: RunContext | None,
    *,
    model: str | None,
    provider: str | None,
    params: Mapping[str, Any] | None,
    messages: Sequence[Message],
    operation: str,
    template: PromptTemplate | None,
    tools: Sequence[ToolDefinition] = (),
) -> Step:
    attrs: dict[str, Any] = {}
    clean_params = rec.policy.params(params) if params else None
    if rec.oi:
        attrs[OpenInference.SPAN_KIND] = OIKind.LLM
        if model:
            attrs[OpenInference.LLM_MODEL_NAME] = model
        if provider:
            attrs[OpenInference.LLM_PROVIDER] = provider
        if clean_params:
            attrs[OpenInference.LLM_INVOCATION_PARAMETERS] = to_json(clean_params)
    if rec.genai:
        attrs[GenAI.OPERATION_NAME] = operation
        if model:
            attrs[GenAI.REQUEST_MODEL] = model
        if provider:
            attrs[GenAI.PROVIDER_NAME] = provider
        if clean_params:
            _request_params(clean_params, attrs)
    span_name = f"{operation} {model}" if rec.genai and model else name
    step = rec.open_step(span_name, OIKind.LLM, SpanKind.CLIENT, parent, attrs, run)
    if template is not None and rec.content and rec.oi:
        # Phoenix builds its Prompt Template section from these keys on the LLM span.
        step.put(OpenInference.PROMPT_TEMPLATE, step.text(join_templates(template.messages)))
        step.put(OpenInference.PROMPT_TEMPLATE_VARIABLES, step.text(to_json(template.variables)))
        if template.version:
            step.put(OpenInference.PROMPT_TEMPLATE_VERSION, step.text(template.version))
    if messages:
        add_messages(step, OpenInference.LLM_INPUT_MESSAGES, GenAI.INPUT_MESSAGES, messages)
    if tools:
        add_tool_definitions(step, tools)
    return step


def end(
    step: Step,
    outputs: Sequence[Message],
    *,
    usage: Usage | None,
    finish_reasons: Sequence[str],
    response_model: str | None,
    response_id: str | None,
    abandoned: str | None,
) -> None:
    rec = step.recorder
    attrs = step.pending
    if abandoned is not None:
        attrs[Ragtel.STREAM_ABANDONED] = abandoned
        _stats.add("streams_abandoned")
    if usage:
        if rec.oi:
            _set_if(attrs, OpenInference.LLM_TOKEN_COUNT_PROMPT, usage.input_tokens)
            _set_if(attrs, OpenInference.LLM_TOKEN_COUNT_COMPLETION, usage.output_tokens)
            total = usage.total_tokens
            if total is None and usage.input_tokens is not None and usage.output_tokens is not None:
                total = usage.input_tokens + usage.output_tokens
            _set_if(attrs, OpenInference.LLM_TOKEN_COUNT_TOTAL, total)
        if rec.genai:
            _set_if(attrs, GenAI.USAGE_INPUT_TOKENS, usage.input_tokens)
            _set_if(attrs, GenAI.USAGE_OUTPUT_TOKENS, usage.output_tokens)
    if rec.genai:
        if finish_reasons:
            attrs[GenAI.RESPONSE_FINISH_REASONS] = list(finish_reasons)
        _set_if(attrs, GenAI.RESPONSE_MODEL, response_model)
        _set_if(attrs, GenAI.RESPONSE_ID, response_id)
        if step.first_token_ns is not None:
            attrs[GenAI.RESPONSE_TIME_TO_FIRST_CHUNK] = step.seconds_to_first_token()
    elif step.first_token_ns is not None:
        attrs[TIME_TO_FIRST_TOKEN] = step.seconds_to_first_token()
    if outputs:
        finish = finish_reasons[0] if finish_reasons else None
        add_messages(
            step,
            OpenInference.LLM_OUTPUT_MESSAGES,
            GenAI.OUTPUT_MESSAGES,
            outputs,
            finish_reason=finish,
        )
        answer = step.text(outputs[-1].content) if rec.oi else None
        if step.put(OpenInference.OUTPUT_VALUE, answer):
            # Phoenix labels an answer without a type as JSON.
            step.put(OpenInference.OUTPUT_MIME_TYPE, TEXT_MIME)
    step.finish()


def _request_params(params: Mapping[str, Any], attrs: dict[str, Any]) -> None:
    for key, value in params.items():
        name = _GENAI_REQUEST_PARAMS.get(key)
        if name is not None and isinstance(value, (int, float, bool)):
            attrs[name] = value


def _set_if(attrs: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        attrs[key] = value
