"""``TracedEmbeddings``: LangChain has no embedding callback, so ragtel wraps the model instead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from langchain_core.embeddings import Embeddings

from ragtel._guard import report
from ragtel.config import TraceConfig
from ragtel.recording import Recorder, Step, TracerProvider
from ragtel.recording.current import open_retrieval
from ragtel.semconv import EmbeddingRole

T = TypeVar("T")


class TracedEmbeddings(Embeddings):
    """Wraps any LangChain ``Embeddings``; each call becomes an EMBEDDING span with its vectors.

    Inside a retriever run the span is a child of the retriever's span (sync, threads, asyncio).
    Query embeddings feed the drift monitor as queries; document embeddings as the knowledge base.
    """

    def __init__(
        self,
        embeddings: Embeddings,
        *,
        tracer_provider: TracerProvider | None = None,
        config: TraceConfig | None = None,
        model_name: str | None = None,
    ) -> None:
        self.wrapped = embeddings
        self.model_name = model_name or _model_name(embeddings)
        self._provider = tracer_provider
        self._config = config
        self._recorder: Recorder | None = None

    def __getattr__(self, name: str) -> Any:
        # Anything not about embedding (client settings, dimensions...) is the wrapped model's.
        return getattr(self.__dict__["wrapped"], name)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        step = self._start(texts, EmbeddingRole.DOCUMENT)
        return self._finish(step, lambda: self.wrapped.embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        step = self._start([text], EmbeddingRole.QUERY)
        return self._finish(step, lambda: self.wrapped.embed_query(text), single=True)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        step = self._start(texts, EmbeddingRole.DOCUMENT)
        try:
            vectors = await self.wrapped.aembed_documents(texts)
        except BaseException as error:
            _fail(step, error)
            raise
        _end(step, vectors)
        return vectors

    async def aembed_query(self, text: str) -> list[float]:
        step = self._start([text], EmbeddingRole.QUERY)
        try:
            vector = await self.wrapped.aembed_query(text)
        except BaseException as error:
            _fail(step, error)
            raise
        _end(step, [vector])
        return vector

    # -- internals ----------------------------------------------------------------------------

    def _recorder_for_call(self) -> tuple[Recorder, Step | None]:
        active = open_retrieval()
        if active is not None:
            recorder, step = active
            return (self._own_recorder() if self._provider or self._config else recorder, step)
        return self._own_recorder(), None

    def _own_recorder(self) -> Recorder:
        if self._recorder is None:
            self._recorder = Recorder(self._provider, self._config, framework="langchain")
        return self._recorder

    def _start(self, texts: Sequence[str], role: str) -> Step | None:
        try:
            recorder, parent = self._recorder_for_call()
            return recorder.start_embedding(
                f"embed_{role}", parent, model=self.model_name, texts=texts, role=role
            )
        except Exception as error:
            report("TracedEmbeddings.start", error)
            return None

    def _finish(self, step: Step | None, call: Callable[[], T], single: bool = False) -> T:
        try:
            result = call()
        except BaseException as error:
            _fail(step, error)
            raise
        _end(step, [result] if single else result)  # type: ignore[arg-type]
        return result


def _end(step: Step | None, vectors: Sequence[Any]) -> None:
    if step is None:
        return
    try:
        step.end_embedding(vectors)
    except Exception as error:
        report("TracedEmbeddings.end", error)
        step.abandon()


def _fail(step: Step | None, error: BaseException) -> None:
    if step is None:
        return
    try:
        step.fail(error)
    except Exception as inner:
        report("TracedEmbeddings.fail", inner)


def _model_name(embeddings: Embeddings) -> str:
    for attr in ("model", "model_name", "model_id", "deployment"):
        value = getattr(embeddings, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(embeddings).__name__
