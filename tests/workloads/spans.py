"""Reading a captured trace the way a user reads it in a trace viewer.

Each check names what a user would look for: one trace per call with a single root and no orphan,
each step's kind and parent, the tool exchange on both sides (the model asking, the tool running,
the model reading the result), the documents, the answer on the root.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from tests.unit.conformance.check import check_spans

KIND = "openinference.span.kind"


class Run:
    """The spans of one trace, with its tree."""

    def __init__(self, spans: Sequence[ReadableSpan]) -> None:
        self.spans = sorted(spans, key=lambda s: (s.start_time or 0, s.name))
        self._by_id = {s.context.span_id: s for s in self.spans}
        roots = [s for s in self.spans if s.parent is None]
        orphans = [
            s for s in self.spans if s.parent is not None and s.parent.span_id not in self._by_id
        ]
        assert len(roots) == 1, f"roots: {[s.name for s in roots]}"
        assert not orphans, f"orphans (parent not in the trace): {[s.name for s in orphans]}"
        assert len({s.context.trace_id for s in self.spans}) == 1
        for span in self.spans:
            assert span.end_time is not None and span.end_time >= span.start_time, span.name
        self.root = roots[0]

    def kind(self, span: ReadableSpan) -> str | None:
        return span.attributes.get(KIND)  # type: ignore[return-value]

    def of_kind(self, kind: str) -> list[ReadableSpan]:
        return [s for s in self.spans if self.kind(s) == kind]

    def parent(self, span: ReadableSpan) -> ReadableSpan | None:
        return self._by_id.get(span.parent.span_id) if span.parent else None

    def ancestors(self, span: ReadableSpan) -> list[ReadableSpan]:
        found = []
        current = self.parent(span)
        while current is not None:
            found.append(current)
            current = self.parent(current)
        return found

    def nearest(self, span: ReadableSpan, kinds: Iterable[str]) -> ReadableSpan | None:
        """The closest ancestor of one of ``kinds`` (compositions in between are skipped)."""
        wanted = set(kinds)
        return next((a for a in self.ancestors(span) if self.kind(a) in wanted), None)

    def tree(self) -> list[str]:
        children: dict[int | None, list[ReadableSpan]] = defaultdict(list)
        for span in self.spans:
            children[span.parent.span_id if span.parent else None].append(span)
        lines: list[str] = []

        def walk(parent: int | None, depth: int) -> None:
            for child in children[parent]:
                lines.append("  " * depth + f"{child.name} [{self.kind(child)}]")
                walk(child.context.span_id, depth + 1)

        walk(None, 0)
        return lines


def runs(spans: Sequence[ReadableSpan]) -> list[Run]:
    """One ``Run`` per trace, each checked well formed, in start order."""
    grouped: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in spans:
        grouped[span.context.trace_id].append(span)
    found = [Run(group) for group in grouped.values()]
    return sorted(found, key=lambda r: r.root.start_time or 0)


def one_run(spans: Sequence[ReadableSpan]) -> Run:
    found = runs(spans)
    assert len(found) == 1, [r.tree() for r in found]
    return found[0]


def attrs(span: ReadableSpan) -> Mapping[str, Any]:
    return span.attributes or {}


def genai_messages(span: ReadableSpan, key: str) -> list[dict[str, Any]]:
    raw = attrs(span).get(key)
    assert isinstance(raw, str), f"{span.name} has no {key}"
    return json.loads(raw)


def oi_messages(span: ReadableSpan, direction: str) -> list[dict[str, Any]]:
    """``llm.{direction}_messages.N.message.*`` back as a list of dicts (tool calls nested)."""
    prefix = f"llm.{direction}_messages."
    found: dict[int, dict[str, Any]] = defaultdict(dict)
    for key, value in attrs(span).items():
        if not key.startswith(prefix):
            continue
        index, _, rest = key[len(prefix) :].partition(".message.")
        target = found[int(index)]
        if rest.startswith("tool_calls."):
            call_index, _, field = rest[len("tool_calls.") :].partition(".tool_call.")
            target.setdefault("tool_calls", defaultdict(dict))[int(call_index)][field] = value
        else:
            target[rest] = value
    out = []
    for index in sorted(found):
        message = found[index]
        if "tool_calls" in message:
            calls = message["tool_calls"]
            message["tool_calls"] = [calls[i] for i in sorted(calls)]
        out.append(message)
    return out


def tool_call_parts(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [p for m in messages for p in m.get("parts", ()) if p.get("type") == "tool_call"]


def assert_tool_exchange(
    run: Run, *, tool: str, arguments: Mapping[str, Any], structured: bool = True
) -> str:
    """The whole exchange for one tool call; returns its id.

    ``structured``: the model asked through the provider's tool-calling API (False for ReAct
    text agents, whose request is text and whose call id is the framework's).
    """
    tool_spans = [s for s in run.of_kind("TOOL") if attrs(s).get("gen_ai.tool.name") == tool]
    assert len(tool_spans) == 1, run.tree()
    tool_span = tool_spans[0]
    call_id = attrs(tool_span).get("gen_ai.tool.call.id")
    assert isinstance(call_id, str) and call_id, (
        f"TOOL span has no gen_ai.tool.call.id: {attrs(tool_span)}"
    )
    # Arguments as the model gave them: no wrapper of the framework's around them.
    assert json.loads(attrs(tool_span)["gen_ai.tool.call.arguments"]) == dict(arguments)
    assert json.loads(attrs(tool_span)["input.value"]) == dict(arguments)
    assert attrs(tool_span)["tool.name"] == tool

    llms = run.of_kind("LLM")
    asking = [s for s in llms if s.end_time <= tool_span.start_time]  # type: ignore[operator]
    answering = [s for s in llms if s.start_time >= tool_span.end_time]  # type: ignore[operator]
    assert asking and answering, run.tree()
    ask, answer = asking[-1], answering[0]
    if structured:
        # The request: the tool call part with id, name and arguments, in both conventions.
        calls = tool_call_parts(genai_messages(ask, "gen_ai.output.messages"))
        assert calls == [
            {"type": "tool_call", "id": call_id, "name": tool, "arguments": dict(arguments)}
        ]
        oi_calls = oi_messages(ask, "output")[-1]["tool_calls"]
        assert oi_calls == [
            {
                "id": call_id,
                "function.name": tool,
                "function.arguments": json.dumps(dict(arguments)),
            }
        ] or (
            len(oi_calls) == 1
            and oi_calls[0]["id"] == call_id
            and oi_calls[0]["function.name"] == tool
            and json.loads(oi_calls[0]["function.arguments"]) == dict(arguments)
        ), oi_calls
        # The tools offered to the model, in both conventions.
        definitions = json.loads(attrs(ask)["gen_ai.tool.definitions"])
        assert [d["name"] for d in definitions] == [tool], definitions
        assert definitions[0]["type"] == "function" and "parameters" in definitions[0]
        schema = json.loads(attrs(ask)["llm.tools.0.tool.json_schema"])
        assert schema["function"]["name"] == tool
        # The result read back: the assistant's call and the tool's answer, with the call id.
        history = genai_messages(answer, "gen_ai.input.messages")
        assert tool_call_parts(history) == calls
        responses = [
            p
            for m in history
            if m["role"] == "tool"
            for p in m["parts"]
            if p["type"] == "tool_call_response"
        ]
        assert [r["id"] for r in responses] == [call_id], history
        oi_history = oi_messages(answer, "input")
        tool_messages = [m for m in oi_history if m["role"] == "tool"]
        assert [m["tool_call_id"] for m in tool_messages] == [call_id], oi_history
        assert any(m.get("tool_calls") for m in oi_history if m["role"] == "assistant"), oi_history
    return call_id


def assert_documents(span: ReadableSpan, *, scored: bool, ids: bool = True) -> list[dict[str, Any]]:
    """Every document with id, content, metadata (and score where the store gives one), in
    OpenInference's keys; GenAI's list holds the same documents, those with the id and score its
    schema requires (the others are counted)."""
    a = attrs(span)
    count = a["ragtel.retrieval.documents.count"]
    assert count, span.name
    docs = []
    for i in range(count):
        prefix = f"retrieval.documents.{i}.document."
        doc = {
            "id": a.get(prefix + "id"),
            "score": a.get(prefix + "score"),
            "content": a[prefix + "content"],
            "metadata": json.loads(a[prefix + "metadata"]),
        }
        assert doc["content"] and doc["metadata"], doc
        if ids:
            assert doc["id"], doc
        if scored:
            assert isinstance(doc["score"], float), doc
        docs.append(doc)
    genai = json.loads(a.get("gen_ai.retrieval.documents", "[]"))
    assert genai == [d for d in docs if d["id"] is not None and d["score"] is not None]
    assert len(genai) + a.get("ragtel.retrieval.documents.not_in_genai", 0) == count
    return docs


# What an agent trace adds to a RAG trace: the agent span, the tool exchange, the tools offered.
_AGENT_KEYS = ("gen_ai.agent.", "gen_ai.tool.", "gen_ai.input.messages", "gen_ai.output.messages")
_AGENT_KEYS += ("agent.", "tool.", "llm.tools.", "llm.input_messages.", "llm.output_messages.")


def assert_agent_conformance(run: Run) -> None:
    """The agent and tool-call attributes pass the GenAI registry and OpenInference's names
    (``tests/unit/conformance``); the agent span is an ``invoke_agent`` span of the registry."""
    found = [
        str(v)
        for v in check_spans(run.spans)
        if v.key.startswith(_AGENT_KEYS)
        or (
            v.span == run.root.name and v.key in ("gen_ai.operation.name", "span.name", "span.kind")
        )
    ]
    assert found == [], found
