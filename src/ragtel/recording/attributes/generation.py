"""LLM steps / GenAI ``chat`` and ``text_completion``: model, parameters, messages, usage."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.trace import SpanKind

from ragtel import _stats
from ragtel.recording.attributes.io import (
    TEXT_MIME,
    add_messages,
    add_tool_definitions,
    template_text,
    variables_json,
)
from ragtel.recording.attributes.server import add_server
from ragtel.recording.encode import to_json
from ragtel.recording.providers import UNKNOWN_PROVIDER, genai_provider, openinference_provider
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
    "seed": GenAI.REQUEST_SEED,
    "frequency_penalty": GenAI.REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": GenAI.REQUEST_PRESENCE_PENALTY,
}
_INT_PARAMS: Final = frozenset({GenAI.REQUEST_MAX_TOKENS, GenAI.REQUEST_SEED})
# Set only when true: the registry reads an absent gen_ai.request.stream as "not streamed".
_STREAM_PARAMS: Final = ("stream", "streaming")
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
    endpoint: str | None = None,
) -> Step:
    attrs: dict[str, Any] = {}
    clean_params = rec.policy.params(params) if params else None
    if rec.oi:
        attrs[OpenInference.SPAN_KIND] = OIKind.LLM
        if model:
            attrs[OpenInference.LLM_MODEL_NAME] = model
        oi_provider = openinference_provider(provider)
        if oi_provider:
            attrs[OpenInference.LLM_PROVIDER] = oi_provider
        if clean_params:
            attrs[OpenInference.LLM_INVOCATION_PARAMETERS] = to_json(clean_params)
    if rec.genai:
        attrs[GenAI.OPERATION_NAME] = operation
        if model:
            attrs[GenAI.REQUEST_MODEL] = model
        attrs[GenAI.PROVIDER_NAME] = genai_provider(provider) or UNKNOWN_PROVIDER
        if clean_params:
            _request_params(clean_params, attrs)
        if endpoint:
            add_server(attrs, endpoint)
    span_name = f"{operation} {model}" if rec.genai and model else name
    step = rec.open_step(span_name, OIKind.LLM, SpanKind.CLIENT, parent, attrs, run)
    try:
        if template is not None and rec.content and rec.oi:
            # Phoenix builds its Prompt Template section from these keys on the LLM span.
            step.put(OpenInference.PROMPT_TEMPLATE, step.lasting_text(template_text(template)))
            step.put(OpenInference.PROMPT_TEMPLATE_VARIABLES, step.text(variables_json(template)))
            if template.version:
                step.put(OpenInference.PROMPT_TEMPLATE_VERSION, step.text(template.version))
        if messages:
            add_messages(step, OpenInference.LLM_INPUT_MESSAGES, GenAI.INPUT_MESSAGES, messages)
        if tools:
            add_tool_definitions(step, tools)
    except BaseException:  # no hole in the trace: the span ends before the error goes on
        step.abandon()
        raise
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
            _set_if(attrs, GenAI.USAGE_CACHE_READ_INPUT_TOKENS, usage.cache_read_tokens)
            _set_if(attrs, GenAI.USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cache_creation_tokens)
    if rec.genai:
        if finish_reasons:
            attrs[GenAI.RESPONSE_FINISH_REASONS] = tuple(finish_reasons)
        _set_if(attrs, GenAI.RESPONSE_MODEL, response_model)
        _set_if(attrs, GenAI.RESPONSE_ID, response_id)
        if step.first_token_ns is not None:
            attrs[GenAI.RESPONSE_TIME_TO_FIRST_CHUNK] = step.seconds_to_first_token()
            attrs[GenAI.REQUEST_STREAM] = True
    elif step.first_token_ns is not None:
        attrs[TIME_TO_FIRST_TOKEN] = step.seconds_to_first_token()
    if outputs:
        # The schema requires a finish reason on each output message: "stop" for an answer that
        # completed without the model naming one, the reason it stopped early for a stream.
        finish = finish_reasons[0] if finish_reasons else (abandoned or "stop")
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
        if name is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not math.isfinite(value):
            continue
        # The registry types token counts and the seed as ints, the sampling settings (top_k
        # too) as doubles.
        attrs[name] = int(value) if name in _INT_PARAMS else float(value)
    if any(params.get(key) is True for key in _STREAM_PARAMS):
        attrs[GenAI.REQUEST_STREAM] = True


def _set_if(attrs: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        attrs[key] = value
