"""The demo pipeline's traces in Arize Phoenix, read back from its REST API."""

from __future__ import annotations

import pytest
from backends import Phoenix, flatten_phoenix_spans
from ragtel_pipeline import SPANS_PER_QUESTION, assert_tree, by_trace, kind, run_langchain_demo

from ragtel.demo.corpus import QUESTIONS
from ragtel.demo.langchain_app import SYSTEM_TEMPLATE
from ragtel.demo.local_models import HashEmbeddings


def test_phoenix_shows_documents_scores_templates_tokens_and_vectors(phoenix: Phoenix) -> None:
    project = "ragtel-e2e"  # ragtel names the Phoenix project after the service
    _, answers = run_langchain_demo(
        project, endpoint=phoenix.otlp_http_endpoint, protocol="http/protobuf"
    )
    expected = len(QUESTIONS) * SPANS_PER_QUESTION
    spans = flatten_phoenix_spans(phoenix.spans(project, min_spans=expected + 2, timeout=60))
    traces = [t for t in by_trace(spans).values() if any(kind(s) == "RETRIEVER" for s in t)]
    assert len(traces) == len(QUESTIONS)
    for trace_spans in traces:
        assert_tree(trace_spans)
        kinds = {kind(s): s for s in trace_spans}
        assert set(kinds) == {"CHAIN", "RETRIEVER", "EMBEDDING", "PROMPT", "LLM"}

        retriever = kinds["RETRIEVER"]["attributes"]
        question = retriever["input.value"]
        for i in range(3):
            prefix = f"retrieval.documents.{i}.document."
            assert retriever[prefix + "id"]
            assert retriever[prefix + "content"]
            assert isinstance(retriever[prefix + "score"], float)
        assert "retrieval.documents.3.document.id" not in retriever

        prompt = kinds["PROMPT"]["attributes"]
        assert SYSTEM_TEMPLATE in prompt["llm.prompt_template.template"]
        # Phoenix parses the variables' JSON and flattens it into keys of their own
        assert prompt["llm.prompt_template.variables.question"] == question

        llm = kinds["LLM"]["attributes"]
        assert llm["llm.model_name"] == "ragtel-extractive-1"
        assert llm["llm.input_messages.1.message.content"] == question
        assert llm["llm.output_messages.0.message.content"] in answers
        prompt_tokens = llm["llm.token_count.prompt"]
        completion_tokens = llm["llm.token_count.completion"]
        assert prompt_tokens > 0 and completion_tokens > 0
        assert llm["llm.token_count.total"] == prompt_tokens + completion_tokens

        embedding = kinds["EMBEDDING"]["attributes"]
        assert embedding["embedding.embeddings.0.embedding.text"] == question
        assert embedding["embedding.embeddings.0.embedding.vector"] == pytest.approx(
            HashEmbeddings().embed_query(question)
        )
        assert embedding["embedding.model_name"] == "ragtel-hash-256"
