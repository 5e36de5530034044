"""Provider names: what frameworks call a model's provider -> what each convention calls it.

LangChain models say ``ls_provider`` (``google_vertexai``, ``amazon_bedrock``, ``azure``,
``mistralai``); LlamaIndex models live in ``llama_index.llms.<package>``; the GenAI registry's
``gen_ai.provider.name`` lists ``gcp.vertex_ai``, ``aws.bedrock``, ``azure.ai.openai``,
``mistral_ai``...; OpenInference's ``llm.provider`` lists ``google``, ``aws``, ``azure``,
``mistralai``. One table maps every spelling to both. The registry's list is open: a provider it
does not name keeps the framework's spelling (a custom value). OpenInference's list is closed for
Phoenix's purposes, so an unknown provider writes no ``llm.provider``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

# spelling (lower case, "-" as "_") -> (gen_ai.provider.name, llm.provider or None)
_OPENAI: Final = ("openai", "openai")
_AZURE_OPENAI: Final = ("azure.ai.openai", "azure")
_AZURE_INFERENCE: Final = ("azure.ai.inference", "azure")
_VERTEX: Final = ("gcp.vertex_ai", "google")
_GEMINI: Final = ("gcp.gemini", "google")
_GOOGLE: Final = ("gcp.gen_ai", "google")  # the backend (Gemini API or Vertex) is not known
_BEDROCK: Final = ("aws.bedrock", "aws")
_MISTRAL: Final = ("mistral_ai", "mistralai")
_TABLE: Final[dict[str, tuple[str, str | None]]] = {
    "openai": _OPENAI,
    "openai_like": _OPENAI,
    # LangChain's AzureChatOpenAI says "azure"; LlamaIndex has azure_openai and azure_inference.
    "azure": _AZURE_OPENAI,
    "azure_openai": _AZURE_OPENAI,
    "azure.ai.openai": _AZURE_OPENAI,
    "azure_ai": _AZURE_INFERENCE,
    "azure_inference": _AZURE_INFERENCE,
    "azure_ai_inference": _AZURE_INFERENCE,
    "azure.ai.inference": _AZURE_INFERENCE,
    "anthropic": ("anthropic", "anthropic"),
    "google_vertexai": _VERTEX,
    "vertexai": _VERTEX,
    "vertex": _VERTEX,
    "gcp.vertex_ai": _VERTEX,
    "gemini": _GEMINI,
    "gcp.gemini": _GEMINI,
    "google_genai": _GOOGLE,
    "google": _GOOGLE,
    "gcp.gen_ai": _GOOGLE,
    "amazon_bedrock": _BEDROCK,
    "bedrock": _BEDROCK,
    "bedrock_converse": _BEDROCK,
    "aws": _BEDROCK,
    "aws.bedrock": _BEDROCK,
    "mistralai": _MISTRAL,
    "mistral": _MISTRAL,
    "mistral_ai": _MISTRAL,
    "cohere": ("cohere", "cohere"),
    "groq": ("groq", None),
    "deepseek": ("deepseek", "deepseek"),
    "xai": ("x_ai", "xai"),
    "x_ai": ("x_ai", "xai"),
    "perplexity": ("perplexity", None),
    "ibm": ("ibm.watsonx.ai", None),
    "watsonx": ("ibm.watsonx.ai", None),
    "ibm.watsonx.ai": ("ibm.watsonx.ai", None),
}
_FRAMEWORK_PACKAGES: Final = ("langchain_", "llama_index.llms.", "llama_index.embeddings.")

UNKNOWN_PROVIDER: Final = "unknown"
"""``gen_ai.provider.name`` of a model whose provider nothing says (the attribute is required)."""


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


@lru_cache(maxsize=256)
def genai_provider(name: str | None) -> str | None:
    """``gen_ai.provider.name`` for a framework's provider spelling (a custom value if the
    registry names no such provider)."""
    if not name:
        return None
    found = _TABLE.get(_key(name))
    return found[0] if found is not None else name


@lru_cache(maxsize=256)
def openinference_provider(name: str | None) -> str | None:
    """``llm.provider`` for a framework's provider spelling; None when OpenInference has none."""
    if not name:
        return None
    found = _TABLE.get(_key(name))
    return found[1] if found is not None else None


def provider_of_class(cls: type) -> str | None:
    """The provider spelling of a model class from a framework's provider package, else None.

    ``langchain_google_vertexai.…`` -> ``google_vertexai``, ``llama_index.embeddings.bedrock…``
    -> ``bedrock``, ``langchain_openai``'s ``Azure*`` classes -> ``azure``.
    """
    for klass in cls.__mro__:
        module = getattr(klass, "__module__", "") or ""
        if module.startswith("langchain_core"):
            continue
        for prefix in _FRAMEWORK_PACKAGES:
            if module.startswith(prefix):
                package = module[len(prefix) :].partition(".")[0]
                if package == "openai" and klass.__name__.startswith("Azure"):
                    return "azure"
                if package == "community":  # langchain_community.embeddings.<provider>
                    return module.rsplit(".", 1)[-1]
                return package
    return None


def home_package(cls: type) -> str:
    """The top-level package of a class: the provider of a model the application wrote itself
    (the registry requires a provider on every model span)."""
    return (getattr(cls, "__module__", "") or "unknown").partition(".")[0]
