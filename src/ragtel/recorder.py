"""Step records in, spans out: the one place that knows attribute names, budgets and redaction.

Every span ragtel writes fits the tracer's attribute-count limit and a byte budget, so the SDK never
evicts attributes behind our back (it silently drops the *oldest* ones, i.e. the input and kind) and
exported batches stay under the collector's message limits. What does not fit is cut here, and every
cut is written on the span (``ragtel.*.truncated`` and counts) and added to ``ragtel.stats()``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from ragtel import _stats
from ragtel._guard import report
from ragtel._version import __version__
from ragtel.config import TraceConfig
from ragtel.encode import to_float_list, to_json, to_text
from ragtel.records import Document, Message, PromptTemplate, RunContext, Usage
from ragtel.redact import strip_secrets
from ragtel.runs import remember_root
from ragtel.semconv import (
    EmbeddingRole,
    GenAI,
    OpenInference,
    Operation,
    Ragtel,
    document_prefix,
    embedding_prefix,
    message_prefix,
)
from ragtel.semconv import SpanKind as OIKind
from ragtel.session import current_session

_JSON = "application/json"
_MIME_KEYS = {
    OpenInference.INPUT_VALUE: OpenInference.INPUT_MIME_TYPE,
    OpenInference.OUTPUT_VALUE: OpenInference.OUTPUT_MIME_TYPE,
}
_DEFAULT_ATTRIBUTE_LIMIT = 128
_RESERVED_ATTRIBUTES = 12  # markers and counts written at the end of any span
_BYTES_PER_FLOAT = 11  # one double in an OTLP array, with its tag and framing

_OI_DOC_ID = OpenInference.DOCUMENT_ID
_OI_DOC_CONTENT = OpenInference.DOCUMENT_CONTENT
_OI_DOC_SCORE = OpenInference.DOCUMENT_SCORE
_OI_DOC_METADATA = OpenInference.DOCUMENT_METADATA
_OI_EMB_TEXT = OpenInference.EMBEDDING_TEXT
_OI_EMB_VECTOR = OpenInference.EMBEDDING_VECTOR
_OI_ROLE = OpenInference.MESSAGE_ROLE
_OI_CONTENT = OpenInference.MESSAGE_CONTENT


class Recorder:
    """Turns neutral step records into OpenTelemetry spans.

    Thread-safe: it holds no per-run state; each ``start_*`` returns a ``Step`` owned by the caller.
    """

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        config: TraceConfig | None = None,
        *,
        framework: str = "ragtel",
        monitor: Any = None,
    ) -> None:
        self.config = config or TraceConfig()
        self.framework = framework
        self.monitor = monitor
        self._tracer = trace.get_tracer("ragtel", __version__, tracer_provider=tracer_provider)
        limits = getattr(self._tracer, "_span_limits", None)
        max_attrs = getattr(limits, "max_span_attributes", None) or _DEFAULT_ATTRIBUTE_LIMIT
        self.attribute_budget = max(max_attrs - _RESERVED_ATTRIBUTES, 8)
        self.max_span_bytes: int = self.config.max_span_bytes  # type: ignore[assignment]
        # An SDK value-length limit would cut strings silently; cut them ourselves, with a marker.
        sdk_length = getattr(limits, "max_attribute_length", None)
        self.max_chars = min(self.config.max_text_chars, sdk_length or self.config.max_text_chars)
        self._filter = self.config.text_filter()
        self._content = bool(self.config.capture_content)
        self._oi = self.config.openinference
        self._genai = self.config.genai

    # -- starting steps -------------------------------------------------------------------------

    def start_chain(
        self, name: str, inputs: Any, parent: Context | None, run: RunContext | None = None
    ) -> Step:
        attrs: dict[str, Any] = {}
        if self._oi:
            attrs[OpenInference.SPAN_KIND] = OIKind.CHAIN
        if self._genai and parent is None:
            # The run as a whole is the GenAI "workflow"; the chains inside it are plain steps.
            attrs[GenAI.OPERATION_NAME] = Operation.INVOKE_WORKFLOW
            attrs[GenAI.WORKFLOW_NAME] = name
        step = self._start(name, OIKind.CHAIN, SpanKind.INTERNAL, parent, attrs, run)
        step.add_io(OpenInference.INPUT_VALUE, inputs)
        return step

    def start_retrieval(
        self,
        name: str,
        query: Any,
        parent: Context | None,
        run: RunContext | None = None,
        *,
        top_k: int | None = None,
        data_source: str | None = None,
    ) -> Step:
        attrs: dict[str, Any] = {}
        if self._oi:
            attrs[OpenInference.SPAN_KIND] = OIKind.RETRIEVER
        if self._genai:
            attrs[GenAI.OPERATION_NAME] = Operation.RETRIEVAL
            if data_source:
                attrs[GenAI.DATA_SOURCE_ID] = data_source
        if top_k is not None:
            attrs[GenAI.REQUEST_TOP_K] = int(top_k)
        span_name = f"{Operation.RETRIEVAL} {data_source or name}" if self._genai else name
        step = self._start(span_name, OIKind.RETRIEVER, SpanKind.INTERNAL, parent, attrs, run)
        if query is not None:
            text = step.text(to_text(query))
            if text is not None:
                if self._oi:
                    step.put(OpenInference.INPUT_VALUE, text)
                if self._genai:
                    step.put(GenAI.RETRIEVAL_QUERY_TEXT, text)
        return step

    def start_prompt(
        self,
        name: str,
        template: PromptTemplate,
        parent: Context | None,
        run: RunContext | None = None,
    ) -> Step:
        attrs: dict[str, Any] = {
            Ragtel.PROMPT_MESSAGES_COUNT: len(template.messages),
            Ragtel.PROMPT_VARIABLE_NAMES: sorted(str(k) for k in template.variables) or [""],
        }
        if self._oi:
            attrs[OpenInference.SPAN_KIND] = OIKind.PROMPT
        if template.version:
            attrs[OpenInference.PROMPT_TEMPLATE_VERSION] = template.version
        step = self._start(name, OIKind.PROMPT, SpanKind.INTERNAL, parent, attrs, run)
        if self._content:
            joined = _join_templates(template.messages)
            text = step.text(joined)
            vars_json = step.text(to_json(template.variables))
            if self._oi:
                step.put(OpenInference.PROMPT_TEMPLATE, text)
                step.put(OpenInference.PROMPT_TEMPLATE_VARIABLES, vars_json)
                step.put(OpenInference.INPUT_VALUE, vars_json)
            if self._genai:
                step.put(
                    GenAI.PROMPT_TEMPLATE,
                    step.text(to_json([{"role": r, "template": t} for r, t in template.messages])),
                )
                step.put(GenAI.PROMPT_VARIABLES, vars_json)
        return step

    def start_generation(
        self,
        name: str,
        parent: Context | None,
        run: RunContext | None = None,
        *,
        model: str | None,
        provider: str | None = None,
        params: Mapping[str, Any] | None = None,
        messages: Sequence[Message] = (),
        operation: str = Operation.CHAT,
        template: PromptTemplate | None = None,
    ) -> Step:
        attrs: dict[str, Any] = {}
        clean_params = strip_secrets(params) if params else None
        if self._oi:
            attrs[OpenInference.SPAN_KIND] = OIKind.LLM
            if model:
                attrs[OpenInference.LLM_MODEL_NAME] = model
            if provider:
                attrs[OpenInference.LLM_PROVIDER] = provider
            if clean_params:
                attrs[OpenInference.LLM_INVOCATION_PARAMETERS] = to_json(clean_params)
        if self._genai:
            attrs[GenAI.OPERATION_NAME] = operation
            if model:
                attrs[GenAI.REQUEST_MODEL] = model
            if provider:
                attrs[GenAI.PROVIDER_NAME] = provider
            if clean_params:
                _request_params(clean_params, attrs)
        span_name = f"{operation} {model}" if self._genai and model else name
        step = self._start(span_name, OIKind.LLM, SpanKind.CLIENT, parent, attrs, run)
        if template is not None and self._content and self._oi:
            step.put(OpenInference.PROMPT_TEMPLATE, step.text(_join_templates(template.messages)))
            step.put(
                OpenInference.PROMPT_TEMPLATE_VARIABLES,
                step.text(to_json(template.variables)),
            )
        if messages:
            step.add_messages(OpenInference.LLM_INPUT_MESSAGES, GenAI.INPUT_MESSAGES, messages)
        return step

    def start_embedding(
        self,
        name: str,
        parent: Context | None,
        run: RunContext | None = None,
        *,
        model: str | None,
        texts: Sequence[str],
        role: str,
    ) -> Step:
        attrs: dict[str, Any] = {Ragtel.EMBEDDING_ROLE: role, Ragtel.EMBEDDINGS_COUNT: len(texts)}
        if self._oi:
            attrs[OpenInference.SPAN_KIND] = OIKind.EMBEDDING
            if model:
                attrs[OpenInference.EMBEDDING_MODEL_NAME] = model
        if self._genai:
            attrs[GenAI.OPERATION_NAME] = Operation.EMBEDDINGS
            if model:
                attrs[GenAI.REQUEST_MODEL] = model
        span_name = f"{Operation.EMBEDDINGS} {model}" if self._genai and model else name
        step = self._start(span_name, OIKind.EMBEDDING, SpanKind.CLIENT, parent, attrs, run)
        step.embedding_texts = texts
        step.embedding_role = role
        return step

    def start_tool(
        self,
        name: str,
        inputs: Any,
        parent: Context | None,
        run: RunContext | None = None,
        *,
        description: str | None = None,
    ) -> Step:
        attrs: dict[str, Any] = {}
        if self._oi:
            attrs[OpenInference.SPAN_KIND] = OIKind.TOOL
            attrs[OpenInference.TOOL_NAME] = name
        if self._genai:
            attrs[GenAI.OPERATION_NAME] = Operation.EXECUTE_TOOL
            attrs[GenAI.TOOL_NAME] = name
        span_name = f"{Operation.EXECUTE_TOOL} {name}" if self._genai else name
        step = self._start(span_name, OIKind.TOOL, SpanKind.INTERNAL, parent, attrs, run)
        if description and self._content:
            step.put(
                GenAI.TOOL_DESCRIPTION if self._genai else OpenInference.TOOL_DESCRIPTION,
                step.text(description),
            )
        step.add_io(OpenInference.INPUT_VALUE, inputs, genai_key=GenAI.TOOL_CALL_ARGUMENTS)
        return step

    # -- internals ------------------------------------------------------------------------------

    def _start(
        self,
        name: str,
        kind: str,
        span_kind: SpanKind,
        parent: Context | None,
        attrs: dict[str, Any],
        run: RunContext | None,
    ) -> Step:
        _stamp_run_context(attrs, run, self._oi, self._genai)
        if not self._content:
            attrs[Ragtel.CONTENT_CAPTURED] = False
        # Attributes are written once, when the step ends (see write_attributes); a sampler sees
        # the span's name and kind, which is what samplers of LLM traffic key on.
        span = self._tracer.start_span(name, context=parent, kind=span_kind)
        if parent is None:
            remember_root(span)
        return Step(self, span, kind, attrs)


class Step:
    """One open span and what has been written on it; ended by exactly one ``end_*`` or ``fail``."""

    __slots__ = (
        "_attrs",
        "_bytes",
        "_cuts",
        "embedding_role",
        "embedding_texts",
        "ended",
        "first_token_ns",
        "kind",
        "recorder",
        "span",
        "start_ns",
    )

    def __init__(self, recorder: Recorder, span: Span, kind: str, attrs: dict[str, Any]) -> None:
        self.recorder = recorder
        self.span = span
        self.kind = kind
        self.ended = False
        self.first_token_ns: int | None = None
        self.start_ns = time.monotonic_ns()
        self.embedding_texts: Sequence[str] = ()
        self.embedding_role = EmbeddingRole.QUERY
        self._bytes = 0
        # Written in one call when the step ends: one lock round-trip per span, not one per
        # attribute, and no re-validation of values built to be valid.
        self._attrs = attrs
        self._cuts: dict[str, int] = {}

    # -- budgeted writes --------------------------------------------------------------------------

    def room(self, attributes: int, nbytes: int = 0) -> bool:
        """True when ``attributes`` more attributes of ``nbytes`` fit the span's budgets."""
        rec = self.recorder
        return (
            len(self._attrs) + attributes <= rec.attribute_budget
            and self._bytes + nbytes <= rec.max_span_bytes
        )

    def put(self, key: str, value: Any) -> bool:
        """Write one attribute if it fits; a value of None writes nothing."""
        if value is None:
            return False
        kind = type(value)
        # Only long values matter to the byte budget; keys and numbers are a rounding error.
        size = len(value) if kind is str else (len(value) * _BYTES_PER_FLOAT if kind is list else 8)
        rec = self.recorder
        if len(self._attrs) >= rec.attribute_budget or self._bytes + size > rec.max_span_bytes:
            self.cut(Ragtel.SPAN_BYTES_TRUNCATED)
            return False
        self._attrs[key] = value
        self._bytes += size
        return True

    def _raw(self, key: str, value: Any) -> None:
        self._attrs[key] = value

    def cut(self, marker: str, amount: int = 1) -> None:
        """Count something left out; written on the span when it ends."""
        self._cuts[marker] = self._cuts.get(marker, 0) + amount

    def text(self, value: str | None) -> str | None:
        """``value`` redacted and cut to length; None when content is not captured."""
        rec = self.recorder
        if value is None or not rec._content:
            return None
        if rec._filter is not None:
            value = rec._filter(value)
        if len(value) > rec.max_chars:
            self.cut(Ragtel.TEXT_TRUNCATED_COUNT)
            return value[: rec.max_chars]
        return value

    def add_io(self, key: str, value: Any, *, genai_key: str | None = None) -> None:
        if value is None or not self.recorder._content:
            return
        raw = to_text(value)
        text = self.text(raw)
        if self.recorder._oi and self.put(key, text) and raw is not value and raw[:1] in "{[":
            # Phoenix shows JSON as a tree; text/plain is the convention's default.
            self.put(_MIME_KEYS[key], _JSON)
        if genai_key and self.recorder._genai:
            self.put(genai_key, text)

    def add_messages(
        self,
        oi_prefix: str,
        genai_key: str,
        messages: Sequence[Message],
        finish_reason: str | None = None,
    ) -> None:
        rec = self.recorder
        if not rec._content:
            return
        limit = rec.config.max_messages
        if len(messages) > limit:  # type: ignore[operator]
            self.cut("ragtel.messages.truncated", len(messages) - limit)  # type: ignore[operator]
            # The latest messages say most about this call; keep the system prompt and the tail.
            messages = [*messages[:1], *messages[len(messages) - limit + 1 :]] if limit else []
        texts = [(m.role, self.text(m.content) or "") for m in messages]
        if rec._genai:
            payload = [
                {"role": role, "parts": [{"type": "text", "content": content}]}
                for role, content in texts
            ]
            if finish_reason is not None:
                for item in payload:
                    item["finish_reason"] = finish_reason
            self.put(genai_key, to_json(payload))
        if rec._oi:
            for i, (role, content) in enumerate(texts):
                prefix = message_prefix(oi_prefix, i)
                if not self.room(2, len(content)):
                    self.cut("ragtel.messages.truncated", len(texts) - i)
                    break
                self.put(prefix + _OI_ROLE, role)
                self.put(prefix + _OI_CONTENT, content)

    # -- ending -----------------------------------------------------------------------------------

    def first_token(self) -> None:
        """Mark the first streamed chunk (time to first token)."""
        if self.first_token_ns is None:
            self.first_token_ns = time.monotonic_ns()

    def end_chain(self, outputs: Any) -> None:
        self.add_io(OpenInference.OUTPUT_VALUE, outputs)
        self._end()

    def end_tool(self, output: Any) -> None:
        self.add_io(OpenInference.OUTPUT_VALUE, output, genai_key=GenAI.TOOL_CALL_RESULT)
        self._end()

    def end_prompt(self, messages: Sequence[Message]) -> None:
        rec = self.recorder
        if rec._content and messages:
            if rec._oi:
                self.put(OpenInference.OUTPUT_VALUE, self.text(_render_messages(messages)))
            elif rec._genai:
                # With OpenInference on, output.value carries the rendering; the LLM span that
                # follows has the same messages as gen_ai.input.messages: one copy is enough.
                self.add_messages(OpenInference.LLM_INPUT_MESSAGES, GenAI.INPUT_MESSAGES, messages)
        self._end()

    def end_retrieval(self, documents: Sequence[Document]) -> None:
        rec = self.recorder
        total = len(documents)
        cap = min(total, rec.config.max_documents)  # type: ignore[type-var]
        genai_docs: list[str] = []
        recorded = 0
        for i in range(cap):
            doc = documents[i]
            content = self.text(doc.content) if doc.content is not None else None
            metadata = to_json(doc.metadata) if doc.metadata and rec._content else None
            score = _finite(doc.score)
            fields = [
                (_OI_DOC_ID, doc.id),
                (_OI_DOC_CONTENT, content),
                (_OI_DOC_SCORE, score),
                (_OI_DOC_METADATA, metadata),
            ]
            fields = [(k, v) for k, v in fields if v is not None]
            size = (len(content or "") + len(metadata or "") + 48) * (rec._oi + rec._genai)
            if not self.room(len(fields) if rec._oi else 0, size):
                self.cut(Ragtel.SPAN_BYTES_TRUNCATED)
                break
            if rec._oi:
                prefix = document_prefix(i)
                for key, value in fields:
                    self._raw(prefix + key, value)
            self._bytes += size
            if rec._genai:
                # Assembled from the parts already encoded for OpenInference: each document's
                # content and metadata are serialized once, not once per convention.
                parts = []
                if doc.id is not None:
                    parts.append('"id":' + _dumps(doc.id))
                if score is not None:
                    parts.append(f'"score":{score!r}')
                if content is not None:
                    parts.append('"content":' + _dumps(content))
                if metadata is not None:
                    parts.append('"metadata":' + metadata)
                genai_docs.append("{" + ",".join(parts) + "}")
            recorded += 1
        if rec._genai and genai_docs:
            self._raw(GenAI.RETRIEVAL_DOCUMENTS, "[" + ",".join(genai_docs) + "]")
        self._raw(Ragtel.DOCUMENTS_COUNT, total)
        if recorded < total:
            self._raw(Ragtel.DOCUMENTS_TRUNCATED, True)
            self._raw(Ragtel.DOCUMENTS_RECORDED, recorded)
            _stats.add("documents_not_recorded", total - recorded)
        if rec._oi and rec._content and total:
            # Documents are the retriever's output; Phoenix shows them from the indexed keys.
            self.put(OpenInference.OUTPUT_MIME_TYPE, "text/plain")
        self._end()

    def end_embedding(self, vectors: Sequence[Any]) -> None:
        rec = self.recorder
        texts = self.embedding_texts
        total = max(len(vectors), len(texts))
        float_vectors = [to_float_list(v) for v in vectors]
        if float_vectors and float_vectors[0]:
            self._raw(GenAI.EMBEDDINGS_DIMENSION_COUNT, len(float_vectors[0]))
        self._observe(float_vectors)
        capture_vectors = rec.config.capture_embeddings
        cap = min(total, rec.config.max_vectors)  # type: ignore[type-var]
        recorded = 0
        for i in range(cap):
            prefix = embedding_prefix(i)
            text = self.text(texts[i]) if i < len(texts) else None
            vector = float_vectors[i] if capture_vectors and i < len(float_vectors) else None
            n = (text is not None) + (vector is not None)
            size = (len(text) if text else 0) + (len(vector) * _BYTES_PER_FLOAT if vector else 0)
            if not n:
                break
            if not self.room(n, size):
                self.cut(Ragtel.SPAN_BYTES_TRUNCATED)
                break
            if text is not None:
                self._raw(prefix + _OI_EMB_TEXT, text)
            if vector is not None:
                self._raw(prefix + _OI_EMB_VECTOR, vector)
            self._bytes += size
            recorded += 1
        if recorded < total and (capture_vectors or rec._content):
            self._raw(Ragtel.EMBEDDINGS_TRUNCATED, True)
            self._raw(Ragtel.EMBEDDINGS_RECORDED, recorded)
            _stats.add("vectors_not_recorded", total - recorded)
        self._end()

    def end_generation(
        self,
        outputs: Sequence[Message],
        *,
        usage: Usage | None = None,
        finish_reasons: Sequence[str] = (),
        response_model: str | None = None,
        response_id: str | None = None,
        abandoned: str | None = None,
    ) -> None:
        """End an LLM step; ``abandoned`` says why a stream stopped before its last chunk."""
        rec = self.recorder
        span = self._attrs
        if abandoned is not None:
            span[Ragtel.STREAM_ABANDONED] = abandoned
            _stats.add("streams_abandoned")
        if usage:
            if rec._oi:
                _set_if(span, OpenInference.LLM_TOKEN_COUNT_PROMPT, usage.input_tokens)
                _set_if(span, OpenInference.LLM_TOKEN_COUNT_COMPLETION, usage.output_tokens)
                total = usage.total_tokens
                if (
                    total is None
                    and usage.input_tokens is not None
                    and usage.output_tokens is not None
                ):
                    total = usage.input_tokens + usage.output_tokens
                _set_if(span, OpenInference.LLM_TOKEN_COUNT_TOTAL, total)
            if rec._genai:
                _set_if(span, GenAI.USAGE_INPUT_TOKENS, usage.input_tokens)
                _set_if(span, GenAI.USAGE_OUTPUT_TOKENS, usage.output_tokens)
        if rec._genai:
            if finish_reasons:
                span[GenAI.RESPONSE_FINISH_REASONS] = list(finish_reasons)
            _set_if(span, GenAI.RESPONSE_MODEL, response_model)
            _set_if(span, GenAI.RESPONSE_ID, response_id)
            if self.first_token_ns is not None:
                span[GenAI.RESPONSE_TIME_TO_FIRST_CHUNK] = self._seconds_to_first_token()
        elif self.first_token_ns is not None:
            span["ragtel.llm.time_to_first_token"] = self._seconds_to_first_token()
        if outputs:
            finish = finish_reasons[0] if finish_reasons else None
            self.add_messages(
                OpenInference.LLM_OUTPUT_MESSAGES,
                GenAI.OUTPUT_MESSAGES,
                outputs,
                finish_reason=finish,
            )
            answer = self.text(outputs[-1].content) if rec._oi else None
            if self.put(OpenInference.OUTPUT_VALUE, answer):
                # Phoenix labels an answer without a type as JSON.
                self.put(OpenInference.OUTPUT_MIME_TYPE, "text/plain")
        self._end()

    def _seconds_to_first_token(self) -> float:
        return ((self.first_token_ns or self.start_ns) - self.start_ns) / 1e9

    def fail(self, error: BaseException) -> None:
        """End the span as failed, with the exception recorded as an event."""
        if self.ended:
            return
        self.span.record_exception(error)
        self.span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:1024]))
        self._end()

    def _observe(self, vectors: list[list[float]]) -> None:
        monitor = self.recorder.monitor
        if monitor is None or not vectors:
            return
        try:
            if self.embedding_role == EmbeddingRole.DOCUMENT:
                monitor.observe_context(vectors)
                return
            distances = monitor.observe_query(vectors[0])
        except ValueError:  # NaN/inf or a dimension change: not measurable, but counted
            _stats.add("monitor_vectors_rejected", len(vectors))
            return
        except Exception as error:  # the span is still recorded in full
            report("EmbeddingMonitor", error)
            return
        if distances is None:
            return
        attrs = self._attrs
        attrs[Ragtel.QUERY_CENTROID_DISTANCE] = distances.centroid_euclidean
        attrs[Ragtel.QUERY_CENTROID_COSINE] = distances.centroid_cosine
        attrs[Ragtel.QUERY_NEAREST_DISTANCE] = distances.nearest_euclidean
        attrs[Ragtel.QUERY_NEAREST_COSINE] = distances.nearest_cosine
        if distances.drift is not None:
            attrs[Ragtel.DRIFT] = distances.drift
        if distances.drift_crossed:
            self.span.add_event(
                "ragtel.drift.threshold_crossed", {Ragtel.DRIFT: distances.drift or 0.0}
            )

    def _end(self) -> None:
        if self.ended:
            return
        self.ended = True
        attrs = self._attrs
        if self._cuts:
            for marker, amount in self._cuts.items():
                attrs[marker] = amount
                _stats.add(marker, amount)
            attrs[Ragtel.TEXT_TRUNCATED] = True
        if attrs:
            write_attributes(self.span, attrs)
        self.span.end()


