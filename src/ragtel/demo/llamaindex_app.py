"""The demo's LlamaIndex RAG pipeline: the LangChain demo's corpus, models and prompt.

``build_query_engine()`` indexes ``ragtel.demo.corpus.DOCUMENTS`` (one node per document, with its
id and metadata) in a ``VectorStoreIndex`` and returns a query engine. The embedding and the chat
model are the LangChain demo's local models behind LlamaIndex's interfaces, and the prompt is the
LangChain demo's system and human templates, so both demos retrieve the same documents, render the
same messages and give the same answers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from llama_index.core.prompts import ChatPromptTemplate
from llama_index.core.query_engine import BaseQueryEngine
from llama_index.core.schema import TextNode
from pydantic import PrivateAttr

from ragtel.demo.corpus import DOCUMENTS
from ragtel.demo.langchain_app import HUMAN_TEMPLATE, SYSTEM_TEMPLATE
from ragtel.demo.local_models import ExtractiveChatModel, HashEmbeddings

__all__ = [
    "ExtractiveLLM",
    "HashEmbedding",
    "build_index",
    "build_query_engine",
    "corpus_nodes",
    "qa_template",
]

# The synthesizer fills ``context_str`` and ``query_str``; the LangChain demo's templates name them
# ``context`` and ``question``.
_VARIABLE_NAMES = {"context_str": "context", "query_str": "question"}


class HashEmbedding(BaseEmbedding):
    """``ragtel.demo.local_models.HashEmbeddings`` as a LlamaIndex embedding model."""

    model_name: str = "ragtel-hash-256"
    dimensions: int = 256
    _hash: HashEmbeddings = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        self._hash = HashEmbeddings(self.dimensions, self.model_name)

    @classmethod
    def class_name(cls) -> str:
        return "ragtel_hash_embedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._hash.embed_query(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._hash.embed_query(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._hash.embed_documents(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._hash.embed_query(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._hash.embed_query(text)


_EXTRACTIVE = ExtractiveChatModel()


class ExtractiveLLM(CustomLLM):
    """The LangChain demo's ``ExtractiveChatModel`` as a LlamaIndex chat model.

    It answers with the sentence of the system message's context that shares most words with the
    question, and reports token usage in ``raw`` like a hosted model does. ``achat`` and the
    completion methods go through ``chat`` (as many CustomLLM-based models do), which the tracing
    must record as one generation each.
    """

    model_name: str = "ragtel-extractive-1"
    temperature: float = 0.0
    provider: str = "ragtel"  # in process: no registry provider applies

    @classmethod
    def class_name(cls) -> str:
        return "ragtel_extractive_llm"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name=self.model_name, is_chat_model=True, num_output=256)

    def _respond(self, messages: Sequence[ChatMessage]) -> tuple[str, dict[str, Any]]:
        answer = _EXTRACTIVE._answer(list(messages))  # type: ignore[arg-type]
        usage = _EXTRACTIVE._usage(list(messages), answer)  # type: ignore[arg-type]
        raw = {"model": self.model_name, "stop_reason": "stop", "usage": usage}
        return answer, raw

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        answer, raw = self._respond(messages)
        return ChatResponse(
            message=ChatMessage(role=MessageRole.ASSISTANT, content=answer), raw=raw
        )

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        answer, raw = self._respond(messages)

        def gen() -> Generator[ChatResponse, None, None]:
            pieces = answer.split(" ")
            text = ""
            for i, piece in enumerate(pieces):
                delta = piece if i == 0 else " " + piece
                text += delta
                last = i == len(pieces) - 1
                yield ChatResponse(
                    message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
                    delta=delta,
                    raw=raw if last else None,
                )

        return gen()

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        async def gen() -> AsyncGenerator[ChatResponse, None]:
            for response in self.stream_chat(messages, **kwargs):
                yield response

        return gen()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        response = self.chat(_prompt_messages(prompt), **kwargs)
        return CompletionResponse(text=response.message.content or "", raw=response.raw)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        def gen() -> Generator[CompletionResponse, None, None]:
            for response in self.stream_chat(_prompt_messages(prompt), **kwargs):
                yield CompletionResponse(
                    text=response.message.content or "", delta=response.delta, raw=response.raw
                )

        return gen()


def _prompt_messages(prompt: str) -> list[ChatMessage]:
    # A completion prompt carries its context and its question together; the last line asks.
    context, _, question = prompt.rstrip().rpartition("\n")
    return [
        ChatMessage(role=MessageRole.SYSTEM, content="Context:\n" + context),
        ChatMessage(role=MessageRole.USER, content=question),
    ]


def qa_template() -> ChatPromptTemplate:
    """The LangChain demo's chat template, with the synthesizer's variables mapped onto it."""
    return ChatPromptTemplate(
        message_templates=[
            ChatMessage(role=MessageRole.SYSTEM, content=SYSTEM_TEMPLATE),
            ChatMessage(role=MessageRole.USER, content=HUMAN_TEMPLATE),
        ],
        template_var_mappings=_VARIABLE_NAMES,
    )


def corpus_nodes(
    documents: Sequence[tuple[str, str, dict[str, Any]]] = DOCUMENTS,
) -> list[TextNode]:
    """One node per document, keeping its id and metadata (metadata not embedded nor prompted)."""
    return [
        TextNode(
            id_=doc_id,
            text=text,
            metadata=dict(meta),
            excluded_embed_metadata_keys=list(meta),
            excluded_llm_metadata_keys=list(meta),
        )
        for doc_id, text, meta in documents
    ]


def build_index(
    embed_model: BaseEmbedding | None = None,
    documents: Sequence[tuple[str, str, dict[str, Any]]] = DOCUMENTS,
) -> VectorStoreIndex:
    """The corpus in an in-memory ``VectorStoreIndex``."""
    return VectorStoreIndex(corpus_nodes(documents), embed_model=embed_model or HashEmbedding())


def build_query_engine(
    embed_model: BaseEmbedding | None = None,
    llm: Any = None,
    *,
    streaming: bool = False,
    top_k: int = 3,
) -> BaseQueryEngine:
    """A query engine over the built-in corpus: retrieve ``top_k`` nodes, answer from them."""
    index = build_index(embed_model)
    return index.as_query_engine(
        llm=llm or ExtractiveLLM(),
        similarity_top_k=top_k,
        streaming=streaming,
        text_qa_template=qa_template(),
    )
