#!/usr/bin/env python3
"""Screenshot a trace page of Arize Phoenix in headless Chromium, to look at what a user sees.

    . .venv/bin/activate
    python scripts/backends/screenshot_phoenix.py                 # own Phoenix + a demo trace
    python scripts/backends/screenshot_phoenix.py --url http://127.0.0.1:6006 --trace-id HEX

Without --url it starts Phoenix (tests/e2e/backends.py), exports a small RAG-shaped trace
(chain -> retriever, embedding, llm) over OTLP/HTTP, screenshots the trace page and stops
Phoenix.  The PNG goes to .cache/screenshots/ (path printed on stdout).  Needs Debian's
chromium (`apt-get install -y chromium`); the demo trace needs opentelemetry-sdk and
opentelemetry-exporter-otlp-proto-http.  Chromium is started with a fresh profile and every
non-loopback request forced to fail, so only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import backends  # noqa: E402

CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium"]


def find_chromium() -> str:
    for c in CHROMIUM_CANDIDATES:
        path = shutil.which(c)
        if path:
            return path
    raise SystemExit("chromium not found: apt-get update && apt-get install -y chromium")


def export_demo_trace(traces_endpoint: str, project: str) -> str:
    """Export a small RAG-shaped trace; return its trace id (hex)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    resource = Resource.create(
        {"service.name": "ragtel-screenshot", "openinference.project.name": project}
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=traces_endpoint, timeout=10))
    )
    tracer = provider.get_tracer("ragtel.screenshot")
    question = "How do I rotate an API key?"
    with tracer.start_as_current_span(
        "rag.query", attributes={"openinference.span.kind": "CHAIN", "input.value": question}
    ) as root:
        with tracer.start_as_current_span(
            "embeddings demo-embedder",
            attributes={
                "openinference.span.kind": "EMBEDDING",
                "embedding.model_name": "demo-embedder",
                "embedding.embeddings.0.embedding.text": question,
                "embedding.embeddings.0.embedding.vector": [0.12, -0.03, 0.44, 0.9],
            },
        ):
            time.sleep(0.01)
        docs = {
            "openinference.span.kind": "RETRIEVER",
            "input.value": question,
            "gen_ai.request.top_k": 2,
        }
        for i, (doc_id, text, score) in enumerate(
            [
                ("kb-17", "API keys are rotated under Settings > Keys.", 0.91),
                ("kb-03", "Old keys stay valid for 24 hours after rotation.", 0.78),
            ]
        ):
            docs[f"retrieval.documents.{i}.document.id"] = doc_id
            docs[f"retrieval.documents.{i}.document.content"] = text
            docs[f"retrieval.documents.{i}.document.score"] = score
        with tracer.start_as_current_span("retrieval kb", attributes=docs):
            time.sleep(0.02)
        with tracer.start_as_current_span(
            "chat demo-llm",
            attributes={
                "openinference.span.kind": "LLM",
                "llm.model_name": "demo-llm",
                "llm.input_messages.0.message.role": "user",
                "llm.input_messages.0.message.content": question,
                "llm.output_messages.0.message.role": "assistant",
                "llm.output_messages.0.message.content": "Open Settings > Keys and press Rotate.",
                "llm.token_count.prompt": 42,
                "llm.token_count.completion": 9,
                "llm.token_count.total": 51,
            },
        ):
            time.sleep(0.03)
        root.set_attribute("output.value", "Open Settings > Keys and press Rotate.")
        trace_id = f"{root.get_span_context().trace_id:032x}"
    provider.shutdown()
    return trace_id


def screenshot(url: str, out: Path, width: int, height: int, wait_ms: int) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    cmd = [
        find_chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
        "--metrics-recording-only",
        # Any request that is not for 127.0.0.1 goes to a closed local port and fails.
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--virtual-time-budget={wait_ms}",
        f"--screenshot={out}",
        url,
    ]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if res.returncode != 0 or not out.exists():
        raise SystemExit(f"chromium failed ({res.returncode}):\n{res.stderr[-3000:]}")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--url", help="base URL of a running Phoenix on 127.0.0.1 (default: start one)")
    ap.add_argument("--trace-id", help="trace to show (default: export a demo trace)")
    ap.add_argument("--project", default="ragtel-demo", help="project of the demo trace")
    ap.add_argument(
        "--out", type=Path, help="PNG path (default: .cache/screenshots/phoenix-trace-<time>.png)"
    )
    ap.add_argument("--width", type=int, default=1600)
    ap.add_argument("--height", type=int, default=1000)
    ap.add_argument(
        "--wait-ms", type=int, default=20000, help="virtual time for the page to render"
    )
    args = ap.parse_args()

    out = (
        args.out
        or backends.CACHE / "screenshots" / f"phoenix-trace-{time.strftime('%Y%m%d-%H%M%S')}.png"
    )
    phoenix = None
    try:
        if args.url:
            base = args.url.rstrip("/")
            if not base.startswith(f"http://{backends.LOOPBACK}:"):
                raise SystemExit("--url must be http://127.0.0.1:PORT")
        else:
            phoenix = backends.Phoenix().start()
            base = phoenix.url
            print(f"phoenix started in {phoenix.started_in:.1f} s at {base}", file=sys.stderr)
        trace_id = args.trace_id
        if not trace_id:
            trace_id = export_demo_trace(f"{base}/v1/traces", args.project)
            if phoenix is not None:
                phoenix.spans(args.project, min_spans=4, trace_id=trace_id)
            else:
                time.sleep(2)
        # Phoenix's UI resolves /redirects/traces/<otel trace id> to the trace's page.
        url = f"{base}/redirects/traces/{trace_id}"
        t0 = time.monotonic()
        screenshot(url, out, args.width, args.height, args.wait_ms)
        print(f"screenshot of {url} in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    finally:
        if phoenix is not None:
            phoenix.stop()
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
