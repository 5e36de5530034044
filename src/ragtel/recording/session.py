"""``ragtel.session(...)``: a session, user, metadata and tags on every span inside a block."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Session:
    """What ``ragtel.session`` stamps on spans, and the traces started inside the block."""

    session_id: str | None = None
    user_id: str | None = None
    metadata: Mapping[str, Any] | None = None
    tags: Sequence[str] | None = None
    trace_ids: list[str] = field(default_factory=list)
    """Hex trace ids of the runs started inside the block, in order (for ``record_feedback``)."""


_current: ContextVar[Session | None] = ContextVar("ragtel_session", default=None)


def current_session() -> Session | None:
    return _current.get()


@contextmanager
def session(
    session_id: str | None = None,
    user_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Sequence[str] | None = None,
) -> Iterator[Session]:
    """Every span started inside the block carries these (``session.id``, ``user.id``, ...).

    Blocks nest: inner values win, metadata is merged, tags are added.
    """
    outer = _current.get()
    if outer is not None:
        metadata = {**(outer.metadata or {}), **(metadata or {})}
        tags = [*(outer.tags or ()), *(tags or ())]
        session_id = session_id or outer.session_id
        user_id = user_id or outer.user_id
    value = Session(session_id, user_id, metadata or None, list(tags) if tags else None)
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)
