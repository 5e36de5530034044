"""Hypothesis-generated documents, metadata, tags and messages — lone surrogates, NULs, emoji,
any Unicode — through a real LangChain pipeline and the real Collector: the pipeline is never
hurt, ragtel raises nothing, and no span or attribute is dropped silently."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from harness import Relay, Traced, assert_every_span_accounted, lost, report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document
from otlp_sink import attributes
from pipeline import ListRetriever, build_chain

from ragtel import TraceConfig

# Lone surrogates (valid in a Python str, invalid in UTF-8), NUL, emoji incl. a ZWJ sequence, a
# CJK character and a right-to-left override.
_odd = st.sampled_from(
    ["\ud800", "\udbff", "\udc00", "\udfff", "\x00", "🚀", "👩‍💻", "学", "\u202e"]
)
text = st.lists(st.one_of(st.characters(), _odd), max_size=40).map("".join)
scalar = st.one_of(text, st.integers(), st.floats(), st.booleans(), st.none())
metadata = st.dictionaries(text, st.one_of(scalar, st.lists(scalar, max_size=3)), max_size=4)
documents = st.lists(st.tuples(text, metadata), max_size=6)
history = st.lists(st.tuples(st.sampled_from(["user", "assistant"]), text), max_size=4)


def _check_span(span: Any) -> None:
    attrs = attributes(span)
    assert "metadata" in attrs, (span.name, sorted(attrs))  # every run carries metadata
    json.loads(attrs["metadata"])
    if attrs.get("openinference.span.kind") == "RETRIEVER":
        assert "input.value" in attrs
        recorded = attrs.get("ragtel.retrieval.documents.recorded")
        count = attrs["ragtel.retrieval.documents.count"]
        for i in range(count if recorded is None else recorded):
            assert f"retrieval.documents.{i}.document.content" in attrs, (i, sorted(attrs))
            assert f"retrieval.documents.{i}.document.id" in attrs
        # GenAI's list holds those with the id and score its schema requires; the rest are counted.
        in_genai = len(json.loads(attrs.get("gen_ai.retrieval.documents", "[]")))
        assert in_genai + attrs.get("ragtel.retrieval.documents.not_in_genai", 0) == count
    if attrs.get("openinference.span.kind") == "LLM":
        messages = json.loads(attrs["gen_ai.input.messages"])
        for i in range(len(messages)):
            assert f"llm.input_messages.{i}.message.content" in attrs, (i, sorted(attrs))
        assert "output.value" in attrs


def test_generated_inputs_are_recorded_without_loss(relay: Relay) -> None:
    traced = Traced(relay, f"faults-hyp-{uuid.uuid4().hex[:8]}", config=TraceConfig(monitor=False))
    runs = 0

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        question=text,
        docs=documents,
        run_metadata=metadata,
        tags=st.lists(text, max_size=3),
        turns=history,
        answer=text,
    )
    def run(question, docs, run_metadata, tags, turns, answer) -> None:  # type: ignore[no-untyped-def]
        nonlocal runs
        # Hypothesis seeds the global random module per example, and the SDK draws span and
        # trace ids from it: every example would reuse the same ids. Fresh ids per example.
        random.seed(uuid.uuid4().int)
        retriever = ListRetriever(
            documents=[
                Document(id=f"d{i}", page_content=content, metadata=meta)
                for i, (content, meta) in enumerate(docs)
            ]
        )
        chain = build_chain(retriever, answer=answer)
        config = traced.config(metadata={**run_metadata, "case": runs}, tags=tags)
        # Raises into the test (and fails it) if ragtel ever raised into the pipeline.
        assert chain.invoke({"question": question, "history_pairs": turns}, config=config) == answer
        runs += 1

    run()
    delta = traced.flush()
    assert delta.get("internal_errors", 0) == 0, delta
    assert_every_span_accounted(delta)
    assert lost(delta) == 0, delta
    received = traced.received()
    assert len(received) == delta["spans_started"]
    assert len([s for s in received if not s.parent_span_id]) == runs
    for span in received:
        _check_span(span)
    report("hypothesis", runs=runs, spans=len(received), internal_errors=0, lost=0)
