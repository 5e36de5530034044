"""Check finished spans against the GenAI registry (see registry.py): one list of violations.

What is checked, per span:

- ``gen_ai.operation.name`` is set, and is a registry member; it selects the span type
  (``chat`` -> ``gen_ai.inference.client``, ``retrieval`` -> ``gen_ai.retrieval.client``, ...).
- The span kind is the type's kind, and the name follows the type's pattern
  (``{gen_ai.operation.name} {gen_ai.request.model}``).
- Required attributes are present; conditionally required ones are present when their condition
  can be decided from the span (``error.type`` iff the span failed, ``server.port`` with
  ``server.address``, ``gen_ai.request.stream`` on a streamed answer, the model, conversation and
  workflow names when the span knows them).
- Every ``gen_ai.*`` / core attribute is a registry name, not deprecated, of the registry's type
  (a double is a float, not an int), with an enum value among the members, and JSON attributes
  valid against their published schema.
- Any other attribute is an OpenInference name (from the ``openinference-semantic-conventions``
  package, not from ragtel) or under ``ragtel.``.
- Events: ``gen_ai.evaluation.result`` carries its required attributes and sits on a GenAI
  operation span (the span it evaluates).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from openinference.semconv import trace as oi
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from .registry import CONDITIONALLY_REQUIRED, REQUIRED, Registry, SpanType, load

OPERATION_TYPES = {
    "chat": "gen_ai.inference.client",
    "text_completion": "gen_ai.inference.client",
    "generate_content": "gen_ai.inference.client",
    "embeddings": "gen_ai.embeddings.client",
    "retrieval": "gen_ai.retrieval.client",
    "create_agent": "gen_ai.create_agent.client",
    "execute_tool": "gen_ai.execute_tool.internal",
    "invoke_workflow": "gen_ai.invoke_workflow.internal",
    "invoke_agent": "gen_ai.invoke_agent.internal",  # ragtel's agents run in process
    "plan": "gen_ai.plan.internal",
}
_KINDS = {SpanKind.CLIENT: "client", SpanKind.INTERNAL: "internal", SpanKind.SERVER: "server"}

# Core attributes a span may carry whatever its type (the SDK writes exception.* on events).
_CORE_ANYWHERE = {"error.type", "server.address", "server.port"}
_EXCEPTION_EVENT = "exception"


def _openinference_names() -> tuple[set[str], tuple[str, ...]]:
    """Flat OpenInference names, and the prefixes of its indexed/nested ones."""
    flat: set[str] = set()
    for holder in (oi.SpanAttributes, oi.ToolAttributes, oi.RerankerAttributes):
        flat.update(v for k, v in vars(holder).items() if k.isupper() and isinstance(v, str))
    prefixes = (
        f"{oi.SpanAttributes.RETRIEVAL_DOCUMENTS}.",
        f"{oi.SpanAttributes.EMBEDDING_EMBEDDINGS}.",
        f"{oi.SpanAttributes.LLM_INPUT_MESSAGES}.",
        f"{oi.SpanAttributes.LLM_OUTPUT_MESSAGES}.",
        f"{oi.SpanAttributes.LLM_TOOLS}.",
        f"{oi.RerankerAttributes.RERANKER_INPUT_DOCUMENTS}.",
        f"{oi.RerankerAttributes.RERANKER_OUTPUT_DOCUMENTS}.",
    )
    return flat, prefixes


_OI_FLAT, _OI_PREFIXES = _openinference_names()
# What ragtel records with one convention off under the other's names, because the chosen one has
# none (a decision in the README's attribute table): the GenAI conventions name no embedding
# vectors, user, metadata or tags, nor documents without an id and a score; OpenInference names
# no feedback.
_OI_KEPT = (
    f"{oi.SpanAttributes.EMBEDDING_EMBEDDINGS}.",
    f"{oi.SpanAttributes.RETRIEVAL_DOCUMENTS}.",  # documents without the GenAI schema's id/score
    oi.SpanAttributes.USER_ID,
    oi.SpanAttributes.METADATA,
    oi.SpanAttributes.TAG_TAGS,
)
_GENAI_KEPT = ("gen_ai.evaluation.",)
_OI_KINDS = {k.value for k in oi.OpenInferenceSpanKindValues}
_OI_PROVIDERS = {p.value for p in oi.OpenInferenceLLMProviderValues}


@dataclass(frozen=True)
class Violation:
    span: str
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.span}: {self.key}: {self.problem}"


def check_spans(
    spans: Iterable[ReadableSpan],
    *,
    genai: bool = True,
    openinference: bool = True,
    registry: Registry | None = None,
) -> list[Violation]:
    """Every violation in ``spans``; ``genai`` / ``openinference`` say which sets were chosen."""
    reg = registry or load()
    spans = list(spans)
    by_id = {s.context.span_id: s for s in spans}
    out: list[Violation] = []
    for span in spans:
        parent = by_id.get(span.parent.span_id) if span.parent is not None else None
        out.extend(_check_span(span, parent, reg, genai=genai, openinference=openinference))
    return out


def _check_span(
    span: ReadableSpan,
    parent: ReadableSpan | None,
    reg: Registry,
    *,
    genai: bool,
    openinference: bool,
) -> list[Violation]:
    attrs: Mapping[str, Any] = span.attributes or {}
    found: list[Violation] = []

    def bad(key: str, problem: str) -> None:
        found.append(Violation(span.name, key, problem))

    for key, value in attrs.items():
        _check_key(key, value, reg, bad, genai=genai, openinference=openinference)

    failed = span.status.status_code is StatusCode.ERROR
    if genai:
        operation = attrs.get("gen_ai.operation.name")
        span_type = reg.spans.get(OPERATION_TYPES.get(str(operation), ""))
        if operation is None:
            _check_step(span, attrs, bad)
        elif span_type is None:
            bad("gen_ai.operation.name", f"{operation!r} selects no span type")
        else:
            _check_type(span, attrs, span_type, failed, bad)
    if openinference and attrs.get("openinference.span.kind") not in _OI_KINDS:
        bad(
            "openinference.span.kind",
            f"missing or unknown: {attrs.get('openinference.span.kind')!r}",
        )
    parent_attrs: Mapping[str, Any] = (parent.attributes or {}) if parent is not None else {}
    for event in span.events:
        _check_event(event.name, event.attributes or {}, attrs, parent_attrs, reg, bad, genai)
    return found


# GenAI names that fit a span which is no GenAI operation (a step inside a workflow: a prompt
# template being filled, a chain step, the span that carries feedback on another span).
_STEP_GENAI = ("gen_ai.conversation.id", "gen_ai.prompt.", "gen_ai.evaluation.")


def _check_step(span: ReadableSpan, attrs: Mapping[str, Any], bad: Any) -> None:
    """A span without ``gen_ai.operation.name``: a run's root must have one (the workflow or the
    agent); any other span may be a plain step, and then carries no operation's attributes."""
    if span.parent is None:
        bad("gen_ai.operation.name", "missing on a root: no GenAI span type applies")
        return
    for key in attrs:
        if key.startswith("gen_ai.") and not key.startswith(_STEP_GENAI):
            bad(key, "on a span with no gen_ai.operation.name")


