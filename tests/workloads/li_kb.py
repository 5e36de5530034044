"""The knowledge base the LlamaIndex workloads search: the demo corpus in a vector index."""

from __future__ import annotations

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.tools import QueryEngineTool

from ragtel.demo.corpus import DOCUMENTS
from ragtel.demo.llamaindex_app import HashEmbedding
from tests.workloads.li_models import FunctionCallingFakeLLM

TOOL = "search_docs"
TOOL_DESCRIPTION = "Search the Acme Cloud documentation."


def documents() -> list[Document]:
    return [Document(text=text, id_=doc_id, metadata=meta) for doc_id, text, meta in DOCUMENTS]


def index() -> VectorStoreIndex:
    # One node per document (they are one sentence or two), keeping the corpus's ids.
    from llama_index.core.schema import TextNode

    nodes = [TextNode(text=text, id_=doc_id, metadata=meta) for doc_id, text, meta in DOCUMENTS]
    return VectorStoreIndex(nodes, embed_model=HashEmbedding())


def query_tool(vectors: VectorStoreIndex, llm: FunctionCallingFakeLLM) -> QueryEngineTool:
    engine = vectors.as_query_engine(llm=llm, similarity_top_k=2)
    return QueryEngineTool.from_defaults(engine, name=TOOL, description=TOOL_DESCRIPTION)
