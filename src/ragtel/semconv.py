"""Every attribute name ragtel writes, grouped by convention.

OpenInference names are what Arize Phoenix reads; GenAI names are the OpenTelemetry semantic
conventions that Jaeger users, Datadog and Grafana read. GenAI names are the registry's
(semantic-conventions-genai), written out here: a rename upstream is a one-line change. Names
neither convention covers live under ``ragtel.``.

Indexed OpenInference names (``retrieval.documents.{i}.document.content``) are built by the
``*_prefix`` helpers below so that no other module formats attribute names by hand.
"""

from __future__ import annotations

from typing import Final


class OpenInference:
    """Names read by Arize Phoenix and other OpenInference consumers."""

    SPAN_KIND: Final = "openinference.span.kind"
    INPUT_VALUE: Final = "input.value"
    INPUT_MIME_TYPE: Final = "input.mime_type"
    OUTPUT_VALUE: Final = "output.value"
    OUTPUT_MIME_TYPE: Final = "output.mime_type"
    METADATA: Final = "metadata"
    TAG_TAGS: Final = "tag.tags"
    SESSION_ID: Final = "session.id"
    USER_ID: Final = "user.id"

    RETRIEVAL_DOCUMENTS: Final = "retrieval.documents"
    DOCUMENT_ID: Final = "document.id"
    DOCUMENT_CONTENT: Final = "document.content"
    DOCUMENT_SCORE: Final = "document.score"
    DOCUMENT_METADATA: Final = "document.metadata"

    EMBEDDING_MODEL_NAME: Final = "embedding.model_name"
    EMBEDDING_EMBEDDINGS: Final = "embedding.embeddings"
    EMBEDDING_TEXT: Final = "embedding.text"
    EMBEDDING_VECTOR: Final = "embedding.vector"

    PROMPT_TEMPLATE: Final = "llm.prompt_template.template"
    PROMPT_TEMPLATE_VARIABLES: Final = "llm.prompt_template.variables"
    PROMPT_TEMPLATE_VERSION: Final = "llm.prompt_template.version"

    LLM_MODEL_NAME: Final = "llm.model_name"
    LLM_PROVIDER: Final = "llm.provider"
    LLM_SYSTEM: Final = "llm.system"
    LLM_INVOCATION_PARAMETERS: Final = "llm.invocation_parameters"
    LLM_INPUT_MESSAGES: Final = "llm.input_messages"
    LLM_OUTPUT_MESSAGES: Final = "llm.output_messages"
    MESSAGE_ROLE: Final = "message.role"
    MESSAGE_CONTENT: Final = "message.content"
    MESSAGE_TOOL_CALL_ID: Final = "message.tool_call_id"
    """On a tool message: the id of the call it answers."""
    TOOL_CALL_ID: Final = "tool_call.id"
    """Under ``message.tool_calls.{j}.``: the id the model gave a call."""
    TOOL_ID: Final = "tool.id"
    """On a TOOL span: the id of the call the tool answers (the ``tool_call.id`` it matches)."""
    TOOL_CALL_FUNCTION_NAME: Final = "tool_call.function.name"
    TOOL_CALL_FUNCTION_ARGUMENTS: Final = "tool_call.function.arguments"
    TOOL_JSON_SCHEMA: Final = "tool.json_schema"
    """Under ``llm.tools.{i}.``: a tool offered to the model, as OpenAI-format JSON."""
    AGENT_NAME: Final = "agent.name"
    LLM_TOKEN_COUNT_PROMPT: Final = "llm.token_count.prompt"
    LLM_TOKEN_COUNT_COMPLETION: Final = "llm.token_count.completion"
    LLM_TOKEN_COUNT_TOTAL: Final = "llm.token_count.total"

    TOOL_NAME: Final = "tool.name"
    TOOL_DESCRIPTION: Final = "tool.description"


class SpanKind:
    """Values of ``openinference.span.kind``."""

    CHAIN: Final = "CHAIN"
    RETRIEVER: Final = "RETRIEVER"
    EMBEDDING: Final = "EMBEDDING"
    LLM: Final = "LLM"
    PROMPT: Final = "PROMPT"
    TOOL: Final = "TOOL"
    RERANKER: Final = "RERANKER"
    AGENT: Final = "AGENT"
    EVALUATOR: Final = "EVALUATOR"