def _check_type(
    span: ReadableSpan,
    attrs: Mapping[str, Any],
    span_type: SpanType,
    failed: bool,
    bad: Any,
) -> None:
    kind = _KINDS.get(span.kind, str(span.kind))
    if kind != span_type.kind:
        bad("span.kind", f"{kind}, {span_type.type} says {span_type.kind}")
    expected = _expected_name(span_type.name_pattern, attrs)
    if expected is not None and span.name != expected:
        bad("span.name", f"expected {expected!r}")
    for key, req in span_type.attributes.items():
        present = key in attrs
        if req.level == REQUIRED and not present:
            bad(key, f"required by {span_type.type}, missing")
        elif req.level == CONDITIONALLY_REQUIRED:
            needed = _condition_holds(key, attrs, failed)
            if needed is True and not present:
                bad(key, f"conditionally required ({req.condition.strip()}), missing")
            if key == "error.type" and present and not failed:
                bad(key, "set on a span that did not fail")
            if key == "gen_ai.request.stream" and present and attrs[key] is not True:
                bad(key, "set only when the request streams (and then to true)")


def _condition_holds(key: str, attrs: Mapping[str, Any], failed: bool) -> bool | None:
    """Whether a conditionally required attribute is due on this span; None: not decidable."""
    if key == "error.type":
        return failed
    if key == "server.port":
        return "server.address" in attrs
    if key == "gen_ai.request.stream":
        # A streamed answer is the one with a time to its first chunk.
        return "gen_ai.response.time_to_first_chunk" in attrs
    if key == "gen_ai.request.model":
        # "If available": the model is known when the OpenInference side names it.
        return any(k in attrs for k in ("llm.model_name", "embedding.model_name"))
    if key == "gen_ai.conversation.id":
        return "session.id" in attrs
    if key == "gen_ai.workflow.name":
        return True  # ragtel always knows the run's name
    if key == "gen_ai.data_source.id":
        return None
    return None


_FIELD = re.compile(r"\{([a-z_.]+)\}")


def _expected_name(pattern: str, attrs: Mapping[str, Any]) -> str | None:
    if not pattern:
        return None
    missing = [k for k in _FIELD.findall(pattern) if k not in attrs]
    if missing:
        # The spec's fallback for an unknown name part is the operation alone.
        return str(attrs.get("gen_ai.operation.name")) if len(missing) == 1 else None
    return _FIELD.sub(lambda m: str(attrs[m.group(1)]), pattern)


