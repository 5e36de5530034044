"""Spans, from any source, into what the drift analysis needs: embeddings and feedback.

Pure functions. Every source (OTLP JSON lines, Jaeger's OTLP-shaped API, Phoenix's span list) is
turned into :class:`SpanView` and then into :class:`Embedding` / :class:`Feedback` records; the
rest of the analysis never sees a wire format.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ragtel.semconv import EmbeddingRole, GenAI, OpenInference, Operation, Ragtel, SpanKind

_EMBEDDING_KEY = re.compile(r"^embedding\.embeddings\.(\d+)\.embedding\.(vector|text)$")
_SERVICE_NAME = "service.name"
_ROLES = (EmbeddingRole.QUERY, EmbeddingRole.DOCUMENT, EmbeddingRole.KNOWLEDGE_BASE_SAMPLE)
_WANTED = (OpenInference.SPAN_KIND, GenAI.EVALUATION_NAME, GenAI.EVALUATION_SCORE_VALUE,
           GenAI.EVALUATION_SCORE_LABEL)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SpanView:
    """The parts of a span the analysis reads."""

    trace_id: str
    name: str
    start_ns: int
    service: str
    attributes: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Embedding:
    """One embedded text found on an EMBEDDING span."""

    role: str  # EmbeddingRole.QUERY, DOCUMENT or KNOWLEDGE_BASE_SAMPLE
    vector: np.ndarray
    text: str | None
    trace_id: str
    start_ns: int
    doc_id: str | None = None  # a document's id, when its span or file named it


@dataclass(frozen=True, slots=True)
class Feedback:
    """A GenAI evaluation (user feedback) attached to a trace."""

    trace_id: str
    name: str | None
    score: float | None
    label: str | None
    explanation: str | None


# ---------------------------------------------------------------------------------------------
# OTLP JSON (protobuf JSON mapping), as files and Jaeger's /api/v3 return it


def any_value(value: Mapping[str, Any] | None) -> Any:
    """Python value of an OTLP JSON ``AnyValue``."""
    if not value:
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "doubleValue" in value:
        return float(value["doubleValue"])  # "NaN"/"Infinity" arrive as strings
    if "intValue" in value:
        return int(value["intValue"])  # int64 is a JSON string in the mapping
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        values = (value["arrayValue"] or {}).get("values") or []
        if values and "doubleValue" in values[0]:
            # Fast path for vectors: hundreds of doubles per attribute.
            return [float(v.get("doubleValue", 0.0)) for v in values]
        return [any_value(v) for v in values]
    if "kvlistValue" in value:
        return {
            kv["key"]: any_value(kv.get("value")) for kv in value["kvlistValue"].get("values") or []
        }
    return None


def _is_interesting(attributes: list[Mapping[str, Any]]) -> bool:
    for kv in attributes:
        key = kv.get("key")
        if key == OpenInference.SPAN_KIND:
            if (kv.get("value") or {}).get("stringValue") == SpanKind.EMBEDDING:
                return True
        elif key == GenAI.OPERATION_NAME:
            if (kv.get("value") or {}).get("stringValue") == Operation.EMBEDDINGS:
                return True
        elif key == Ragtel.VECTORS or key in _WANTED:
            return True
    return False


def otlp_spans(request: Mapping[str, Any]) -> Iterator[SpanView | None]:
    """Spans of one ``ExportTraceServiceRequest``; None for each span without embeddings or
    feedback (counted by the caller, never decoded: most spans of a RAG trace are neither)."""
    for resource_spans in request.get("resourceSpans") or []:
        resource = resource_spans.get("resource") or {}
        service = ""
        for kv in resource.get("attributes") or []:
            if kv.get("key") == _SERVICE_NAME:
                service = str(any_value(kv.get("value")) or "")
        for scope_spans in resource_spans.get("scopeSpans") or []:
            for span in scope_spans.get("spans") or []:
                attributes = span.get("attributes") or []
                if not _is_interesting(attributes):
                    yield None
                    continue
                yield SpanView(
                    trace_id=str(span.get("traceId") or ""),
                    name=str(span.get("name") or ""),
                    start_ns=int(span.get("startTimeUnixNano") or 0),
                    service=service,
                    attributes={kv["key"]: any_value(kv.get("value")) for kv in attributes},
                )


# ---------------------------------------------------------------------------------------------
# Phoenix /v1/projects/{project}/spans items


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        # OpenInference nests indexed lists (embedding.embeddings[i].embedding.vector).
        for index, inner in enumerate(value):
            _flatten(f"{prefix}.{index}", inner, out)
    else:
        out[prefix] = value


def _iso_to_ns(text: str) -> int:
    from datetime import datetime

    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(stamp.timestamp() * 1_000_000_000)


def phoenix_span(item: Mapping[str, Any], service: str) -> SpanView | None:
    """One Phoenix span item; attributes may be flat dotted keys or nested objects."""
    attributes: dict[str, Any] = {}
    _flatten("", item.get("attributes") or {}, attributes)
    kind = attributes.get(OpenInference.SPAN_KIND) or str(item.get("span_kind") or "").upper()
    if kind != SpanKind.EMBEDDING and not any(k in attributes for k in _WANTED[1:]):
        return None
    attributes[OpenInference.SPAN_KIND] = kind
    context = item.get("context") or {}
    start = item.get("start_time")
    return SpanView(
        trace_id=str(context.get("trace_id") or ""),
        name=str(item.get("name") or ""),
        start_ns=_iso_to_ns(start) if isinstance(start, str) and start else 0,
        service=service,
        attributes=attributes,
    )


# ---------------------------------------------------------------------------------------------
# SpanView -> records


def _vector(value: Any) -> np.ndarray | None:
    if isinstance(value, str):
        # Jaeger returns array attributes as JSON strings.
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, list | tuple) or not value:
        return None
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if array.ndim != 1 or not np.isfinite(array).all():
        return None
    return array


def embeddings(span: SpanView) -> list[Embedding]:
    """Embedded texts of an EMBEDDING span (none for other spans).

    The role comes from ``ragtel.embedding.role``; spans of other instrumentations lack it,
    and then a single vector is taken for a query and several for documents, which is how
    ``embed_query`` and ``embed_documents`` calls look. Documents embedded while answering a
    query (role ``query_document``) are neither, and are left out.
    """
    attributes = span.attributes
    if not _is_embedding(attributes):
        return []
    role = attributes.get(Ragtel.EMBEDDING_ROLE)
    if role == EmbeddingRole.QUERY_DOCUMENT:
        return []
    ids = _strings(attributes.get(Ragtel.EMBEDDING_DOCUMENT_IDS))
    vectors = _packed(attributes)
    texts: dict[int, str] = {}
    for key, value in attributes.items():
        if not key.startswith("embedding.embeddings."):
            continue
        match = _EMBEDDING_KEY.match(key)
        if match is None:
            continue
        index = int(match.group(1))
        if match.group(2) == "vector":
            vector = _vector(value)
            if vector is not None:
                vectors[index] = vector
        elif isinstance(value, str):
            texts[index] = value
    if role not in _ROLES:
        role = EmbeddingRole.QUERY if len(vectors) == 1 else EmbeddingRole.DOCUMENT
    return [
        Embedding(
            role,
            vectors[i],
            texts.get(i),
            span.trace_id,
            span.start_ns,
            ids[i] if i < len(ids) and ids[i] else None,
        )
        for i in sorted(vectors)
    ]


def _is_embedding(attributes: Mapping[str, Any]) -> bool:
    # Spans recorded with the GenAI set alone carry no OpenInference kind.
    return (
        attributes.get(OpenInference.SPAN_KIND) == SpanKind.EMBEDDING
        or attributes.get(GenAI.OPERATION_NAME) == Operation.EMBEDDINGS
        or Ragtel.VECTORS in attributes  # a continuation span of a knowledge-base batch
    )


def _packed(attributes: Mapping[str, Any]) -> dict[int, np.ndarray]:
    """The vectors of ``ragtel.vectors`` (see ``ragtel.recording.vectors``), by index."""
    value = attributes.get(Ragtel.VECTORS)
    if not isinstance(value, str) or not value:
        return {}
    try:
        flat = np.frombuffer(base64.b64decode(value, validate=True), dtype="<f4")
    except ValueError:  # not base64 (binascii.Error), or not whole float32 values
        return {}
    dimension = attributes.get(GenAI.EMBEDDINGS_DIMENSION_COUNT)
    if not isinstance(dimension, int) or dimension <= 0 or flat.size % dimension:
        return {}
    return {
        i: row.astype(np.float64)
        for i, row in enumerate(flat.reshape(-1, dimension))
        if np.isfinite(row).all()
    }


def _strings(value: Any) -> list[str]:
    """A string array attribute (Jaeger returns arrays as JSON text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, list | tuple):
        return []
    return [v if isinstance(v, str) else "" for v in value]


def feedback(span: SpanView) -> Feedback | None:
    """The evaluation a span carries, or None."""
    attributes = span.attributes
    if not any(k in attributes for k in _WANTED[1:]):
        return None
    score = attributes.get(GenAI.EVALUATION_SCORE_VALUE)
    label = attributes.get(GenAI.EVALUATION_SCORE_LABEL)
    name = attributes.get(GenAI.EVALUATION_NAME)
    explanation = attributes.get(GenAI.EVALUATION_EXPLANATION)
    return Feedback(
        trace_id=span.trace_id,
        name=str(name) if name is not None else None,
        score=float(score) if isinstance(score, int | float) else None,
        label=str(label) if label is not None else None,
        explanation=str(explanation) if explanation is not None else None,
    )
