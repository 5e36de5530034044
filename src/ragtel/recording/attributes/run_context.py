"""Session, user, metadata and tags: from the run's record and ``ragtel.session()``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ragtel.recording.encode import to_json
from ragtel.recording.records import RunContext
from ragtel.recording.session import current_session
from ragtel.semconv import GenAI, OpenInference


def stamp(attrs: dict[str, Any], run: RunContext | None, oi: bool, genai: bool) -> None:
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
