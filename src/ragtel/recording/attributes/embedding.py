"""EMBEDDING steps / GenAI ``embeddings``: model, texts and vectors, within the budget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.trace import SpanKind

from ragtel import _stats
from ragtel.recording.attributes import monitor
from ragtel.recording.budget import BYTES_PER_FLOAT, text_size
from ragtel.recording.encode import to_float_list
from ragtel.recording.records import RunContext
from ragtel.semconv import GenAI, OpenInference, Operation, Ragtel, embedding_prefix
from ragtel.semconv import SpanKind as OIKind

if TYPE_CHECKING:
    from ragtel.recording.recorder import Recorder
    from ragtel.recording.step import Step

_OVERHEAD: Final = 96  # keys (embedding.embeddings.31.embedding.vector) and framing, in bytes
_OI_EMB_TEXT: Final = OpenInference.EMBEDDING_TEXT
_OI_EMB_VECTOR: Final = OpenInference.EMBEDDING_VECTOR


def start(
    rec: Recorder,
    name: str,
    parent: Step | None,
    run: RunContext | None,
    *,
    model: str | None,
    texts: Sequence[str],
    role: str,
) -> Step:
    attrs: dict[str, Any] = {Ragtel.EMBEDDING_ROLE: role, Ragtel.EMBEDDINGS_COUNT: len(texts)}
    if rec.oi:
        attrs[OpenInference.SPAN_KIND] = OIKind.EMBEDDING
        if model:
            attrs[OpenInference.EMBEDDING_MODEL_NAME] = model
    if rec.genai:
        attrs[GenAI.OPERATION_NAME] = Operation.EMBEDDINGS
        if model:
            attrs[GenAI.REQUEST_MODEL] = model
    span_name = f"{Operation.EMBEDDINGS} {model}" if rec.genai and model else name
    step = rec.open_step(span_name, OIKind.EMBEDDING, SpanKind.CLIENT, parent, attrs, run)
    step.embedding_texts = texts
    step.embedding_role = role
    return step


def end(step: Step, vectors: Sequence[Any]) -> None:
    rec = step.recorder
    texts = step.embedding_texts
    total = max(len(vectors), len(texts))
    float_vectors = [to_float_list(v) for v in vectors]
    if float_vectors and float_vectors[0]:
        step.put_unbudgeted(GenAI.EMBEDDINGS_DIMENSION_COUNT, len(float_vectors[0]))
    monitor.observe(step, float_vectors)
    capture_vectors = rec.settings.capture_embeddings
    cap = min(total, rec.settings.max_vectors)
    recorded = 0
    for i in range(cap):
        prefix = embedding_prefix(i)
        text = step.text(texts[i]) if i < len(texts) else None
        vector = float_vectors[i] if capture_vectors and i < len(float_vectors) else None
        n = (text is not None) + (vector is not None)
        size = text_size(text) + (len(vector) * BYTES_PER_FLOAT if vector else 0) + _OVERHEAD
        if not n:
            break
        if not step.room(n, size):
            step.cut(Ragtel.SPAN_BYTES_TRUNCATED)
            break
        if text is not None:
            step.put_unbudgeted(prefix + _OI_EMB_TEXT, text)
        if vector is not None:
            step.put_unbudgeted(prefix + _OI_EMB_VECTOR, vector)
        step.charge(size)
        recorded += 1
    if recorded < total and (capture_vectors or rec.content):
        step.put_unbudgeted(Ragtel.EMBEDDINGS_TRUNCATED, True)
        step.put_unbudgeted(Ragtel.EMBEDDINGS_RECORDED, recorded)
        _stats.add("vectors_not_recorded", total - recorded)
    step.finish()
