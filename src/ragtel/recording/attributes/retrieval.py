"""RETRIEVER steps / GenAI ``retrieval``: the query and every document, within the budget."""

from __future__ import annotations

from collections.abc import Sequence
from math import isfinite
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.trace import SpanKind

from ragtel import _stats
from ragtel.recording.budget import text_size
from ragtel.recording.encode import float_json, json_string, to_text
from ragtel.recording.records import Document, RunContext
from ragtel.semconv import GenAI, OpenInference, Operation, Ragtel, document_prefix
from ragtel.semconv import SpanKind as OIKind

if TYPE_CHECKING:
    from ragtel.recording.recorder import Recorder
    from ragtel.recording.step import Step

_OI_DOC_ID: Final = OpenInference.DOCUMENT_ID
_OI_DOC_CONTENT: Final = OpenInference.DOCUMENT_CONTENT
_OI_DOC_SCORE: Final = OpenInference.DOCUMENT_SCORE
_OI_DOC_METADATA: Final = OpenInference.DOCUMENT_METADATA
_DOCUMENT_OVERHEAD: Final = 160  # keys (retrieval.documents.49.document.metadata) and framing


def start(
    rec: Recorder,
    name: str,
    query: Any,
    parent: Step | None,
    run: RunContext | None,
    top_k: int | None,
    data_source: str | None,
) -> Step:
    attrs: dict[str, Any] = {}
    if rec.oi:
        attrs[OpenInference.SPAN_KIND] = OIKind.RETRIEVER
    if rec.genai:
        attrs[GenAI.OPERATION_NAME] = Operation.RETRIEVAL
        if data_source:
            attrs[GenAI.DATA_SOURCE_ID] = data_source
        if top_k is not None:
            attrs[GenAI.RETRIEVAL_TOP_K] = int(top_k)
    # The registry's name is "retrieval {gen_ai.data_source.id}": a retriever that reads no one
    # store (a multi-query or ensemble retriever) is "retrieval", its own name kept beside.
    attrs[Ragtel.RETRIEVER_NAME] = name
    span_name = name
    if rec.genai:
        span_name = f"{Operation.RETRIEVAL} {data_source}" if data_source else Operation.RETRIEVAL
    # CLIENT, as the registry's retrieval span: a vector store is a service the app calls, even
    # when an in-memory one answers in process.
    step = rec.open_step(span_name, OIKind.RETRIEVER, SpanKind.CLIENT, parent, attrs, run)
    try:
        if query is not None:
            text = step.text(to_text(query))
            if text is not None:
                if rec.oi:
                    step.put(OpenInference.INPUT_VALUE, text)
                if rec.genai:
                    step.put(GenAI.RETRIEVAL_QUERY_TEXT, text)
    except BaseException:  # no hole in the trace: the span ends before the error goes on
        step.abandon()
        raise
    return step


def end(step: Step, documents: Sequence[Document]) -> None:
    rec = step.recorder
    oi, genai, content = rec.oi, rec.genai, rec.content
    total = len(documents)
    cap = min(total, rec.settings.max_documents)
    genai_docs: list[str] = []
    pending = step.pending
    recorded = 0
    outside_genai = 0
    policy = rec.policy
    for i in range(cap):
        doc = documents[i]
        text = quoted = None
        if doc.content is not None and content:
            # A store returns the same documents query after query: kept across runs.
            text, cut, quoted = policy.lasting(doc.content)
            if cut:
                step.cut(Ragtel.TEXT_TRUNCATED_COUNT)
        metadata = None
        if doc.metadata and content:
            metadata, metadata_cuts = policy.mapping_json(doc.metadata)
            if metadata_cuts:
                step.cut(Ragtel.TEXT_TRUNCATED_COUNT, metadata_cuts)
        score = _finite(doc.score)
        doc_id = doc.id
        # The GenAI schema requires a document's id and score: a document without them (a store
        # that drops scores, a filter that drops ids) stays out of gen_ai.retrieval.documents,
        # counted, and is kept under OpenInference's keys even when that convention is off.
        in_genai = genai and doc_id is not None and score is not None
        indexed = oi or not in_genai
        size = (text_size(text) + text_size(metadata) + _DOCUMENT_OVERHEAD) * (indexed + in_genai)
        fields = (
            (doc_id is not None) + (text is not None) + (score is not None) + (metadata is not None)
        )
        if not step.room(fields if indexed else 0, size):
            step.cut(Ragtel.SPAN_BYTES_TRUNCATED)
            break
        if indexed:  # counted by room() and charge(): written straight into the pending set
            prefix = document_prefix(i)
            if doc_id is not None:
                pending[prefix + _OI_DOC_ID] = doc_id
            if text is not None:
                pending[prefix + _OI_DOC_CONTENT] = text
            if score is not None:
                pending[prefix + _OI_DOC_SCORE] = score
            if metadata is not None:
                pending[prefix + _OI_DOC_METADATA] = metadata
        step.charge(size)
        if genai and not in_genai:
            outside_genai += 1
        elif in_genai and doc_id is not None and score is not None:  # (in_genai says so)
            # Assembled from the parts already encoded for OpenInference: each document's
            # content and metadata are serialized once, not once per convention.
            parts = ['"id":' + json_string(doc_id), '"score":' + float_json(score)]
            if quoted is not None:
                parts.append('"content":' + quoted)
            if metadata is not None:
                parts.append('"metadata":' + metadata)
            genai_docs.append("{" + ",".join(parts) + "}")
        recorded += 1
    if genai_docs:
        step.put_unbudgeted(GenAI.RETRIEVAL_DOCUMENTS, "[" + ",".join(genai_docs) + "]")
    if outside_genai:
        step.put_unbudgeted(Ragtel.DOCUMENTS_OUTSIDE_GENAI, outside_genai)
    step.put_unbudgeted(Ragtel.DOCUMENTS_COUNT, total)
    if recorded < total:
        step.put_unbudgeted(Ragtel.DOCUMENTS_TRUNCATED, True)
        step.put_unbudgeted(Ragtel.DOCUMENTS_RECORDED, recorded)
        _stats.add("documents_not_recorded", total - recorded)
    # No output.value (nor its mime type): the documents are the retriever's output, and Phoenix
    # shows them from their own keys.
    step.finish()


def _finite(value: Any) -> float | None:
    if type(value) is float:  # what stores return
        return value if isfinite(value) else None
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None
