"""Every attribute name ragtel writes, grouped by convention.

OpenInference names are what Arize Phoenix reads; GenAI names are the OpenTelemetry semantic
conventions that Jaeger users, Datadog and Grafana read. GenAI names are taken from the
``opentelemetry-semantic-conventions`` package where it defines them, so a rename upstream is a
one-line change here. Names neither convention covers live under ``ragtel.``.

Indexed OpenInference names (``retrieval.documents.{i}.document.content``) are built by the
``*_prefix`` helpers below so that no other module formats attribute names by hand.
"""

from __future__ import annotations

from typing import Final

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as _genai


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


class GenAI:
    """OpenTelemetry GenAI semantic conventions."""

    OPERATION_NAME: Final = _genai.GEN_AI_OPERATION_NAME
    PROVIDER_NAME: Final = _genai.GEN_AI_PROVIDER_NAME
    REQUEST_MODEL: Final = _genai.GEN_AI_REQUEST_MODEL
    RESPONSE_MODEL: Final = _genai.GEN_AI_RESPONSE_MODEL
    RESPONSE_ID: Final = _genai.GEN_AI_RESPONSE_ID
    REQUEST_TEMPERATURE: Final = _genai.GEN_AI_REQUEST_TEMPERATURE
    REQUEST_MAX_TOKENS: Final = _genai.GEN_AI_REQUEST_MAX_TOKENS
    REQUEST_TOP_P: Final = _genai.GEN_AI_REQUEST_TOP_P
    REQUEST_TOP_K: Final = _genai.GEN_AI_REQUEST_TOP_K
    REQUEST_STREAM: Final = _genai.GEN_AI_REQUEST_STREAM
    USAGE_INPUT_TOKENS: Final = _genai.GEN_AI_USAGE_INPUT_TOKENS
    USAGE_OUTPUT_TOKENS: Final = _genai.GEN_AI_USAGE_OUTPUT_TOKENS
    INPUT_MESSAGES: Final = _genai.GEN_AI_INPUT_MESSAGES
    OUTPUT_MESSAGES: Final = _genai.GEN_AI_OUTPUT_MESSAGES
    SYSTEM_INSTRUCTIONS: Final = _genai.GEN_AI_SYSTEM_INSTRUCTIONS
    RESPONSE_FINISH_REASONS: Final = _genai.GEN_AI_RESPONSE_FINISH_REASONS
    RESPONSE_TIME_TO_FIRST_CHUNK: Final = _genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
    RETRIEVAL_DOCUMENTS: Final = _genai.GEN_AI_RETRIEVAL_DOCUMENTS
    RETRIEVAL_QUERY_TEXT: Final = _genai.GEN_AI_RETRIEVAL_QUERY_TEXT
    DATA_SOURCE_ID: Final = _genai.GEN_AI_DATA_SOURCE_ID
    EMBEDDINGS_DIMENSION_COUNT: Final = _genai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT
    CONVERSATION_ID: Final = _genai.GEN_AI_CONVERSATION_ID
    TOOL_NAME: Final = _genai.GEN_AI_TOOL_NAME
    TOOL_DESCRIPTION: Final = _genai.GEN_AI_TOOL_DESCRIPTION
    TOOL_CALL_ARGUMENTS: Final = _genai.GEN_AI_TOOL_CALL_ARGUMENTS
    TOOL_CALL_RESULT: Final = _genai.GEN_AI_TOOL_CALL_RESULT
    TOOL_CALL_ID: Final = _genai.GEN_AI_TOOL_CALL_ID
    TOOL_DEFINITIONS: Final = _genai.GEN_AI_TOOL_DEFINITIONS
    AGENT_NAME: Final = _genai.GEN_AI_AGENT_NAME
    WORKFLOW_NAME: Final = _genai.GEN_AI_WORKFLOW_NAME
    EVALUATION_NAME: Final = _genai.GEN_AI_EVALUATION_NAME
    EVALUATION_SCORE_VALUE: Final = _genai.GEN_AI_EVALUATION_SCORE_VALUE
    EVALUATION_SCORE_LABEL: Final = _genai.GEN_AI_EVALUATION_SCORE_LABEL
    EVALUATION_EXPLANATION: Final = _genai.GEN_AI_EVALUATION_EXPLANATION
    # Not (yet) in the GenAI conventions; named the way they would be.
    PROMPT_TEMPLATE: Final = "gen_ai.prompt.template"
    PROMPT_VARIABLES: Final = "gen_ai.prompt.variables"
    EMBEDDINGS_VECTORS_COUNT: Final = "gen_ai.embeddings.count"


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
    DOCUMENTS_COUNT: Final = "ragtel.retrieval.documents.count"
    DOCUMENTS_RECORDED: Final = "ragtel.retrieval.documents.recorded"
    DOCUMENTS_TRUNCATED: Final = "ragtel.retrieval.documents.truncated"
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
    TEXT_TRUNCATED: Final = "ragtel.text.truncated"
    TEXT_TRUNCATED_COUNT: Final = "ragtel.text.truncated_count"
    CONTENT_CAPTURED: Final = "ragtel.content.captured"
    SPAN_BYTES_TRUNCATED: Final = "ragtel.span.bytes_truncated"
    STREAM_ABANDONED: Final = "ragtel.llm.stream.abandoned"
    """Why a streamed answer ended early: ``closed`` by the consumer or garbage ``collected``."""
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


class EmbeddingRole:
    """Values of ``ragtel.embedding.role``: what was embedded."""

    QUERY: Final = "query"
    DOCUMENT: Final = "document"
    QUERY_DOCUMENT: Final = "query_document"
    """Documents embedded while answering a query (a filter or re-ranker re-embedding what was
    retrieved): neither a query nor the knowledge base, so the monitor leaves them out."""


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
