"""Traces as trees in the terminal: span name, kind, duration and the attributes that matter."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

_KIND = "openinference.span.kind"


def group_traces(spans: Iterable[ReadableSpan]) -> list[list[ReadableSpan]]:
    """Spans grouped by trace, traces in start order."""
    traces: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in spans:
        traces[span.context.trace_id].append(span)
    return sorted(traces.values(), key=lambda t: min(s.start_time or 0 for s in t))


def format_trace(spans: Sequence[ReadableSpan]) -> str:
    ids = {s.context.span_id for s in spans}
    children: dict[int | None, list[ReadableSpan]] = defaultdict(list)
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        parent = span.parent.span_id if span.parent and span.parent.span_id in ids else None
        children[parent].append(span)
    trace_id = format(spans[0].context.trace_id, "032x")
    lines = [f"trace {trace_id}"]

    def walk(parent: int | None, prefix: str) -> None:
        items = children[parent]
        for i, span in enumerate(items):
            last = i == len(items) - 1
            lines.append(prefix + ("└─ " if last else "├─ ") + describe(span))
            walk(span.context.span_id, prefix + ("   " if last else "│  "))

    walk(None, "")
    return "\n".join(lines)


def describe(span: ReadableSpan) -> str:
    a: Mapping[str, Any] = span.attributes or {}
    kind = a.get(_KIND, "")
    ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    details: list[str] = []
    if kind == "RETRIEVER":
        ids = [str(a[k]) for k in sorted(a, key=_index) if k.endswith(".document.id")]
        details.append(f"{a.get('ragtel.retrieval.documents.count', len(ids))} docs")
        if ids:
            details.append("ids=" + ",".join(ids[:4]))
    elif kind == "EMBEDDING":
        role, count = a.get("ragtel.embedding.role", ""), a.get("ragtel.embedding.count", "")
        details.append(f"{role} x{count}")
        if "gen_ai.embeddings.dimension.count" in a:
            details.append(f"dim={a['gen_ai.embeddings.dimension.count']}")
        if "ragtel.monitor.centroid_distance" in a:
            details.append(f"kb_distance={a['ragtel.monitor.centroid_distance']:.3f}")
    elif kind == "LLM":
        tokens_in = a.get("llm.token_count.prompt", a.get("gen_ai.usage.input_tokens"))
        tokens_out = a.get("llm.token_count.completion", a.get("gen_ai.usage.output_tokens"))
        if tokens_in is not None:
            details.append(f"tokens={tokens_in}+{tokens_out}")
        calls = [
            str(a[k])
            for k in sorted(a)
            if k.startswith("llm.output_messages.") and k.endswith(".function.name")
        ]
        if calls:
            details.append("calls " + ",".join(calls))
        elif "output.value" in a:
            details.append("answer=" + _short(str(a["output.value"])))
    elif kind == "TOOL":
        call_id = a.get("gen_ai.tool.call.id", a.get("tool.id"))
        if call_id:
            details.append(f"call_id={call_id}")
        if "input.value" in a:
            details.append("args=" + _short(str(a["input.value"]), 40))
    elif kind == "AGENT" and "output.value" in a:
        details.append("answer=" + _short(str(a["output.value"])))
    elif kind == "PROMPT":
        names = a.get("ragtel.prompt.variable_names")
        if names:
            details.append("vars=" + ",".join(names))
    elif span.name == "feedback":
        label = a.get("gen_ai.evaluation.score.label", "")
        details.append(f"{label} {a.get('gen_ai.evaluation.score.value', '')}")
    if span.status.status_code.name == "ERROR":
        details.append("ERROR " + (span.status.description or ""))
    head = f"{span.name} [{kind or span.kind.name}] {ms:.2f} ms"
    return head + ("  " + "  ".join(details) if details else "")


def _index(key: str) -> int:
    parts = key.split(".")
    return int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0


def _short(text: str, width: int = 60) -> str:
    text = text.replace("\n", " ")
    return json.dumps(text if len(text) <= width else text[: width - 1] + "…", ensure_ascii=False)
