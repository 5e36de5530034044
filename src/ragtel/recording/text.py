"""The text policy: what happens to every string before it leaves the process.

One entry point, ``TextPolicy.apply``: secrets masked, then the user's redaction, then the length
cut. Parameters go through ``TextPolicy.params`` (credential-named keys masked, string values
through the same chain). Capture switched off means no text at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ragtel.config import Settings
from ragtel.recording.secrets import scrub_secrets, strip_secrets


def text_filter(settings: Settings) -> Callable[[str], str] | None:
    """The chain of redactions applied to every recorded text, or None when there is none."""
    steps = [f for f in (scrub_secrets if settings.redact_secrets else None, settings.redact) if f]
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]
    first, second = steps
    return lambda text: second(first(text))


class TextPolicy:
    """Redaction and truncation of texts under one set of settings (immutable, shared)."""

    __slots__ = ("_filter", "capture", "max_chars")

    def __init__(self, settings: Settings, sdk_max_length: int | None = None) -> None:
        self.capture = settings.capture_content
        # An SDK value-length limit would cut strings silently; cut them here, with a marker.
        self.max_chars = min(settings.max_text_chars, sdk_max_length or settings.max_text_chars)
        self._filter = text_filter(settings)

    def apply(self, value: str) -> tuple[str, bool]:
        """``value`` redacted and cut to length, and whether it was cut."""
        if self._filter is not None:
            value = self._filter(value)
        if len(value) > self.max_chars:
            return value[: self.max_chars], True
        return value, False

    def params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Model parameters with credentials masked (these are recorded even without content)."""
        return strip_secrets(params)
