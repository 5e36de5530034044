"""Bytes on the wire per convention set: what RAGTEL_CONVENTIONS costs, measured on the demo.

    python bench/bench_conventions.py [--framework langchain|llamaindex]

Runs ``ragtel demo --quiet --out FILE`` once per set (``openinference,genai``, the default;
``openinference``; ``genai``), reads the OTLP JSON lines back into the OTLP protobuf messages an
exporter sends, and prints the encoded size of each span (``Span.ByteSize()``, without the
resource and scope framing every request adds once), grouped by step, and of each question's
trace. The index build (the documents embedded once at start-up) is reported apart. Results
land in bench/results/conventions-<framework>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from google.protobuf.json_format import Parse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

ROOT = Path(__file__).resolve().parents[1]
SETS = ("openinference,genai", "openinference", "genai")
STEPS = ("workflow", "retrieval", "embedding", "prompt", "llm", "other steps")


def _step(span: Any, attributes: dict[str, str], is_root: bool) -> str:
    kind = attributes.get("openinference.span.kind")
    operation = attributes.get("gen_ai.operation.name")
    if kind == "RETRIEVER" or operation == "retrieval":
        return "retrieval"
    if kind == "EMBEDDING" or operation == "embeddings":
        return "embedding"
    if kind == "LLM" or operation in ("chat", "text_completion"):
        return "llm"
    if kind == "PROMPT" or "ragtel.prompt.messages.count" in attributes:
        return "prompt"
    return "workflow" if is_root else "other steps"


def measure(framework: str, conventions: str, folder: Path) -> dict[str, Any]:
    out = folder / f"{framework}-{conventions.replace(',', '+')}.jsonl"
    env = {**os.environ, "RAGTEL_CONVENTIONS": conventions}
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "-m", "ragtel.cli", "demo", "--quiet", "--framework", framework,
         "--out", str(out)],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    traces: dict[bytes, list[tuple[str, int]]] = defaultdict(list)
    for line in out.read_text("utf-8").splitlines():
        request = Parse(line, ExportTraceServiceRequest())
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {
                        kv.key: kv.value.string_value
                        for kv in span.attributes
                        if kv.value.HasField("string_value") or kv.key.startswith("ragtel.prompt")
                    }
                    step = _step(span, attributes, not span.parent_span_id)
                    traces[span.trace_id].append((step, span.ByteSize()))
    per_step: dict[str, list[int]] = defaultdict(list)
    query_traces, index = [], []
    for spans in traces.values():
        if not any(step == "retrieval" for step, _ in spans):
            index.append(sum(size for _, size in spans))  # the index build's documents
            continue
        query_traces.append(sum(size for _, size in spans))
        for step, size in spans:
            per_step[step].append(size)
    return {
        "conventions": conventions,
        "command": f"RAGTEL_CONVENTIONS={conventions} ragtel demo --quiet --framework {framework}"
        f" --out {out.name}",
        "query_traces": len(query_traces),
        "bytes_per_query_trace": round(sum(query_traces) / len(query_traces)),
        "spans_per_query_trace": round(sum(map(len, per_step.values())) / len(query_traces), 1),
        "bytes_per_step_span": {s: round(sum(v) / len(v)) for s, v in per_step.items() if v},
        "index_build_bytes": sum(index),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--framework", choices=("langchain", "llamaindex"), default="langchain")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ragtel-conventions-") as tmp:
        rows = [measure(args.framework, conventions, Path(tmp)) for conventions in SETS]
    header = f"{'conventions':<22}{'bytes/trace':>12}" + "".join(f"{s:>13}" for s in STEPS)
    print(f"{args.framework}: mean encoded bytes per question's trace and per span of each step")
    print(header + f"{'index build':>13}")
    for row in rows:
        steps = row["bytes_per_step_span"]
        cells = "".join(f"{steps[s]:>13,}" if s in steps else f"{'-':>13}" for s in STEPS)
        print(f"{row['conventions']:<22}{row['bytes_per_query_trace']:>12,}{cells}"
              f"{row['index_build_bytes']:>13,}")  # fmt: skip
    results = ROOT / "bench" / "results" / f"conventions-{args.framework}.json"
    results.write_text(json.dumps(rows, indent=2) + "\n", "utf-8")
    print(f"saved {results.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
