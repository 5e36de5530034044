"""Framework provider spellings -> the GenAI registry's members and OpenInference's values."""

from __future__ import annotations

import pytest
from openinference.semconv.trace import OpenInferenceLLMProviderValues

from ragtel.recording.providers import (
    genai_provider,
    home_package,
    openinference_provider,
    provider_of_class,
)
from tests.unit.conformance.registry import load

REGISTRY_PROVIDERS = load().attributes["gen_ai.provider.name"].members
OI_PROVIDERS = {p.value for p in OpenInferenceLLMProviderValues}


@pytest.mark.parametrize(
    ("spelling", "genai", "oi"),
    [
        ("google_vertexai", "gcp.vertex_ai", "google"),  # LangChain's ChatVertexAI
        ("amazon_bedrock", "aws.bedrock", "aws"),  # LangChain's ChatBedrock
        ("bedrock_converse", "aws.bedrock", "aws"),  # llama_index.llms.bedrock_converse
        ("azure", "azure.ai.openai", "azure"),  # LangChain's AzureChatOpenAI
        ("azure_inference", "azure.ai.inference", "azure"),
        ("mistralai", "mistral_ai", "mistralai"),
        ("google_genai", "gcp.gen_ai", "google"),
        ("gemini", "gcp.gemini", "google"),
        ("xai", "x_ai", "xai"),
        ("OpenAI", "openai", "openai"),
        ("anthropic", "anthropic", "anthropic"),
        ("ibm", "ibm.watsonx.ai", None),
        ("aws.bedrock", "aws.bedrock", "aws"),  # already the registry's spelling
    ],
)
def test_known_spellings_map_to_both_lists(spelling: str, genai: str, oi: str | None) -> None:
    assert genai_provider(spelling) == genai
    assert genai in REGISTRY_PROVIDERS
    assert openinference_provider(spelling) == oi
    assert oi is None or oi in OI_PROVIDERS


def test_an_unlisted_provider_keeps_its_name_in_genai_and_has_none_in_openinference() -> None:
    assert genai_provider("ollama") == "ollama"
    assert genai_provider("ragtel-local") == "ragtel-local"
    assert openinference_provider("ollama") is None
    assert genai_provider(None) is None and genai_provider("") is None


def _class_in(module: str, name: str, base: type = object) -> type:
    return type(name, (base,), {"__module__": module})


def test_provider_of_a_model_class_is_its_package() -> None:
    assert provider_of_class(_class_in("langchain_openai.embeddings", "OpenAIEmbeddings")) == (
        "openai"
    )
    azure = _class_in("langchain_openai.embeddings.azure", "AzureOpenAIEmbeddings")
    assert provider_of_class(azure) == "azure"
    assert provider_of_class(_class_in("langchain_google_vertexai.x", "E")) == "google_vertexai"
    assert provider_of_class(_class_in("langchain_community.embeddings.bedrock", "B")) == (
        "bedrock"
    )
    assert provider_of_class(_class_in("llama_index.embeddings.bedrock.base", "B")) == "bedrock"
    assert provider_of_class(_class_in("llama_index.llms.mistralai.base", "M")) == "mistralai"
    # A subclass in the application keeps its base's package; a class of its own has none.
    base = _class_in("langchain_mistralai.embeddings", "MistralAIEmbeddings")
    assert provider_of_class(_class_in("myapp.models", "Mine", base)) == "mistralai"
    own = _class_in("myapp.models", "Mine", _class_in("langchain_core.embeddings", "Embeddings"))
    assert provider_of_class(own) is None
    assert home_package(own) == "myapp"
