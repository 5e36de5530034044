"""LangChain adapter: ``handler`` (callback events -> records), ``translate`` (LangChain objects ->
records, pure), ``embeddings`` (``TracedEmbeddings``: LangChain has no embedding callback),
``install`` (what ``ragtel.instrument()`` registers)."""

from ragtel.integrations.langchain.embeddings import TracedEmbeddings
from ragtel.integrations.langchain.handler import RagtelCallbackHandler
from ragtel.integrations.langchain.install import instrument, uninstrument

__all__ = ["RagtelCallbackHandler", "TracedEmbeddings", "instrument", "uninstrument"]
