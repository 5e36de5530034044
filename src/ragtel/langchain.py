"""LangChain integration: ``RagtelCallbackHandler`` and ``TracedEmbeddings``."""

from ragtel.integrations.langchain import RagtelCallbackHandler, TracedEmbeddings

__all__ = ["RagtelCallbackHandler", "TracedEmbeddings"]
