"""Secret stripping: credentials never leave the process, whatever the capture settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

MASK: Final = "[REDACTED]"

_SECRET_WORDS: Final = (
    "api_key",
    "apikey",
    "secret",
    "password",
    "passwd",
    "authorization",
    "credential",
    "private_key",
)
# "token" names a secret in access_token / hf_token, but a count in max_tokens / stop_token_ids.
_TOKEN_COUNT: Final = re.compile(r"tokens|token_(?:ids?|count|limit|type|budget)")

_SECRET_TEXT: Final = re.compile(
    r"(?:"
    r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}"  # OpenAI / Anthropic style keys
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key ids
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|\bxox[abpr]-[A-Za-z0-9\-]{10,}"  # Slack tokens
    r"|(?i:bearer)\s+[A-Za-z0-9\-._~+/]{16,}=*"
    r")"
)


def is_secret_key(key: str) -> bool:
    """True for parameter names that hold credentials."""
    lowered = key.lower()
    if any(word in lowered for word in _SECRET_WORDS):
        return True
    return "token" in lowered and _TOKEN_COUNT.search(lowered) is None


def strip_secrets(params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``params`` with credential-named keys masked, nested mappings included."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        skey = str(key)
        if is_secret_key(skey):
            out[skey] = MASK
        elif isinstance(value, Mapping):
            out[skey] = strip_secrets(value)
        elif isinstance(value, str):
            out[skey] = scrub_secrets(value)
        else:
            out[skey] = value
    return out


# Every pattern above contains one of these; checking them first keeps ordinary text at a few
# substring scans instead of a regex pass (this runs on every text ragtel records).
_TRIGGERS: Final = ("sk-", "AKIA", "gho_", "ghp_", "ghu_", "ghs_", "ghr_", "xox", "earer", "EARER")


def scrub_secrets(text: str) -> str:
    """``text`` with API keys and bearer tokens masked."""
    for trigger in _TRIGGERS:
        if trigger in text:
            return _SECRET_TEXT.sub(MASK, text)
    return text
