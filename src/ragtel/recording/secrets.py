"""Secret stripping: credentials never leave the process, whatever the capture settings.

Two nets: by *name* (a mapping key, header or parameter called like a credential has its value
masked whatever it looks like: ``api_key``, ``api-key``, ``X-Api-Key``, ``Authorization``, ...)
and by *shape* (a text containing something shaped like a key, a token, HTTP Basic credentials
or a password in a URL has that part masked).
"""

from __future__ import annotations

import functools
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
    "access_key",
    "session_key",
    "cookie",
)
# "token" names a secret in access_token / hf_token, but a count in max_tokens / stop_token_ids.
_TOKEN_COUNT: Final = re.compile(r"tokens|token_(?:ids?|count|limit|type|budget)")

_SECRET_TEXT: Final = re.compile(
    r"(?:"
    r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}"  # OpenAI / Anthropic style keys
    r"|\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"  # Stripe secret / restricted keys
    r"|\bAIza[0-9A-Za-z_\-]{30,}"  # Google API keys
    r"|\bhf_[A-Za-z0-9]{20,}"  # Hugging Face tokens
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key ids
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|\bgithub_pat_[A-Za-z0-9_]{30,}"
    r"|\bxox[abpr]-[A-Za-z0-9\-]{10,}"  # Slack tokens
    r"|\bglpat-[A-Za-z0-9_\-]{16,}"  # GitLab tokens
    r"|(?i:bearer)\s+[A-Za-z0-9\-._~+/]{16,}=*"
    # HTTP Basic credentials: base64 with a digit, '+', '/' or '=' in it, so that prose such as
    # "basic information" is left alone.
    r"|(?i:basic)\s+(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{12,}={0,2}"
    r")"
)
# The password of scheme://user:password@host (database DSNs, git and proxy URLs).
_URL_PASSWORD: Final = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)([^\s@/]+)(@)")
# key=value / "key": "value" pairs in free text (logs, JSON, exception messages) whose key names a
# credential: the value is masked.
_SECRET_PAIR: Final = re.compile(
    r"""((?i:api[_-]?key|secret|password|passwd|pwd|token|authorization|credential)"""
    r"""["']?\s*[:=]\s*["']?)([^\s"',;}&]{4,})"""
)

# Gates: a pattern can only match a text holding one of its literals, so the regexes run only on
# texts that hold one (this runs on every text ragtel records; most hold none). The literals are
# lowercase and checked against the lowercased text, so that any casing is caught.
_SHORTEST_MATCH: Final = 7  # "a://:b@"; a pair needs 8 ("pwd=abcd"), a key or token more
# The patterns of _SECRET_TEXT that have a "-" in their literal part (sk-, xox?-, glpat-), those
# that have a "_" (sk_/rk_, hf_, gh?_, github_pat_), then the others.
_HYPHEN_TRIGGERS: Final = ("sk-", "xox", "glpat-")
_UNDERSCORE_TRIGGERS: Final = ("k_", "hf_", "gh", "_pat_")
_WORD_TRIGGERS: Final = ("aiza", "akia", "bearer", "basic")
_URL_TRIGGER: Final = "://"
# _SECRET_PAIR's key words (a pair also needs its ":" or "=").
_PAIR_TRIGGERS: Final = ("key", "ecret", "assw", "pwd", "oken", "uthorization", "redential")
# The same words as they end right before a pair's separator (after an optional quote and
# spaces); "key" stands for api_key, api-key and apikey.
_PAIR_ENDINGS: Final = (
    "key", "secret", "password", "passwd", "pwd", "token", "authorization", "credential"
)  # fmt: skip
# Past this many separators (JSON of many keys, code, logs) one search per word costs less
# than a look before each separator.
_MAX_SEPARATORS: Final = 16
_SECRET_WORD: Final = re.compile("|".join(_SECRET_WORDS))


@functools.lru_cache(maxsize=1024)  # the same few parameter and header names, call after call
def is_secret_key(key: str) -> bool:
    """True for mapping keys, header and parameter names that hold credentials."""
    lowered = key.lower().replace("-", "_")
    if _SECRET_WORD.search(lowered) is not None:
        return True
    if lowered in ("auth", "x_auth", "proxy_authorization") or lowered.endswith("_auth"):
        return True
    return "token" in lowered and _TOKEN_COUNT.search(lowered) is None


def strip_secrets(params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``params`` with credential-named keys masked, nested mappings and lists
    included, and secret-shaped texts masked."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        skey = str(key)
        out[skey] = MASK if is_secret_key(skey) else _strip_value(value)
    return out


def _strip_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_secrets(value)
    if type(value) is dict:
        return strip_secrets(value)
    if isinstance(value, (list, tuple)):
        return [_strip_value(v) for v in value]
    if value is not None and isinstance(value, Mapping):
        return strip_secrets(value)
    return value


def scrub_secrets(text: str) -> str:
    """``text`` with keys, tokens, Basic credentials and URL passwords masked."""
    if len(text) < _SHORTEST_MATCH:
        return text
    lowered = text.lower()
    if (
        _has_any(lowered, _WORD_TRIGGERS)
        or ("-" in text and _has_any(lowered, _HYPHEN_TRIGGERS))
        or ("_" in text and _has_any(lowered, _UNDERSCORE_TRIGGERS))
    ):
        text = _SECRET_TEXT.sub(MASK, text)
    if _URL_TRIGGER in text:
        text = _URL_PASSWORD.sub(rf"\g<1>{MASK}\g<3>", text)
    # Masking only removes literals, so the lowercased text before it still gates soundly.
    if _may_hold_pair(lowered):
        return _SECRET_PAIR.sub(rf"\g<1>{MASK}", text)
    return text


def _may_hold_pair(lowered: str) -> bool:
    """Whether a credential word ends right before a ":" or "=", past an optional quote and
    spaces: where every _SECRET_PAIR match has one. Prose and prompts hold a few separators and
    none of the words, so a look before each separator replaces a search for each word."""
    seen = 0
    for separator in (":", "="):
        at = lowered.find(separator)
        while at >= 0:
            seen += 1
            if seen > _MAX_SEPARATORS:
                return _has_any(lowered, _PAIR_TRIGGERS)
            end = at
            while end > 0 and lowered[end - 1].isspace():
                end -= 1
            if end > 0 and lowered[end - 1] in "\"'":
                end -= 1
            if lowered.endswith(_PAIR_ENDINGS, 0, end):
                return True
            at = lowered.find(separator, at + 1)
    return False


def _has_any(text: str, literals: tuple[str, ...]) -> bool:
    # A plain loop: any() over a generator costs a frame per call, on every text recorded.
    for literal in literals:  # noqa: SIM110
        if literal in text:
            return True
    return False
