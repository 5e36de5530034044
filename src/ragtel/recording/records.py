"""Neutral records of RAG steps: what the framework adapters hand to the recorder.

Adapters translate LangChain or LlamaIndex objects into these; the recorder turns them into
attributes. Neither side knows the other's vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

INDEX_BUILD: Final = "index_documents"
"""The run name of documents embedded outside any query (an index build): the trace's root, so
that index builds stand apart from queries in a backend's list of traces."""


@dataclass(slots=True)
class Document:
    """One retrieved document or node."""

    content: str | None = None
    id: str | None = None
    score: float | None = None
    metadata: Mapping[str, Any] | None = None


@dataclass(slots=True)
class ToolCall:
    """A model's request to run a tool: the provider's call id, the tool, its arguments."""

    id: str | None
    name: str
    arguments: Mapping[str, Any] | str | None = None  # a string when the model's JSON is partial


@dataclass(slots=True)
class ToolDefinition:
    """A tool offered to the model: name, description, JSON schema of its parameters."""

    name: str
    description: str | None = None
    parameters: Mapping[str, Any] | None = None

    @classmethod
    def from_schema(cls, schema: Mapping[str, Any]) -> ToolDefinition | None:
        """From a tool as sent to a provider: OpenAI's ``{"type": "function", "function": {...}}``
        or the flat ``{"name", "description", "parameters" | "input_schema"}`` (Anthropic's)."""
        spec = schema.get("function")
        if not isinstance(spec, Mapping):
            spec = schema
        name = spec.get("name")
        if not name:
            return None
        parameters = spec.get("parameters") or spec.get("input_schema")
        description = spec.get("description")
        return cls(
            str(name),
            str(description) if description is not None else None,
            parameters if isinstance(parameters, Mapping) else None,
        )


@dataclass(slots=True)
class Message:
    """One chat message, or one prompt of a completion model (role ``user``).

    An assistant turn may carry ``tool_calls``; a tool's answer (role ``tool``) names the call it
    answers in ``tool_call_id``.
    """

    role: str
    content: str
    tool_calls: Sequence[ToolCall] = ()
    tool_call_id: str | None = None


@dataclass(slots=True)
class Usage:
    """Token counts reported by the model; None where it reported nothing."""

    input_tokens: int | None = None
    """All input tokens, those read from or written to a provider's cache included."""
    output_tokens: int | None = None
    total_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None

    def __bool__(self) -> bool:
        return (
            self.input_tokens is not None
            or self.output_tokens is not None
            or self.total_tokens is not None
        )


@dataclass(slots=True)
class PromptTemplate:
    """A template as written: one entry per message of a chat template, in order."""

    messages: Sequence[tuple[str, str]]  # (role, template text)
    variables: Mapping[str, Any] = field(default_factory=dict)
    version: str | None = None
    variables_json: str | None = field(default=None, compare=False, repr=False)
    """The variables as JSON, once the recorder has encoded them: the prompt step and the model
    call it feeds both record them."""


# Metadata keys frameworks and applications use for the conversation a run belongs to.
SESSION_KEYS = ("session_id", "thread_id", "conversation_id")
WORKFLOW_KEY = "workflow_name"


@dataclass(slots=True)
class RunContext:
    """Who and what a run belongs to, as the framework reports it."""

    session_id: str | None = None
    user_id: str | None = None
    metadata: Mapping[str, Any] | None = None
    tags: Sequence[str] | None = None
    workflow_name: str | None = None
    """The application's name for the pipeline (metadata ``workflow_name``); a root without one
    is named after its run."""

    @classmethod
    def from_metadata(
        cls, metadata: Mapping[str, Any] | None, tags: Sequence[str] | None = None
    ) -> RunContext | None:
        """From the user's run metadata (session, user and the rest); None when there is none."""
        if not metadata and not tags:
            return None
        md = metadata or {}
        session_id = next((md[k] for k in SESSION_KEYS if md.get(k)), None)
        user_id = md.get("user_id")
        workflow = md.get(WORKFLOW_KEY)
        return cls(
            session_id=str(session_id) if session_id is not None else None,
            user_id=str(user_id) if user_id is not None else None,
            metadata=md or None,
            tags=list(tags) if tags else None,
            workflow_name=str(workflow) if workflow else None,
        )
