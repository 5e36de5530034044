"""The text policy: what happens to every string before it leaves the process.

One entry point per shape of value, all through the same chain — secrets masked, then the user's
redaction, then lone surrogates made valid UTF-8, then the length cut:

- ``apply``: a text (queries, documents, messages, templates, answers);
- ``mapping_json``: user metadata (run, session, document metadata) as bounded JSON, keys and
  values through the chain, values of credential-named keys masked;
- ``strings``: tags;
- ``params``: model parameters (recorded even without content: credentials masked by name);
- ``error``: an exception's message, stack trace and status description;
- ``name``: span names (not content, but user-chosen: surrogates and length only).

Capture switched off means no text at all: no metadata, no tags, no exception messages.
A user ``redact`` function that raises does not break recording: the text is replaced by
``REDACTION_FAILED`` (never exported unredacted) and counted in ``ragtel.stats()``.
"""

from __future__ import annotations

import json
import math
import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from ragtel import _stats
from ragtel._guard import report
from ragtel.config import Settings
from ragtel.recording.encode import compact_json, float_json, json_string, to_jsonable
from ragtel.recording.secrets import MASK, is_secret_key, scrub_secrets, strip_secrets

REDACTION_FAILED: Final = "[ragtel: redaction failed]"
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
MAX_NAME_CHARS: Final = 1024
_MAX_STACK_CHARS: Final = 4000  # the end of a trace: the frames nearest the error
_MAX_METADATA_ITEMS: Final = 64
_MAX_KNOWN_KEYS: Final = 1024
_MAX_KNOWN_VALUE_CHARS: Final = 256
# Texts that recur across runs by nature (a store's documents, their metadata, a template's
# messages): this many outcomes kept at a time, of texts up to this length.
_MAX_LASTING: Final = 512
_MAX_LASTING_CHARS: Final = 4096
_TEXT_VALUES: Final = frozenset({str, type(None)})
_PRETTY_JSON: Final = json.JSONEncoder(ensure_ascii=False)  # json.dumps' default separators
_MASK_JSON: Final = json.dumps(MASK)


def valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (valid in a Python str, invalid in UTF-8) replaced by U+FFFD;
    the OTLP encoder would otherwise drop the whole attribute (or the span's name, the batch)."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    # Pairs written as two surrogates become the character they encode; lone ones become U+FFFD.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class TextPolicy:
    """Redaction and truncation of texts under one set of settings (immutable, shared)."""

    __slots__ = (
        "_keys",
        "_lasting",
        "_mappings",
        "_redact",
        "_secrets",
        "_values",
        "capture",
        "deterministic",
        "max_chars",
    )

    def __init__(self, settings: Settings, sdk_max_length: int | None = None) -> None:
        self.capture = settings.capture_content
        # An SDK value-length limit would cut strings silently; cut them here, with a marker.
        self.max_chars = min(settings.max_text_chars, sdk_max_length or settings.max_text_chars)
        self._secrets = settings.redact_secrets
        self._redact: Callable[[str], str] | None = settings.redact
        # True when a text's outcome depends on the text alone, so it may be reused; a user's
        # redact function is called on every text, as documented.
        self.deterministic = self._redact is None
        # Metadata keys repeat (every document has a "source"): each key's outcome under this
        # policy, kept while the policy is ragtel's own (a user's redact function is called on
        # every text, as documented). With the outcome, the key as JSON ('"source":').
        self._keys: dict[str, tuple[str, bool, int, str]] = {}
        # Short metadata values repeat as well (a store returns the same documents' sources,
        # file names and categories query after query): each one's JSON under this policy.
        self._values: dict[str, tuple[str, int]] = {}
        # The outcome of texts and metadata that recur across runs (see ``lasting``).
        self._lasting: dict[str, tuple[str, bool, str]] = {}
        self._mappings: dict[tuple[tuple[Any, Any], ...], tuple[str, int]] = {}

    def clean(self, value: str) -> str:
        """``value`` redacted and valid UTF-8, not cut."""
        if self._secrets:
            value = scrub_secrets(value)
        if self._redact is not None:
            try:
                redacted = self._redact(value)
            except Exception as error:  # the user's function: count it, never export unredacted
                report("redact", error)
                _stats.add("redaction_failures")
                return REDACTION_FAILED
            value = redacted if isinstance(redacted, str) else REDACTION_FAILED
        return valid_unicode(value)

    def apply(self, value: str) -> tuple[str, bool]:
        """``value`` redacted and cut to length, and whether it was cut."""
        if self._redact is None:  # clean() without its call: this runs on every text recorded
            if self._secrets:
                value = scrub_secrets(value)
            if not value.isascii():
                value = valid_unicode(value)
        else:
            value = self.clean(value)
        if len(value) > self.max_chars:
            return value[: self.max_chars], True
        return value, False

    def lasting(self, value: str) -> tuple[str, bool, str]:
        """``apply(value)`` for a text that recurs across runs by nature (a store returns the
        same documents query after query; a template is the same on every call), with the
        outcome as a JSON string literal: kept, for a bounded number of texts at a time, while
        the policy is ragtel's own."""
        done = self._lasting.get(value)
        if done is None:
            text, cut = self.apply(value)
            done = (text, cut, json_string(text))
            if self.deterministic and len(value) <= _MAX_LASTING_CHARS:
                _remember(self._lasting, value, done)
        return done

    def forms_json(self, forms: list[Any]) -> tuple[str, bool] | None:
        """Registered JSON forms (``registered_forms``: mappings of texts, nulls and metadata)
        as one compact JSON list through the policy, as ``apply`` on their JSON would give it,
        and whether it was cut: each text through ``lasting`` and each mapping through
        ``mapping_json``, i.e. the documents a retriever returned, policed and kept already,
        handed on to the next step. Forms past the cut are not looked at. None when a form
        holds anything else, when metadata was cut (its own marker differs from a cut of the
        whole), or under a user's redact function (which then sees the value whole, as
        before): the caller encodes and polices the value whole."""
        if self._redact is not None:
            return None
        room = self.max_chars
        items = []
        used = 1  # "["
        for form in forms:
            if used > room:
                break
            if type(form) is not dict:
                return None
            parts = []
            for key, value in form.items():
                if type(key) is not str:
                    return None
                if value is None:
                    encoded = "null"
                elif type(value) is str:
                    # A text cut here is longer than the room: the whole is cut below, and a
                    # cut text is a prefix of the uncut one, so the outcome is the same.
                    encoded = self.lasting(value)[2]
                elif type(value) is dict:
                    encoded, cuts = self.mapping_json(value)
                    if cuts:
                        return None
                else:
                    return None
                parts.append(self._key(key)[3] + encoded)
            item = "{" + ",".join(parts) + "}"
            items.append(item)
            used += len(item) + 1
        text = "[" + ",".join(items) + "]"
        if len(text) <= room:
            return text, False
        return text[:room], True

    def strings(self, values: Iterable[Any]) -> tuple[list[str], int]:
        """Each value as text through the policy (tags), ``max_chars`` in all, and how many cuts
        were made (a value cut or left out counts one)."""
        out: list[str] = []
        cuts = 0
        room = self.max_chars
        for value in values:
            if room <= 0:
                cuts += 1
                continue
            text, cut = self.apply(str(value))
            if len(text) > room:
                text, cut = text[:room], True
            out.append(text)
            room -= len(text)
            cuts += cut
        return out, cuts

    def mapping_json(self, mapping: Mapping[str, Any]) -> tuple[str, int]:
        """User metadata as compact JSON within ``max_chars``, and how many cuts were made.

        Values of credential-named keys are masked, every key and string value goes through the
        policy; past ``max_chars`` the remaining keys are left out and counted under ``"…"``.
        """
        if self._redact is None and len(mapping) <= _MAX_METADATA_ITEMS:
            seen: tuple[tuple[Any, Any], ...] | None = tuple(mapping.items())
            try:
                done = self._mappings.get(seen)  # type: ignore[arg-type]
            except TypeError:  # an unhashable value (a list): not kept
                seen, done = None, None
            if done is not None:
                return done
            flat = self._flat_mapping_json(mapping)
            if flat is not None:
                # Kept when every value is a text (or null): equal keys then mean equal JSON,
                # which 1 == 1.0 == True would not.
                if seen is not None and _TEXT_VALUES.issuperset(map(type, mapping.values())):
                    _remember(self._mappings, seen, flat)
                return flat
        items = list(mapping.items())
        cleaned: list[tuple[str, Any, int]] = []
        if len(items) <= _MAX_METADATA_ITEMS:
            cleaned = [self._metadata_item(key, value) for key, value in items]
            whole = {skey: clean for skey, clean, _ in cleaned}
            text = compact_json(whole)
            # Pretty-printed JSON (what the item-by-item measure below counts) adds at most one
            # character per character of compact JSON: well within the limit, every item fits.
            if len(whole) == len(items) and 2 + 2 * len(text) <= self.max_chars:
                return text, sum(item_cuts for _, _, item_cuts in cleaned)
        cuts = 0
        out: dict[str, Any] = {}
        used = 2
        for i, (key, value) in enumerate(items):
            skey, clean, item_cuts = cleaned[i] if cleaned else self._metadata_item(key, value)
            piece = len(_PRETTY_JSON.encode({skey: clean}))
            if i >= _MAX_METADATA_ITEMS or used + piece > self.max_chars:
                out["…"] = f"{len(items) - i} more"
                cuts += 1
                break
            out[skey] = clean
            used += piece
            cuts += item_cuts
        return compact_json(out), cuts

    def _flat_mapping_json(self, mapping: Mapping[str, Any]) -> tuple[str, int] | None:
        """``mapping_json``'s result for the common case, written directly: keys seen before that
        the policy leaves as they are, values that are texts, numbers, booleans or null, and the
        whole well within ``max_chars``. None for anything else (the general path decides)."""
        known = self._keys
        values = self._values
        parts = []
        cuts = 0
        for key, value in mapping.items():
            outcome = known.get(key) if type(key) is str else None
            if outcome is None or outcome[0] != key:
                return None
            kind = type(value)
            if outcome[1]:
                encoded = _MASK_JSON
            elif kind is str:
                done = values.get(value)
                if done is None:
                    text, cut = self.apply(value)
                    done = (json_string(text), int(cut))
                    if len(value) <= _MAX_KNOWN_VALUE_CHARS and len(values) < _MAX_KNOWN_KEYS:
                        values[value] = done
                encoded = done[0]
                cuts += done[1]
            elif kind is int:
                encoded = int.__repr__(value)
            elif kind is bool:
                encoded = "true" if value else "false"
            elif value is None:
                encoded = "null"
            elif kind is float and math.isfinite(value):
                encoded = float_json(value)
            else:
                return None
            parts.append(outcome[3] + encoded)
        text = "{" + ",".join(parts) + "}"
        # As in mapping_json: within the limit even pretty-printed, so nothing was left out.
        if 2 + 2 * len(text) > self.max_chars:
            return None
        return text, cuts

    def _metadata_item(self, key: Any, value: Any) -> tuple[str, Any, int]:
        """One metadata entry through the policy: its key, its value, and the cuts made."""
        skey, secret, key_cut, _ = self._key(str(key))
        if secret:
            return skey, MASK, key_cut
        clean, value_cuts = self._json_value(to_jsonable(value), 1)
        return skey, clean, key_cut + value_cuts

    def _key(self, key: str) -> tuple[str, bool, int, str]:
        """A mapping key through the policy, whether it names a credential, whether it was cut
        (0 or 1), and the key as JSON before its value."""
        known = self._keys.get(key)
        if known is not None:
            return known
        skey, cut = self.apply(key)
        outcome = (skey, self._secrets and is_secret_key(skey), int(cut), json_string(skey) + ":")
        if self._redact is None and len(self._keys) < _MAX_KNOWN_KEYS:
            self._keys[key] = outcome
        return outcome

    def _json_value(self, value: Any, depth: int) -> tuple[Any, int]:
        if isinstance(value, str):
            text, cut = self.apply(value)
            return text, int(cut)
        if isinstance(value, dict):
            cuts = 0
            out: dict[str, Any] = {}
            for key, item in value.items():
                skey, secret, key_cut, _ = self._key(key)
                if secret:
                    out[skey] = MASK
                    continue
                out[skey], item_cuts = self._json_value(item, depth + 1)
                cuts += key_cut + item_cuts
            return out, cuts
        if isinstance(value, list):
            cuts = 0
            items = []
            for item in value:
                clean, item_cuts = self._json_value(item, depth + 1)
                items.append(clean)
                cuts += item_cuts
            return items, cuts
        return value, 0

    def params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Model parameters with credentials masked. Without content capture only numbers,
        booleans and the model's identifiers remain: parameters can carry user text (a system
        prompt, stop sequences, canned responses)."""
        stripped = strip_secrets(params)
        if self.capture:
            return self._json_value(stripped, 0)[0]  # type: ignore[no-any-return]
        return _without_text(stripped)

    def name(self, name: str) -> str:
        """A span name: valid UTF-8 and at most 1,024 characters."""
        name = valid_unicode(name)
        return name if len(name) <= MAX_NAME_CHARS else name[:MAX_NAME_CHARS]

    def error(self, error: BaseException) -> tuple[dict[str, str], str]:
        """The ``exception`` event's attributes and the status description for ``error``.

        With content captured: message and stack trace through the policy (the trace cut to its
        last frames). Without: the exception's type and the frames only — a message is user text.
        """
        kind = type(error)
        type_name = kind.__qualname__
        if kind.__module__ not in ("builtins", "__main__"):
            type_name = f"{kind.__module__}.{type_name}"
        try:
            frames = "".join(traceback.format_tb(error.__traceback__))
        except Exception:  # a frame whose source cannot be read: the type still says a lot
            frames = ""
        if not self.capture:
            stack = self.clean(f"Traceback (most recent call last):\n{frames}{type_name}")
            return {
                "exception.type": type_name,
                "exception.stacktrace": stack[-_MAX_STACK_CHARS:],
            }, kind.__name__
        try:
            text = str(error)
            full = "".join(traceback.format_exception(error))
        except Exception:  # a hostile __str__
            text = f"<unprintable {kind.__name__}>"
            full = f"Traceback (most recent call last):\n{frames}{type_name}: {text}"
        message, _ = self.apply(text)
        stack = self.clean(full)
        attrs = {
            "exception.type": type_name,
            "exception.message": message,
            "exception.stacktrace": stack[-_MAX_STACK_CHARS:],
        }
        return attrs, f"{kind.__name__}: {message}"[:1024]


def _remember(cache: dict[Any, Any], key: Any, outcome: Any) -> None:
    # Emptied when full rather than frozen: a long-lived process moves on to other documents.
    if len(cache) >= _MAX_LASTING:
        cache.clear()
    cache[key] = outcome


_IDENTIFIER_PARAMS: Final = frozenset(
    {"model", "model_name", "model_id", "deployment_name", "engine", "_type", "provider"}
)


def _without_text(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            out[key] = _without_text(value)
        elif isinstance(value, (bool, int, float)) or value is None or value == MASK:
            out[key] = value
        elif isinstance(value, str) and key in _IDENTIFIER_PARAMS:
            out[key] = valid_unicode(value)
    return out
