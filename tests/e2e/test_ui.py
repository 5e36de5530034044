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
        template = kinds["PROMPT"]["attributes"]["llm.prompt_template.template"]
        assert llm["attributes"]["llm.prompt_template.template"] == template
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

    # The search list: one row per trace, named after its root span; the index build apart.
    browser.open(f"{jaeger.query_url}/search?" + urllib.parse.urlencode({"service": service}))
    browser.wait_for_text(
        f"{service}: {facts['root']}", f"{service}: invoke_workflow index_documents"
    )
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


# What each span is opened for, by the GenAI key Jaeger lists it under: each must be on the
# first screen of the span's tags, as a user sees it after clicking the span and its "Tags:".
FIRST_SCREEN = {
    "embedding": [
        "gen_ai.request.model",
        "gen_ai.embeddings.dimension.count",
        "ragtel.monitor.centroid_distance",
        "ragtel.monitor.centroid_cosine_distance",
        "ragtel.monitor.nearest_distance",
        "ragtel.monitor.nearest_cosine_distance",
    ],
    "retrieval": ["gen_ai.retrieval.query.text", "gen_ai.retrieval.documents"],
    "llm": [
        "gen_ai.request.model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.output.messages",
    ],
}


def _genai_facts(spans: list[dict[str, Any]], question: str) -> dict[str, Any]:
    """The spans of the trace of ``question`` by step, each with the values its first screen
    must show (as the backend's API gives them back)."""
    for trace in by_trace(spans).values():
        ops = {s["attributes"].get("gen_ai.operation.name"): s for s in trace}
        retrieval = ops.get("retrieval")
        if not retrieval or retrieval["attributes"].get("gen_ai.retrieval.query.text") != question:
            continue
        embedding, llm = ops["embeddings"], ops["chat"]
        documents = json.loads(retrieval["attributes"]["gen_ai.retrieval.documents"])
        (answer,) = json.loads(llm["attributes"]["gen_ai.output.messages"])
        shown = {
            "embedding": [embedding["attributes"]["gen_ai.request.model"]],
            "retrieval": [question, *(f'"{d["id"]}"' for d in documents[:2])],
            "llm": [str(llm["attributes"]["gen_ai.usage.input_tokens"]),
                    answer["parts"][0]["content"]],
        }  # fmt: skip
        steps = {"embedding": embedding, "retrieval": retrieval, "llm": llm}
        return {"trace_id": trace[0]["trace_id"], "spans": steps, "shown": shown}
    raise AssertionError(f"no trace of {question!r} among {len(spans)} spans")


@pytest.mark.parametrize("conventions", ["genai", "openinference,genai"])
def test_jaeger_ui_first_screen_of_each_span_shows_its_facts(
    conventions: str, jaeger: Jaeger, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the embedding, retrieval or model span shows its facts without scrolling: the
    GenAI set as the README advises for Jaeger, and both sets (the default), in the Jaeger UI
    with the project's UI settings (examples/backends/jaeger-ui.json)."""
    if jaeger.ui_assets is None:
        pytest.fail("the Jaeger UI build was not found; set RAGTEL_JAEGER_UI to its folder")
    monkeypatch.setenv("RAGTEL_CONVENTIONS", conventions)
    service = f"ui-{conventions.replace(',', '-')}-{uuid.uuid4().hex[:8]}"
    _demo(jaeger.otlp_grpc_endpoint, "grpc", service)
    spans = flatten_spans(jaeger.find_traces(service, min_spans=len(QUESTIONS) * 10))
    facts = _genai_facts(spans, QUESTIONS[0])
    embedding = facts["spans"]["embedding"]["attributes"]
    if conventions == "genai":  # the vectors are there, packed, sorted last
        assert "ragtel.vectors" in embedding
        assert not any(key.endswith("embedding.vector") for key in embedding)
    else:  # OpenInference's arrays, which Jaeger shows one number per line
        assert "embedding.embeddings.0.embedding.vector" in embedding

    hidden: list[tuple[str, str]] = []
    for step, span in facts["spans"].items():
        browser.open(f"{jaeger.query_url}/trace/{facts['trace_id']}")
        browser.wait_for_text(span["name"])
        settle()
        browser.click_text(span["name"], scroll=False)  # as a user does: no scrolling
        browser.click_text("Tags:", scroll=False)
        needles = FIRST_SCREEN[step] + facts["shown"][step]
        browser.wait_for_text(*needles)
        settle()
        if conventions == "genai":
            browser.screenshot(SHOTS / f"jaeger-{step}.png")
        hidden += [(step, n) for n, shown in browser.on_screen(needles).items() if not shown]
    assert not hidden


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
    page = browser.wait_for_text(facts["answer"], "Messages", "Prompt Template")
    assert json.dumps(facts["answer"])  # a plain string, shown as the assistant's message
    assert "assistant" in page
    # Phoenix's Prompt Template section, built from llm.prompt_template.* on the LLM span: the
    # template as written, its {placeholders} (which no rendered message has) in the header.
    browser.wait_for_text("{context}", "{question}")
    browser.click_text("Prompt Template")  # unfolded: the template and its variables
    settle(1)
    browser.screenshot(SHOTS / "phoenix-llm.png")