class GenAI:
    """OpenTelemetry GenAI semantic conventions (the GenAI registry, semantic-conventions-genai).

    Written out here rather than imported from ``opentelemetry-semantic-conventions``: that
    package marks its ``gen_ai`` constants deprecated ("moved to the GenAI conventions
    repository"), and the registry, not a Python package, is what ragtel is checked against
    (``tests/unit/conformance``).
    """

    OPERATION_NAME: Final = "gen_ai.operation.name"
    PROVIDER_NAME: Final = "gen_ai.provider.name"
    REQUEST_MODEL: Final = "gen_ai.request.model"
    RESPONSE_MODEL: Final = "gen_ai.response.model"
    RESPONSE_ID: Final = "gen_ai.response.id"
    REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
    REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
    REQUEST_TOP_P: Final = "gen_ai.request.top_p"
    REQUEST_TOP_K: Final = "gen_ai.request.top_k"
    """The sampling setting of a model request (not a retriever's k: ``RETRIEVAL_TOP_K``)."""
    REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
    REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
    REQUEST_SEED: Final = "gen_ai.request.seed"
    REQUEST_STREAM: Final = "gen_ai.request.stream"
    """Set (to true) only on a streamed request: unset means not streamed."""
    USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
    USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
    USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
    USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
    INPUT_MESSAGES: Final = "gen_ai.input.messages"
    OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
    SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
    RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
    RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
    RETRIEVAL_DOCUMENTS: Final = "gen_ai.retrieval.documents"
    RETRIEVAL_QUERY_TEXT: Final = "gen_ai.retrieval.query.text"
    RETRIEVAL_TOP_K: Final = "gen_ai.retrieval.top_k"
    """How many documents the retriever was asked for (opentelemetry-util-genai 1.3b0's name)."""
    DATA_SOURCE_ID: Final = "gen_ai.data_source.id"
    EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
    CONVERSATION_ID: Final = "gen_ai.conversation.id"
    TOOL_NAME: Final = "gen_ai.tool.name"
    TOOL_TYPE: Final = "gen_ai.tool.type"
    TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
    TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
    TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
    TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
    TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"
    AGENT_NAME: Final = "gen_ai.agent.name"
    WORKFLOW_NAME: Final = "gen_ai.workflow.name"
    PROMPT_VARIABLE: Final = "gen_ai.prompt.variable"
    """A template attribute: ``gen_ai.prompt.variable.<name>`` (see ``prompt_variable``)."""
    PROMPT_VERSION: Final = "gen_ai.prompt.version"
    EVALUATION_NAME: Final = "gen_ai.evaluation.name"
    EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
    EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
    EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"
    EVALUATION_RESULT_EVENT: Final = "gen_ai.evaluation.result"


class Core:
    """General OpenTelemetry attributes the GenAI span types reference."""

    ERROR_TYPE: Final = "error.type"
    SERVER_ADDRESS: Final = "server.address"
    SERVER_PORT: Final = "server.port"


class ToolType:
    """Values of ``gen_ai.tool.type``."""

    FUNCTION: Final = "function"


class Operation:
    """Values of ``gen_ai.operation.name``."""

    CHAT: Final = "chat"
    TEXT_COMPLETION: Final = "text_completion"
    EMBEDDINGS: Final = "embeddings"
    RETRIEVAL: Final = "retrieval"
    EXECUTE_TOOL: Final = "execute_tool"
    INVOKE_WORKFLOW: Final = "invoke_workflow"
    INVOKE_AGENT: Final = "invoke_agent"


