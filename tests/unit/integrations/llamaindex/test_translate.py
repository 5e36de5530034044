"""LlamaIndex responses and models -> records: token usage with cached tokens counted the way the
GenAI registry counts them, provider spellings, base URLs."""

from __future__ import annotations

from types import SimpleNamespace

from ragtel.demo.llamaindex_app import ExtractiveLLM
from ragtel.integrations.llamaindex import translate as tr


def test_anthropic_like_usage_counts_cached_tokens_into_the_input() -> None:
    raw = {
        "usage": {
            "input_tokens": 20,
            "output_tokens": 5,
            "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 10,
        }
    }
    usage = tr.usage(SimpleNamespace(raw=raw))
    assert usage.input_tokens == 130  # what the registry's gen_ai.usage.input_tokens means
    assert (usage.cache_read_tokens, usage.cache_creation_tokens) == (100, 10)


def test_openai_like_usage_has_cached_tokens_inside_the_prompt_count() -> None:
    raw = {
        "usage": {
            "prompt_tokens": 120,
            "completion_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 100},
        }
    }
    usage = tr.usage(SimpleNamespace(raw=raw))
    assert (usage.input_tokens, usage.cache_read_tokens, usage.cache_creation_tokens) == (
        120,
        100,
        None,
    )


def test_provider_and_endpoint_of_a_model() -> None:
    llm = ExtractiveLLM()
    assert tr.provider(llm) == "ragtel"  # its provider field: no llama_index.llms package
    assert tr.endpoint(llm) is None
