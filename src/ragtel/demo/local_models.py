"""Local stand-ins for an embedding model and a chat model: deterministic, offline, no download.

``HashEmbeddings`` hashes word unigrams and bigrams into a fixed number of dimensions (the
"hashing trick"), so texts sharing words get nearby vectors: enough for retrieval and drift to
behave like they do with a real model. ``ExtractiveChatModel`` answers with the sentence of the
system prompt's context that best overlaps the question, and reports token usage like a hosted
model does.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

_WORD = re.compile(r"[a-z0-9]+")
# Words every document shares ("acme", "cloud") say nothing about which one answers a question.
_STOP = frozenset(
    "a acme an and are as at be by can cloud do does for from how i in is it my of on or the to "  # noqa: SIM905
    "what which with you your".split()
)


def words(text: str) -> list[str]:
    """Lower-cased content words, with a plural "s" dropped so "invoice" matches "Invoices"."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOP:
            continue
        out.append(
            word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
        )
    return out


def _bucket(feature: str, dimensions: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dimensions, 1.0 if (value >> 63) & 1 else -1.0


class HashEmbeddings(Embeddings):
    """Deterministic bag-of-words embedding (unit-length vectors)."""

    def __init__(self, dimensions: int = 256, model: str = "ragtel-hash-256") -> None:
        self.dimensions = dimensions
        self.model = model

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        tokens = words(text)
        features = tokens + [f"{a} {b}" for a, b in pairwise(tokens)]
        for feature in features:
            index, sign = _bucket(feature, self.dimensions)
            vector[index] += sign
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


class ExtractiveChatModel(BaseChatModel):
    """Answers with the context sentence sharing most words with the question."""

    model_name: str = "ragtel-extractive-1"
    temperature: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "ragtel-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "temperature": self.temperature}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        # Runs in ragtel's process: no registry provider applies, so ragtel's own name (the
        # embeddings, from this package, get the same).
        params["ls_provider"] = "ragtel"
        params["ls_model_name"] = self.model_name
        return params

    def _answer(self, messages: list[BaseMessage]) -> str:
        question = str(messages[-1].content)
        # The context follows the instructions' first line break in the system prompt.
        context = " ".join(str(m.content).partition("\n")[2] for m in messages[:-1])
        sentences = [s.strip() for s in re.split(r"(?<=\.)\s+|\n+", context) if s.strip()]
        wanted = set(words(question))
        best = max(sentences, key=lambda s: len(wanted & set(words(s))), default="")
        if not best or not wanted & set(words(best)):
            return "I could not find this in the documentation."
        return best

    def _usage(self, messages: list[BaseMessage], answer: str) -> dict[str, int]:
        prompt = sum(len(str(m.content).split()) for m in messages)
        completion = len(answer.split())
        return {
            "input_tokens": prompt,
            "output_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        answer = self._answer(messages)
        message = AIMessage(
            content=answer,
            usage_metadata=self._usage(messages, answer),
            response_metadata={"finish_reason": "stop", "model_name": self.model_name},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        answer = self._answer(messages)
        pieces = answer.split(" ")
        for i, piece in enumerate(pieces):
            text = piece if i == 0 else " " + piece
            last = i == len(pieces) - 1
            chunk = AIMessageChunk(
                content=text,
                usage_metadata=self._usage(messages, answer) if last else None,  # type: ignore[arg-type]
                response_metadata={"finish_reason": "stop", "model_name": self.model_name}
                if last
                else {},
            )
            if run_manager is not None:
                run_manager.on_llm_new_token(text, chunk=ChatGenerationChunk(message=chunk))
            yield ChatGenerationChunk(message=chunk)