class Ragtel:
    """ragtel's own names, for what neither convention covers."""

    STEP: Final = "ragtel.step"
    RETRIEVER_NAME: Final = "ragtel.retriever.name"
    DOCUMENTS_COUNT: Final = "ragtel.retrieval.documents.count"
    DOCUMENTS_RECORDED: Final = "ragtel.retrieval.documents.recorded"
    DOCUMENTS_TRUNCATED: Final = "ragtel.retrieval.documents.truncated"
    DOCUMENTS_OUTSIDE_GENAI: Final = "ragtel.retrieval.documents.not_in_genai"
    """Documents left out of ``gen_ai.retrieval.documents`` for want of the id or score its
    schema requires (recorded under OpenInference's indexed keys)."""
    EMBEDDINGS_COUNT: Final = "ragtel.embedding.count"
    EMBEDDINGS_RECORDED: Final = "ragtel.embedding.recorded"
    EMBEDDINGS_TRUNCATED: Final = "ragtel.embedding.truncated"
    EMBEDDING_ROLE: Final = "ragtel.embedding.role"
    EMBEDDINGS_PARTS: Final = "ragtel.embedding.parts"
    """On a knowledge-base batch's span: how many continuation spans carry the rest of it."""
    EMBEDDINGS_OFFSET: Final = "ragtel.embedding.offset"
    """On a continuation span: the batch index of its ``embedding.embeddings.0``."""
    VECTORS: Final = "ragtel.vectors"
    """Without OpenInference: every vector of an EMBEDDING span in one base64 string of
    little-endian float32 values (``ragtel.recording.vectors``); named to sort after the facts."""
    KNOWLEDGE_BASE_DOCUMENTS: Final = "ragtel.knowledge_base.documents"
    """On the monitor's knowledge-base sample: how many documents it was drawn from."""
    EMBEDDING_DOCUMENT_IDS: Final = "ragtel.embedding.document_ids"
    """Ids of the documents embedded on this span, in the order of ``embedding.embeddings.{i}``."""
    TEXT_TRUNCATED: Final = "ragtel.text.truncated"
    TEXT_TRUNCATED_COUNT: Final = "ragtel.text.truncated_count"
    CONTENT_CAPTURED: Final = "ragtel.content.captured"
    SPAN_BYTES_TRUNCATED: Final = "ragtel.span.bytes_truncated"
    STREAM_ABANDONED: Final = "ragtel.llm.stream.abandoned"
    """Why a streamed answer ended early: ``closed`` by the consumer or garbage ``collected``."""
    PROMPT_TEMPLATE: Final = "ragtel.prompt.template"
    """A chat template's messages as a JSON list of ``{role, template}`` (the GenAI registry
    names the variables and the version but not the template itself)."""
    PROMPT_MESSAGES_COUNT: Final = "ragtel.prompt.messages.count"
    PROMPT_VARIABLE_NAMES: Final = "ragtel.prompt.variable_names"
    RUN_ID: Final = "ragtel.run_id"
    FRAMEWORK: Final = "ragtel.framework"
    # Embedding monitor (issue: distance to the knowledge base, drift)
    QUERY_CENTROID_DISTANCE: Final = "ragtel.monitor.centroid_distance"
    QUERY_CENTROID_COSINE: Final = "ragtel.monitor.centroid_cosine_distance"
    QUERY_NEAREST_DISTANCE: Final = "ragtel.monitor.nearest_distance"
    QUERY_NEAREST_COSINE: Final = "ragtel.monitor.nearest_cosine_distance"
    DRIFT: Final = "ragtel.monitor.drift"
    DRIFT_SCORE: Final = "ragtel.monitor.drift_score"
    """The drift whitened by the baseline's spread, as a normal deviate: what the ``auto``
    alarm compares with its limit (ragtel.monitor.QueryDistances.drift_score)."""


class EmbeddingRole:
    """Values of ``ragtel.embedding.role``: what was embedded."""

    QUERY: Final = "query"
    DOCUMENT: Final = "document"
    QUERY_DOCUMENT: Final = "query_document"
    """Documents embedded while answering a query (a filter or re-ranker re-embedding what was
    retrieved): neither a query nor the knowledge base, so the monitor leaves them out."""
    KNOWLEDGE_BASE_SAMPLE: Final = "knowledge_base_sample"
    """The in-process monitor's sample of the knowledge base, exported as its own trace so that
    an analysis of the traces has the reference even when the index was built elsewhere."""


def prompt_variable(name: str) -> str:
    """``gen_ai.prompt.variable.{name}``."""
    return f"{GenAI.PROMPT_VARIABLE}.{name}"


def document_prefix(index: int) -> str:
    """``retrieval.documents.{index}.`` — append a DOCUMENT_* name."""
    return f"retrieval.documents.{index}."


def embedding_prefix(index: int) -> str:
    """``embedding.embeddings.{index}.`` — append EMBEDDING_TEXT or EMBEDDING_VECTOR."""
    return f"embedding.embeddings.{index}."


def message_prefix(direction: str, index: int) -> str:
    """``llm.input_messages.{index}.`` or ``llm.output_messages.{index}.``."""
    return f"{direction}.{index}."


def tool_call_prefix(message: str, index: int) -> str:
    """``{message prefix}message.tool_calls.{index}.`` — append a TOOL_CALL_* name."""
    return f"{message}message.tool_calls.{index}."


def tool_prefix(index: int) -> str:
    """``llm.tools.{index}.`` — append TOOL_JSON_SCHEMA."""
    return f"llm.tools.{index}."
