"""Run the demo pipeline through ``ragtel.configure`` as a user would, and read traces back."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from opentelemetry.sdk.trace import TracerProvider

import ragtel
from ragtel.demo.corpus import QUESTIONS
from ragtel.demo.langchain_app import build_chain
from ragtel.demo.local_models import HashEmbeddings
from ragtel.langchain import RagtelCallbackHandler, TracedEmbeddings

SPANS_PER_QUESTION = 10  # the LangChain demo chain's run tree, embedding included


def unique_service(label: str) -> str:
    return f"ragtel-e2e-{label}-{uuid.uuid4().hex[:8]}"


def run_langchain_demo(service: str, **configure: Any) -> tuple[TracerProvider, list[str]]:
    """Configure ragtel for ``service``, answer the demo questions, flush; return the answers."""
    provider = ragtel.configure(service, **configure)
    assert isinstance(provider, TracerProvider)
    handler = RagtelCallbackHandler()
    chain = build_chain(embeddings=TracedEmbeddings(HashEmbeddings()))
    answers = [chain.invoke(q, config={"callbacks": [handler]}) for q in QUESTIONS]
    assert provider.force_flush(30_000)
    return provider, answers


def by_trace(spans: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        grouped[span["trace_id"]].append(span)
    return dict(grouped)


def kind(span: dict[str, Any]) -> str:
    """The OpenInference kind; Phoenix moves it out of the attributes into its own field."""
    return str(span["attributes"].get("openinference.span.kind") or span["kind"])


def assert_tree(spans: list[dict[str, Any]]) -> dict[str, Any]:
    """One root, every parent in the trace; returns the root."""
    ids = {s["span_id"] for s in spans}
    roots = [s for s in spans if not s["parent_span_id"]]
    assert len(roots) == 1, [s["name"] for s in roots]
    for span in spans:
        assert not span["parent_span_id"] or span["parent_span_id"] in ids, span["name"]
    return roots[0]
