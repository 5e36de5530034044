"""``TracedEmbeddings``: LangChain has no embedding callback, so ragtel wraps the model instead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from langchain_core.embeddings import Embeddings
from langchain_core.runnables.config import var_child_runnable_config

from ragtel._guard import report
from ragtel.config import TraceConfig
from ragtel.integrations.langchain.handler import RagtelCallbackHandler
from ragtel.recording import Recorder, Step, TracerProvider
from ragtel.recording.current import open_retrieval
from ragtel.recording.providers import home_package, provider_of_class
from ragtel.recording.records import INDEX_BUILD, RunContext
from ragtel.semconv import EmbeddingRole

T = TypeVar("T")


class TracedEmbeddings(Embeddings):
    """Wraps any LangChain ``Embeddings``; each call becomes an EMBEDDING span with its vectors.

    Inside a LangChain run the span is a child of that run's span, with its session and user: a
    retriever's, or any runnable's (a ``similarity_search`` in a ``RunnableLambda``), in sync code,
    threads and asyncio alike. Query embeddings feed the drift monitor as queries; document
    embeddings as the knowledge base, except those made while answering a query (a filter
    re-embedding what was retrieved), which are recorded with the role ``query_document``.
    """

    def __init__(
        self,
        embeddings: Embeddings,
        *,
        tracer_provider: TracerProvider | None = None,
        config: TraceConfig | None = None,
        model_name: str | None = None,
        provider_name: str | None = None,
    ) -> None:
        self.wrapped = embeddings
        self.model_name = model_name or _model_name(embeddings)
        # The package the model comes from (langchain_openai -> openai), else the app's own.
        cls = type(embeddings)
        self.provider_name = provider_name or provider_of_class(cls) or home_package(cls)
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

    def _parent_for_call(self) -> tuple[Recorder | None, Step | None, RunContext | None, bool]:
        """Where this call belongs: (recorder, parent step, run context, inside a retrieval)."""
        retrieval = open_retrieval()
        if retrieval is not None:
            return retrieval.recorder, retrieval.step, retrieval.run, True
        # Not inside a retriever: the LangChain run whose code is calling, found by its run id in
        # the config LangChain hands to child calls (copied into executor threads with the context).
        config = var_child_runnable_config.get()
        callbacks = config.get("callbacks") if config else None
        run_id = getattr(callbacks, "parent_run_id", None)
        if run_id is not None:
            for handler in getattr(callbacks, "handlers", ()):
                if isinstance(handler, RagtelCallbackHandler):
                    found = handler.open_run(run_id)
                    if found is not None:
                        return handler.recorder, *found
        return None, None, None, False

    def _own_recorder(self) -> Recorder:
        if self._recorder is None:
            self._recorder = Recorder(self._provider, self._config, framework="langchain")
        return self._recorder

    def _start(self, texts: Sequence[str], role: str) -> Step | None:
        try:
            recorder, parent, run, answering = self._parent_for_call()
            if recorder is None or self._provider is not None or self._config is not None:
                recorder = self._own_recorder()
            if answering and role == EmbeddingRole.DOCUMENT:
                role = EmbeddingRole.QUERY_DOCUMENT
            index_build = None
            if parent is None and role == EmbeddingRole.DOCUMENT:
                # Documents embedded outside any run: an index build, named so at the trace's
                # root, apart from queries in a backend's list of traces.
                index_build = parent = recorder.start_chain(INDEX_BUILD, None, None, run)
            step = recorder.start_embedding(
                f"embed_{role}",
                parent,
                run,
                model=self.model_name,
                texts=texts,
                role=role,
                provider=self.provider_name,
            )
            step.index_build = index_build
            return step
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
        if step.index_build is not None:
            step.index_build.end_chain(None)
    except Exception as error:
        report("TracedEmbeddings.end", error)
        step.abandon()
        if step.index_build is not None:
            step.index_build.abandon()


def _fail(step: Step | None, error: BaseException) -> None:
    if step is None:
        return
    try:
        step.fail(error)
        if step.index_build is not None:
            step.index_build.fail(error)
    except Exception as inner:
        report("TracedEmbeddings.fail", inner)


def _model_name(embeddings: Embeddings) -> str:
    for attr in ("model", "model_name", "model_id", "deployment"):
        value = getattr(embeddings, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(embeddings).__name__
