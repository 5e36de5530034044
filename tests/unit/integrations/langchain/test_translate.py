"""LangChain results and model settings -> records: the provider's response id, cache tokens and
base URL, as provider packages put them on their messages and constructors."""

from __future__ import annotations

from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from ragtel.integrations.langchain import translate as tr


def test_response_id_and_cache_tokens_from_the_message() -> None:
    message = AIMessage(
        content="ok",
        response_metadata={"id": "chatcmpl-9", "model_name": "gpt-x", "finish_reason": "stop"},
        usage_metadata={
            "input_tokens": 120,
            "output_tokens": 5,
            "total_tokens": 125,
            "input_token_details": {"cache_read": 100, "cache_creation": 10},
        },
    )
    result = tr.generation_result(LLMResult(generations=[[ChatGeneration(message=message)]]))
    assert result.response_id == "chatcmpl-9" and result.response_model == "gpt-x"
    assert result.usage.input_tokens == 120
    assert (result.usage.cache_read_tokens, result.usage.cache_creation_tokens) == (100, 10)
    assert result.finish_reasons == ["stop"]


def test_endpoint_from_invocation_parameters_or_constructor_arguments() -> None:
    assert tr.endpoint({"base_url": "http://127.0.0.1:11434"}, None) == "http://127.0.0.1:11434"
    serialized = {"kwargs": {"openai_api_base": "https://proxy.example/v1"}}
    assert tr.endpoint({}, serialized) == "https://proxy.example/v1"
    assert tr.endpoint({"model": "m"}, {"kwargs": {}}) is None
