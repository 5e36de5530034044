"""What a LlamaIndex dispatcher span is to ragtel, decided once per (class, method)."""

from __future__ import annotations

from typing import Final

from llama_index.core.agent.workflow import AgentWorkflow
from llama_index.core.agent.workflow.base_agent import BaseWorkflowAgent
from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.chat_engine.types import BaseChatEngine
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.response_synthesizers.base import BaseSynthesizer
from llama_index.core.tools.types import BaseTool
from llama_index.core.workflow import Workflow

_CHAIN: Final = "chain"
_RETRIEVER: Final = "retriever"
_TOOL: Final = "tool"
_AGENT: Final = "agent"  # Workflow.run of an agent: the root of everything it does
_WORKFLOW: Final = "workflow"  # Workflow.run of any other workflow
_LLM: Final = "llm"  # chat/complete and their variants: events make the generation
_PREDICT: Final = "predict"  # predict/stream: events make the prompt
_EMBED_QUERY: Final = "embed_query"
_EMBED_TEXT: Final = "embed_text"
_EMBED_BATCH: Final = "embed_batch"
_EMBED_ABATCH: Final = "embed_abatch"
_SPAN_DRIVEN: Final = frozenset({_CHAIN, _RETRIEVER, _TOOL, _AGENT, _WORKFLOW})
# A workflow's run() returns at once and its end is reported from the workflow's own task: its
# span is never made current (it would stay current in the caller's context after the run).
_UNSCOPED: Final = frozenset({_AGENT, _WORKFLOW})
_STREAMING_KINDS: Final = frozenset(
    {_LLM, _PREDICT, _EMBED_QUERY, _EMBED_TEXT, _EMBED_BATCH, _EMBED_ABATCH}
)
_UUID_SUFFIX: Final = 37  # "-" + str(uuid4()): the dispatcher's span ids end with it

_LLM_CALLS: Final = frozenset(
    {
        "chat",
        "achat",
        "stream_chat",
        "astream_chat",
        "complete",
        "acomplete",
        "stream_complete",
        "astream_complete",
    }
)
_PREDICTS: Final = frozenset({"predict", "apredict", "stream", "astream"})
_EMBEDDINGS: Final = {
    "get_query_embedding": _EMBED_QUERY,
    "aget_query_embedding": _EMBED_QUERY,
    "get_text_embedding": _EMBED_TEXT,
    "aget_text_embedding": _EMBED_TEXT,
    "get_text_embedding_batch": _EMBED_BATCH,
    "aget_text_embedding_batch": _EMBED_ABATCH,
}
_STEP_METHODS: Final[tuple[tuple[type, frozenset[str], str], ...]] = (
    (BaseRetriever, frozenset({"retrieve", "aretrieve"}), _RETRIEVER),
    (BaseQueryEngine, frozenset({"query", "aquery"}), _CHAIN),
    (BaseSynthesizer, frozenset({"synthesize", "asynthesize"}), _CHAIN),
    (BaseChatEngine, frozenset({"chat", "achat", "stream_chat", "astream_chat"}), _CHAIN),
    (BaseNodePostprocessor, frozenset({"_postprocess_nodes", "_apostprocess_nodes"}), _CHAIN),
    (BaseTool, frozenset({"__call__", "call", "acall"}), _TOOL),
)


def _classify(cls: type, method: str) -> str | None:
    if method == "run" and issubclass(cls, Workflow):
        return _AGENT if issubclass(cls, (BaseWorkflowAgent, AgentWorkflow)) else _WORKFLOW
    if issubclass(cls, BaseLLM):
        if method in _LLM_CALLS:
            return _LLM
        return _PREDICT if method in _PREDICTS else None
    if issubclass(cls, BaseEmbedding):
        return _EMBEDDINGS.get(method)
    for base, methods, kind in _STEP_METHODS:
        if method in methods and issubclass(cls, base):
            return kind
    return None
