"""A hook that fails inside ragtel never leaves its span unended (a hole in the trace), and the
user's pipeline result is unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import ragtel
from ragtel.config import TraceConfig
from ragtel.langchain import RagtelCallbackHandler
from ragtel.recording import text as text_module
from ragtel.recording.attributes import retrieval
from tests.conftest import needs_patchable_internals


class Open(SpanProcessor):
    """Spans started and not (yet) ended."""

    def __init__(self) -> None:
        self.open: set[int] = set()

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.open.add(span.context.span_id)

    def on_end(self, span: Any) -> None:
        self.open.discard(span.context.span_id)


class Notes(BaseRetriever):
    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        return [Document(page_content="Invoices go out monthly.", metadata={"id": 1})]


def _chain() -> Any:
    return RunnableLambda(lambda q: q) | Notes() | RunnableLambda(lambda d: d[0].page_content)


def _traced() -> tuple[RagtelCallbackHandler, Open, InMemorySpanExporter]:
    provider = TracerProvider()
    opened = Open()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(opened)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return RagtelCallbackHandler(provider, TraceConfig(monitor=False)), opened, exporter


class _Bug(Exception):
    """Its own type: the guard logs each (place, type) once per process, and other tests count
    on their first RuntimeError at a place being logged."""


def _boom(*args: Any, **kwargs: Any) -> None:
    raise _Bug("ragtel bug")


@needs_patchable_internals
@pytest.mark.parametrize("where", ["ending", "starting"])
def test_a_failing_hook_leaves_no_span_open(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    expected = _chain().invoke("when?")
    handler, opened, exporter = _traced()
    if where == "ending":
        monkeypatch.setattr(retrieval, "end", _boom)  # fails before the span's end
    else:  # fails after the span started, inside the start hook
        monkeypatch.setattr(text_module.TextPolicy, "apply", _boom)
    before = ragtel.stats().get("internal_errors", 0)
    assert _chain().invoke("when?", config={"callbacks": [handler]}) == expected
    assert ragtel.stats().get("internal_errors", 0) > before
    assert opened.open == set()  # every span that started has ended
    assert exporter.get_finished_spans()