def _check_key(
    key: str, value: Any, reg: Registry, bad: Any, *, genai: bool, openinference: bool
) -> None:
    if key.startswith("ragtel."):
        return
    entry = reg.attribute(key)
    if key.startswith("gen_ai.") or key in _CORE_ANYWHERE:
        if not genai and key.startswith("gen_ai.") and not key.startswith(_GENAI_KEPT):
            bad(key, "GenAI name written with the GenAI convention off")
        if entry is None:
            bad(key, "not a GenAI registry name")
            return
        if entry.deprecated:
            bad(key, "deprecated")
        _check_value(key, value, entry.type, entry.members, reg, bad)
        return
    if key in _OI_FLAT or key.startswith(_OI_PREFIXES):
        if not openinference and not key.startswith(_OI_KEPT):
            bad(key, "OpenInference name written with OpenInference off")
        if key == "llm.provider" and value not in _OI_PROVIDERS:
            bad(key, f"{value!r} is not an OpenInference provider")
        return
    bad(key, "neither GenAI, OpenInference nor ragtel.*")


_SCALARS = {"string": str, "int": int, "double": float, "boolean": bool}

# Enums whose registry list is "well-known values": a value none of them applies to may be a
# custom one ("If one of them applies, then the respective value MUST be used; otherwise, a custom
# value MAY be used"; error.type: "the canonical name of exception that occurred"). The operation
# name is not open here: it selects the span type.
_OPEN_ENUMS = {"gen_ai.provider.name", "error.type"}
_GENERIC_TOKENS = {"ai", "gcp", "aws", "gen", "ibm", "x"}


def _member_spelled_otherwise(key: str, value: str, members: frozenset[str]) -> str | None:
    """The member a custom value names in another spelling (``google_vertexai`` for
    ``gcp.vertex_ai``, ``amazon_bedrock`` for ``aws.bedrock``), by the member's distinctive
    words; None when it names none of them (a provider the registry does not list)."""
    if key not in _OPEN_ENUMS:
        return None
    squashed = re.sub(r"[^a-z]", "", value.lower())
    for member in sorted(members):
        lowered = member.lower()
        words = {w for w in re.split(r"[._]", lowered) if w not in _GENERIC_TOKENS}
        words.add(re.sub(r"[^a-z]", "", lowered))  # x_ai -> xai
        words.discard("")
        if any(w in squashed for w in words):
            return member
    return None


def _check_value(
    key: str, value: Any, kind: str, members: frozenset[str], reg: Registry, bad: Any
) -> None:
    if kind == "enum":
        if not isinstance(value, str):
            bad(key, f"enum value of type {type(value).__name__}")
        elif value not in members:
            spelled = _member_spelled_otherwise(key, value, members)
            if spelled is not None or key not in _OPEN_ENUMS:
                hint = f" (the registry spells it {spelled})" if spelled else ""
                bad(key, f"{value!r} is not a registry member{hint}")
        return
    if kind == "any":
        schema = reg.schemas.get(key)
        if schema is not None:
            _check_json(key, value, schema, bad)
        return
    if kind.endswith("[]"):
        item = _SCALARS[kind[:-2]]
        if not isinstance(value, (list, tuple)) or not all(type(v) is item for v in value):
            bad(key, f"expected {kind}, got {value!r:.80}")
        return
    if type(value) is not _SCALARS[kind]:
        bad(key, f"expected {kind}, got {type(value).__name__} {value!r:.80}")


def _check_json(key: str, value: Any, schema: dict[str, Any], bad: Any) -> None:
    try:
        document = json.loads(value) if isinstance(value, str) else value
    except ValueError as error:
        bad(key, f"not JSON: {error}")
        return
    try:
        jsonschema.validate(document, schema)
    except jsonschema.ValidationError as error:
        bad(key, f"schema: {error.message} at {list(error.absolute_path)}")


def _check_event(
    name: str,
    event_attrs: Mapping[str, Any],
    span_attrs: Mapping[str, Any],
    parent_attrs: Mapping[str, Any],
    reg: Registry,
    bad: Any,
    genai: bool = True,
) -> None:
    if name == _EXCEPTION_EVENT or name.startswith("ragtel."):
        return
    spec = reg.events.get(name)
    if spec is None:
        bad(f"event {name}", "not a registry event")
        return
    for key, req in spec.attributes.items():
        if req.level == REQUIRED and key not in event_attrs:
            bad(f"event {name}", f"{key} required, missing")
    for key, value in event_attrs.items():
        entry = reg.attribute(key)
        if entry is None and not key.startswith("ragtel."):
            bad(f"event {name}", f"{key} not a registry name")
        elif entry is not None:
            _check_value(key, value, entry.type, entry.members, reg, bad)
    # "SHOULD be parented to GenAI operation span being evaluated": on that span, or (feedback
    # given after the span ended) on a span of its own that is the evaluated span's child.
    evaluated = span_attrs if "gen_ai.operation.name" in span_attrs else parent_attrs
    if genai and name == "gen_ai.evaluation.result" and "gen_ai.operation.name" not in evaluated:
        bad(f"event {name}", "not on the GenAI operation span it evaluates, nor under it")
