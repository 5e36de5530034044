"""EMBEDDING steps / GenAI ``embeddings``: model, texts and vectors, within the budget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.trace import SpanKind

from ragtel import _stats
from ragtel.recording.attributes import monitor
from ragtel.recording.budget import BYTES_PER_FLOAT, text_size
from ragtel.recording.encode import to_float_list
from ragtel.recording.providers import UNKNOWN_PROVIDER, genai_provider
from ragtel.recording.records import RunContext
from ragtel.recording.vectors import pack_vectors, packed_size
from ragtel.semconv import EmbeddingRole, GenAI, OpenInference, Operation, Ragtel, embedding_prefix
from ragtel.semconv import SpanKind as OIKind

if TYPE_CHECKING:
    from ragtel.recording.recorder import Recorder
    from ragtel.recording.step import Step

_OVERHEAD: Final = 96  # keys (embedding.embeddings.31.embedding.vector) and framing, in bytes
_OI_EMB_TEXT: Final = OpenInference.EMBEDDING_TEXT
_OI_EMB_VECTOR: Final = OpenInference.EMBEDDING_VECTOR
_PART_NAME: Final = "embeddings (continued)"
_SAMPLE_NAME: Final = "ragtel knowledge base sample"
# Roles whose batches are recorded whole: the knowledge base, as built or as sampled.
_WHOLE: Final = frozenset({EmbeddingRole.DOCUMENT, EmbeddingRole.KNOWLEDGE_BASE_SAMPLE})


def start(
    rec: Recorder,
    name: str,
    parent: Step | None,
    run: RunContext | None,
    *,
    model: str | None,
    texts: Sequence[str],
    role: str,
    provider: str | None = None,
) -> Step:
    attrs: dict[str, Any] = {Ragtel.EMBEDDING_ROLE: role, Ragtel.EMBEDDINGS_COUNT: len(texts)}
    if rec.oi:
        attrs[OpenInference.SPAN_KIND] = OIKind.EMBEDDING
        if model:
            attrs[OpenInference.EMBEDDING_MODEL_NAME] = model
    if rec.genai:
        attrs[GenAI.OPERATION_NAME] = Operation.EMBEDDINGS
        attrs[GenAI.PROVIDER_NAME] = genai_provider(provider) or UNKNOWN_PROVIDER
        if model:
            attrs[GenAI.REQUEST_MODEL] = model
    span_name = f"{Operation.EMBEDDINGS} {model}" if rec.genai and model else name
    step = rec.open_step(span_name, OIKind.EMBEDDING, SpanKind.CLIENT, parent, attrs, run)
    step.embedding_texts = texts
    step.embedding_role = role
    return step


def start_sample(
    rec: Recorder,
    texts: Sequence[str | None],
    ids: Sequence[str | None],
    drawn_from: int | None,
) -> Step:
    """The monitor's knowledge-base sample (no model call, so no GenAI operation);
    ``drawn_from``: the documents it is a sample of, when more than it holds."""
    role = EmbeddingRole.KNOWLEDGE_BASE_SAMPLE
    attrs: dict[str, Any] = {Ragtel.EMBEDDING_ROLE: role, Ragtel.EMBEDDINGS_COUNT: len(texts)}
    if drawn_from is not None:
        attrs[Ragtel.KNOWLEDGE_BASE_DOCUMENTS] = drawn_from
    if rec.oi:
        attrs[OpenInference.SPAN_KIND] = OIKind.EMBEDDING
    step = rec.open_step(
        _SAMPLE_NAME, OIKind.EMBEDDING, SpanKind.INTERNAL, None, attrs, None, detached=True
    )
    step.embedding_texts = texts
    step.embedding_ids = ids
    step.embedding_role = role
    return step


def end(step: Step, vectors: Sequence[Any]) -> None:
    rec = step.recorder
    texts = step.embedding_texts
    total = max(len(vectors), len(texts))
    float_vectors = [to_float_list(v) for v in vectors]
    if float_vectors and float_vectors[0] and rec.genai:
        step.put_unbudgeted(GenAI.EMBEDDINGS_DIMENSION_COUNT, len(float_vectors[0]))
    monitor.observe(step, float_vectors)
    capture_vectors = rec.settings.capture_embeddings
    per_span = rec.settings.max_vectors
    # A batch that builds the knowledge base is the analysis's reference: all of it is recorded,
    # over as many continuation spans as it takes, instead of the first max_vectors.
    whole = step.embedding_role in _WHOLE and capture_vectors and per_span > 0
    ids = step.embedding_ids
    done, full = _fill(
        step, texts, ids, float_vectors if capture_vectors else (), 0, min(total, per_span)
    )
    if full and not whole:
        step.cut(Ragtel.SPAN_BYTES_TRUNCATED)
    recorded = done
    parts = 0
    while whole and done < len(float_vectors):
        part = _open_part(step, done)
        parts += 1
        end_at, full = _fill(part, texts, ids, float_vectors, done, min(total, done + per_span))
        if end_at == done:  # one vector larger than an empty span may hold: cut, go on
            part.cut(Ragtel.SPAN_BYTES_TRUNCATED)
            end_at = done + 1
        else:
            recorded += end_at - done
        part.finish()
        done = end_at
    if parts:
        step.put_unbudgeted(Ragtel.EMBEDDINGS_PARTS, parts)
    if recorded < total and (capture_vectors or rec.content):
        step.put_unbudgeted(Ragtel.EMBEDDINGS_TRUNCATED, True)
        step.put_unbudgeted(Ragtel.EMBEDDINGS_RECORDED, recorded)
        _stats.add("vectors_not_recorded", total - recorded)
    step.finish()


def _fill(
    step: Step,
    texts: Sequence[str | None],
    ids: Sequence[str | None],
    vectors: Sequence[list[float]],
    start: int,
    stop: int,
) -> tuple[int, bool]:
    """Write embeddings ``start:stop`` of the batch on ``step`` (indices from 0 on the span) while
    they fit its budget. Returns the batch index of the first one not written, and whether the
    span's budget was what stopped it. Document ids, when known, go in one list per span.

    Vectors are OpenInference's float arrays, or, for the GenAI set alone, packed into one
    attribute: Jaeger shows it as one value after the span's facts instead of one number per
    line above them."""
    packed = not step.recorder.oi
    packed_vectors: list[list[float]] = []
    written: list[str] = []
    reached, full = stop, False
    for i in range(start, stop):
        prefix = embedding_prefix(i - start)
        text = step.text(texts[i]) if i < len(texts) else None
        vector = vectors[i] if i < len(vectors) else None
        if text is None and vector is None:
            reached = i
            break
        doc_id = step.text(ids[i]) if i < len(ids) else None
        keys = (text is not None) + (vector is not None and (not packed or not packed_vectors))
        keys += not written and doc_id is not None
        size = text_size(text) + _OVERHEAD + text_size(doc_id) + 2
        if vector:
            size += packed_size(len(vector)) if packed else len(vector) * BYTES_PER_FLOAT
        if not step.room(keys, size):
            reached, full = i, True
            break
        if text is not None:
            step.put_unbudgeted(prefix + _OI_EMB_TEXT, text)
        if vector is not None:
            if packed:
                packed_vectors.append(vector)
            else:
                step.put_unbudgeted(prefix + _OI_EMB_VECTOR, vector)
        if doc_id is not None or written:
            written.extend([""] * (i - start - len(written)))  # ids unknown before this one
            written.append(doc_id or "")
        step.charge(size)
    if packed_vectors:
        step.put_unbudgeted(Ragtel.VECTORS, pack_vectors(packed_vectors))
    if written:
        step.put_unbudgeted(Ragtel.EMBEDDING_DOCUMENT_IDS, written)
    return reached, full


def _open_part(step: Step, offset: int) -> Step:
    """A child span carrying the knowledge-base batch of ``step`` from index ``offset`` on."""
    rec = step.recorder
    attrs: dict[str, Any] = {
        Ragtel.EMBEDDING_ROLE: step.embedding_role,
        Ragtel.EMBEDDINGS_OFFSET: offset,
    }
    if rec.oi:
        attrs[OpenInference.SPAN_KIND] = OIKind.EMBEDDING
        model = step.pending.get(OpenInference.EMBEDDING_MODEL_NAME)
        if model:
            attrs[OpenInference.EMBEDDING_MODEL_NAME] = model
    else:  # packed vectors are read back by their dimension
        dimension = step.pending.get(GenAI.EMBEDDINGS_DIMENSION_COUNT)
        if dimension:
            attrs[GenAI.EMBEDDINGS_DIMENSION_COUNT] = dimension
    # No gen_ai.operation.name: GenAI readers count operations, and this is one embeddings call.
    return rec.open_step(_PART_NAME, OIKind.EMBEDDING, SpanKind.INTERNAL, step, attrs, None)
