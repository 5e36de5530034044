"""The demo's traces as a person sees them: the real Jaeger UI and Phoenix in headless Chromium.

``ragtel demo`` exports to the backend; what each trace holds (the question, the retrieved
document ids, the answer) is read back from the backend's API; then the browser opens the trace
page and the test asserts that the page shows those: the span names in the tree, and, after
clicking a span as a user would, the question, the document ids and the answer. Screenshots go
to ``<cache>/screenshots/`` (the README's come from there).
"""

from __future__ import annotations

import json
import os
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import pytest
from backends import CACHE, Jaeger, Phoenix, flatten_phoenix_spans, flatten_spans
from browser import Browser, settle
from ragtel_pipeline import by_trace, kind

from ragtel.cli import main
from ragtel.demo.corpus import QUESTIONS

SHOTS = Path(os.environ.get("RAGTEL_SCREENSHOT_DIR") or CACHE / "screenshots")


def _facts(spans: list[dict[str, Any]], question: str) -> dict[str, Any]:
    """What the trace of ``question`` holds, from the backend's API: what the page must show."""
    for trace in by_trace(spans).values():
        kinds = {kind(s): s for s in trace}
        retriever = kinds.get("RETRIEVER")
        if retriever is None or retriever["attributes"].get("input.value") != question:
            continue
        attrs = retriever["attributes"]
        ids = [attrs[f"retrieval.documents.{i}.document.id"] for i in range(3)]
        llm = kinds["LLM"]
        (root,) = [s for s in trace if not s["parent_span_id"]]
        return {
            "trace_id": trace[0]["trace_id"],
            "root": root["name"],
            "retrieval": retriever["name"],
            "llm": llm["name"],
            "ids": ids,
            "answer": llm["attributes"]["output.value"],
        }
    raise AssertionError(f"no trace of {question!r} among {len(spans)} spans")


def _demo(endpoint: str, protocol: str, service: str) -> None:
    code = main(["demo", "--quiet", "--endpoint", endpoint, "--protocol", protocol,
                 "--service-name", service])  # fmt: skip
    assert code == 0, "ragtel demo reported spans that did not arrive"


def test_jaeger_ui_shows_question_documents_and_answer(jaeger: Jaeger, browser: Browser) -> None:
    if jaeger.ui_assets is None:
        pytest.fail("the Jaeger UI build (shared/tools/jaeger-ui-v1.76.0) was not found beside "
                    "the checkout; set RAGTEL_JAEGER_UI to its folder")  # fmt: skip
    service = f"ui-{uuid.uuid4().hex[:8]}"
    _demo(jaeger.otlp_grpc_endpoint, "grpc", service)
    spans = flatten_spans(jaeger.find_traces(service, min_spans=len(QUESTIONS) * 10))
    question = QUESTIONS[0]
    facts = _facts(spans, question)

    # The search list: one row per trace, named after its root span.
    browser.open(f"{jaeger.query_url}/search?" + urllib.parse.urlencode({"service": service}))
    browser.wait_for_text(f"{service}: {facts['root']}")
    settle()
    browser.screenshot(SHOTS / "jaeger-search.png")

    browser.open(f"{jaeger.query_url}/trace/{facts['trace_id']}")
    page = browser.wait_for_text(facts["root"], facts["retrieval"], facts["llm"])
    assert "Total Spans" in page
    browser.click_text(facts["retrieval"])
    browser.click_text("Tags:")  # unfold the span's tags into their table
    browser.wait_for_text(question, *facts["ids"])
    settle()
    browser.screenshot(SHOTS / "jaeger-retrieval.png")
    browser.click_text(facts["retrieval"])  # fold it again, as a user would
    browser.click_text(facts["llm"])
    browser.click_text("Tags:")
    browser.wait_for_text(facts["answer"])
    settle()
    browser.screenshot(SHOTS / "jaeger-llm.png")


def test_phoenix_shows_question_documents_and_answer(phoenix: Phoenix, browser: Browser) -> None:
    project = f"ui-{uuid.uuid4().hex[:8]}"
    _demo(phoenix.otlp_http_endpoint, "http/protobuf", project)
    spans = flatten_phoenix_spans(phoenix.spans(project, min_spans=len(QUESTIONS) * 10))
    question = QUESTIONS[0]
    facts = _facts(spans, question)

    browser.open(f"{phoenix.url}/redirects/traces/{facts['trace_id']}")
    # The trace opens on its root span: the question as its input, the answer as its output.
    browser.wait_for_text(facts["root"], facts["retrieval"], facts["llm"], question, timeout=60)
    browser.wait_for_text(facts["answer"])
    browser.click_text(facts["retrieval"])
    # Documents show as cards titled by their id.
    browser.wait_for_text(*(f"document {doc_id}" for doc_id in facts["ids"]))
    settle(1)
    browser.screenshot(SHOTS / "phoenix-retrieval.png")
    browser.click_text(facts["llm"])
    page = browser.wait_for_text(facts["answer"], "Messages")
    settle(1)
    browser.screenshot(SHOTS / "phoenix-llm.png")
    assert json.dumps(facts["answer"])  # a plain string, shown as the assistant's message
    assert "assistant" in page
