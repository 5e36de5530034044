"""Session, user, metadata and tags: from the run's record and ``ragtel.session()``.

Metadata and tags are user data: they go through the text policy like every other text (secrets
masked, the user's redaction, lone surrogates, the length cut with its marker), and are left out
entirely when content capture is off. Session and user ids are identifiers and stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ragtel.recording.records import RunContext
from ragtel.recording.session import Session
from ragtel.semconv import GenAI, OpenInference

if TYPE_CHECKING:
    from ragtel.recording.text import TextPolicy


def stamp(
    attrs: dict[str, Any],
    run: RunContext | None,
    session: Session | None,
    oi: bool,
    genai: bool,
    policy: TextPolicy,
) -> int:
    """Write the run's context and the current ``ragtel.session()``'s into ``attrs``; returns how
    many texts were cut."""
    if run is None and session is None:
        return 0
    session_id = (run.session_id if run else None) or (session.session_id if session else None)
    user_id = (run.user_id if run else None) or (session.user_id if session else None)
    if session_id:
        session_id = policy.name(str(session_id))
        if oi:
            attrs[OpenInference.SESSION_ID] = session_id
        if genai:
            attrs[GenAI.CONVERSATION_ID] = session_id
    if user_id:
        attrs[OpenInference.USER_ID] = policy.name(str(user_id))
    if not policy.capture:
        return 0
    cuts = 0
    metadata = _user_metadata(run.metadata if run else None, session.metadata if session else None)
    if metadata:
        attrs[OpenInference.METADATA], cuts = policy.mapping_json(metadata)
    tags = [*(run.tags or () if run else ()), *(session.tags or () if session else ())]
    if tags:
        attrs[OpenInference.TAG_TAGS], tag_cuts = policy.strings(tags)
        cuts += tag_cuts
    return cuts


def _user_metadata(
    run: Mapping[str, Any] | None, session: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    if not run and not session:
        return None
    merged: dict[str, Any] = dict(run or {})
    if session:
        merged.update(session)
    return merged or None
