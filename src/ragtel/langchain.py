"""LangChain integration: ``RagtelCallbackHandler`` and ``TracedEmbeddings``."""

from ragtel.integrations.langchain import RagtelCallbackHandler
from ragtel.integrations.langchain_embeddings import TracedEmbeddings

__all__ = ["RagtelCallbackHandler", "TracedEmbeddings"]