def write_attributes(span: Span, attrs: dict[str, Any]) -> None:
    """``span.set_attributes(attrs)``, minus the SDK re-validating what the recorder built.

    Everything the recorder writes is already a valid attribute value that fits the span's limits
    (it budgets both), so on an SDK span with no value-length limit the values go straight into
    the span's attribute store, under the span's lock. This halves the cost of ending a span with
    documents on it. Any other span, or a limit to apply, takes the public path.
    """
    try:
        bounded = span._attributes  # type: ignore[attr-defined]
        store = bounded._dict
        lock = span._lock  # type: ignore[attr-defined]
        direct = (
            bounded.max_value_len is None
            and not bounded._immutable
            and (bounded.maxlen is None or len(store) + len(attrs) <= bounded.maxlen)
        )
    except AttributeError:  # not an SDK span, or an SDK that changed: the public path
        direct = False
    if not direct:
        span.set_attributes(attrs)
        return
    for key, value in attrs.items():
        if type(value) is list:  # the SDK stores sequences as tuples; readers expect that
            attrs[key] = tuple(value)
    with lock:
        if span._end_time is None:  # type: ignore[attr-defined]
            store.update(attrs)


def _dumps(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _set_if(attrs: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        attrs[key] = value


def _join_templates(messages: Sequence[tuple[str, str]]) -> str:
    if len(messages) == 1:
        return messages[0][1]
    return "\n".join(f"{role}: {text}" for role, text in messages)


def _render_messages(messages: Sequence[Message]) -> str:
    if len(messages) == 1:
        return messages[0].content
    return "\n".join(f"{m.role}: {m.content}" for m in messages)


_GENAI_REQUEST_PARAMS = {
    "temperature": GenAI.REQUEST_TEMPERATURE,
    "max_tokens": GenAI.REQUEST_MAX_TOKENS,
    "max_completion_tokens": GenAI.REQUEST_MAX_TOKENS,
    "max_new_tokens": GenAI.REQUEST_MAX_TOKENS,
    "top_p": GenAI.REQUEST_TOP_P,
    "top_k": GenAI.REQUEST_TOP_K,
    "stream": GenAI.REQUEST_STREAM,
    "streaming": GenAI.REQUEST_STREAM,
}


def _request_params(params: Mapping[str, Any], attrs: dict[str, Any]) -> None:
    for key, value in params.items():
        name = _GENAI_REQUEST_PARAMS.get(key)
        if name is not None and isinstance(value, (int, float, bool)):
            attrs[name] = value


def _stamp_run_context(
    attrs: dict[str, Any], run: RunContext | None, oi: bool, genai: bool
) -> None:
    session = current_session()
    if run is None and session is None:
        return
    session_id = (run.session_id if run else None) or (session.session_id if session else None)
    user_id = (run.user_id if run else None) or (session.user_id if session else None)
    if session_id:
        if oi:
            attrs[OpenInference.SESSION_ID] = session_id
        if genai:
            attrs[GenAI.CONVERSATION_ID] = session_id
    if user_id:
        attrs[OpenInference.USER_ID] = user_id
    metadata = _user_metadata(run.metadata if run else None, session.metadata if session else None)
    if metadata:
        attrs[OpenInference.METADATA] = to_json(metadata)
    tags = [*(run.tags or () if run else ()), *(session.tags or () if session else ())]
    if tags:
        attrs[OpenInference.TAG_TAGS] = [str(t) for t in tags]


def _user_metadata(
    run: Mapping[str, Any] | None, session: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    if not run and not session:
        return None
    merged: dict[str, Any] = dict(run or {})
    if session:
        merged.update(session)
    return merged or None
