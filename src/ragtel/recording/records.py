"""Neutral records of RAG steps: what the framework adapters hand to the recorder.

Adapters translate LangChain or LlamaIndex objects into these; the recorder turns them into
attributes. Neither side knows the other's vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Document:
    """One retrieved document or node."""

    content: str | None = None
    id: str | None = None
    score: float | None = None
    metadata: Mapping[str, Any] | None = None


@dataclass(slots=True)
class Message:
    """One chat message, or one prompt of a completion model (role ``user``)."""

    role: str
    content: str


@dataclass(slots=True)
class Usage:
    """Token counts reported by the model; None where it reported nothing."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None

    def __bool__(self) -> bool:
        return any(
            v is not None for v in (self.input_tokens, self.output_tokens, self.total_tokens)
        )


@dataclass(slots=True)
class PromptTemplate:
    """A template as written: one entry per message of a chat template, in order."""

    messages: Sequence[tuple[str, str]]  # (role, template text)
    variables: Mapping[str, Any] = field(default_factory=dict)
    version: str | None = None


# Metadata keys frameworks and applications use for the conversation a run belongs to.
SESSION_KEYS = ("session_id", "thread_id", "conversation_id")


@dataclass(slots=True)
class RunContext:
    """Who and what a run belongs to, as the framework reports it."""

    session_id: str | None = None
    user_id: str | None = None
    metadata: Mapping[str, Any] | None = None
    tags: Sequence[str] | None = None

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
        return cls(
            session_id=str(session_id) if session_id is not None else None,
            user_id=str(user_id) if user_id is not None else None,
            metadata=md or None,
            tags=list(tags) if tags else None,
        )
