"""What ragtel records, resolved in one order: argument, then ``RAGTEL_*`` variable, then default.

Every environment variable is a documented constant here; an unknown ``RAGTEL_*`` variable or a
value that does not parse raises ``ValueError`` when the configuration is built, not later inside
the user's request.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

RAGTEL_CAPTURE_CONTENT: Final = "RAGTEL_CAPTURE_CONTENT"
"""``true``/``false``: record texts (queries, documents, prompts, answers). Default true."""
OTEL_GENAI_CAPTURE: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""The GenAI instrumentations' switch; honoured when ``RAGTEL_CAPTURE_CONTENT`` is unset.

Its values, any case: ``SPAN_ONLY`` / ``SPAN_AND_EVENT`` (content on spans: captured),
``NO_CONTENT`` / ``EVENT_ONLY`` (none on spans — ragtel writes no content events: not captured),
and the booleans ``true`` / ``false`` of older instrumentations."""
RAGTEL_CAPTURE_EMBEDDINGS: Final = "RAGTEL_CAPTURE_EMBEDDINGS"
"""``true``/``false``: record embedding vectors. Default true."""
RAGTEL_MAX_DOCUMENTS: Final = "RAGTEL_MAX_DOCUMENTS"
"""Documents recorded per retrieval span. Default 50."""
RAGTEL_MAX_TEXT_CHARS: Final = "RAGTEL_MAX_TEXT_CHARS"
"""Characters kept per text value. Default 8000."""
RAGTEL_MAX_VECTORS: Final = "RAGTEL_MAX_VECTORS"
"""Embedding vectors recorded per span. Default 32."""
RAGTEL_MAX_MESSAGES: Final = "RAGTEL_MAX_MESSAGES"
"""Chat messages recorded per direction on one LLM span. Default 64."""
RAGTEL_MAX_SPAN_BYTES: Final = "RAGTEL_MAX_SPAN_BYTES"
"""Approximate encoded size of one span's attributes. Default 1 MiB (OTLP gRPC limit is 4 MiB)."""
RAGTEL_CONVENTIONS: Final = "RAGTEL_CONVENTIONS"
"""Comma list of ``openinference``, ``genai``. Default both."""
RAGTEL_REDACT: Final = "RAGTEL_REDACT"
"""``module:function`` taking and returning a string, applied to every text recorded."""
RAGTEL_REDACT_SECRETS: Final = "RAGTEL_REDACT_SECRETS"
"""``true``/``false``: mask API keys and bearer tokens found in texts. Default true."""
RAGTEL_SHUTDOWN_TIMEOUT: Final = "RAGTEL_SHUTDOWN_TIMEOUT"
"""Seconds the exit (or a re-``configure()``) waits for queued spans to be sent. Default 5; what
is still unsent then is counted in ``ragtel.stats()["spans_lost_at_shutdown"]``."""
RAGTEL_MONITOR: Final = "RAGTEL_MONITOR"
"""``true``/``false``: measure query distance to the knowledge base, and drift. Default true."""

_MONITOR_PREFIX: Final = "RAGTEL_MONITOR_"  # read by ragtel.monitor
# Settings of ragtel's own development tooling (backend installs, the compiled build, end-to-end
# tests), not of the library; they share the prefix, so the typo check must know them.
_OTHER_KNOWN: Final = frozenset(
    {
        "RAGTEL_CACHE_DIR",
        "RAGTEL_E2E_REQUIRE",
        "RAGTEL_EXPECT_COMPILED",
        "RAGTEL_JAEGER_BIN",
        "RAGTEL_JAEGER_UI",
        "RAGTEL_MYPYC",
        "RAGTEL_OTELCOL_BIN",
        "RAGTEL_PHOENIX_BIN",
        "RAGTEL_SCREENSHOT_DIR",
    }
)

CONVENTIONS: Final = frozenset({"openinference", "genai"})
N = TypeVar("N", int, float)


@dataclass(frozen=True, slots=True)
class Settings:
    """A ``TraceConfig`` resolved: every field has its final, typed value. Built once per config."""

    capture_content: bool = True
    capture_embeddings: bool = True
    max_documents: int = 50
    max_text_chars: int = 8000
    max_vectors: int = 32
    max_messages: int = 64
    max_span_bytes: int = 1 << 20
    conventions: frozenset[str] = CONVENTIONS
    redact: Callable[[str], str] | None = None
    redact_secrets: bool = True
    monitor: bool = True
    shutdown_timeout: float = 5.0

    @property
    def openinference(self) -> bool:
        return "openinference" in self.conventions

    @property
    def genai(self) -> bool:
        return "genai" in self.conventions


def resolve(config: TraceConfig | Settings | None) -> Settings:
    """The settings of ``config`` (None: from the environment and defaults)."""
    if isinstance(config, Settings):
        return config
    return (config or TraceConfig()).settings()


@dataclass(frozen=True, slots=True)
class TraceConfig:
    """What ragtel records and how much of it. Fields left as None come from the environment."""

    capture_content: bool | None = None
    capture_embeddings: bool | None = None
    max_documents: int | None = None
    max_text_chars: int | None = None
    max_vectors: int | None = None
    max_messages: int | None = None
    max_span_bytes: int | None = None
    conventions: frozenset[str] | None = None
    redact: Callable[[str], str] | None = None
    redact_secrets: bool | None = None
    monitor: bool | None = None
    shutdown_timeout: float | None = None
    _resolved: bool = field(default=False, repr=False, compare=False)
    _settings: Settings | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._resolved:
            return
        env = os.environ
        # Configured in code: an unrelated misspelt variable is the environment's problem, and
        # is logged; configured by the environment alone, it is a misconfiguration, and raises.
        in_code = any(getattr(self, f.name) is not None for f in dataclasses.fields(Settings))
        _reject_unknown_variables(env, warn_only=in_code)
        values: dict[str, Any] = {
            "capture_content": _first(
                self.capture_content,
                _env_bool(env, RAGTEL_CAPTURE_CONTENT),
                _env_genai_capture(env),
                True,
            ),
            "capture_embeddings": _first(
                self.capture_embeddings, _env_bool(env, RAGTEL_CAPTURE_EMBEDDINGS), True
            ),
            "max_documents": _first(self.max_documents, _env_int(env, RAGTEL_MAX_DOCUMENTS), 50),
            "max_text_chars": _first(
                self.max_text_chars, _env_int(env, RAGTEL_MAX_TEXT_CHARS), 8000
            ),
            "max_vectors": _first(self.max_vectors, _env_int(env, RAGTEL_MAX_VECTORS), 32),
            "max_messages": _first(self.max_messages, _env_int(env, RAGTEL_MAX_MESSAGES), 64),
            "max_span_bytes": _first(
                self.max_span_bytes, _env_int(env, RAGTEL_MAX_SPAN_BYTES), 1 << 20
            ),
            "conventions": _first(
                _conventions(self.conventions, "conventions"),
                _conventions(env.get(RAGTEL_CONVENTIONS), RAGTEL_CONVENTIONS),
                CONVENTIONS,
            ),
            "redact": _first(self.redact, _env_callable(env, RAGTEL_REDACT)),
            "redact_secrets": _first(
                self.redact_secrets, _env_bool(env, RAGTEL_REDACT_SECRETS), True
            ),
            "monitor": _first(self.monitor, _env_bool(env, RAGTEL_MONITOR), True),
            "shutdown_timeout": float(
                _first(self.shutdown_timeout, _env_float(env, RAGTEL_SHUTDOWN_TIMEOUT), 5.0)
            ),
        }
        for name in ("max_documents", "max_text_chars", "max_vectors", "max_messages"):
            if values[name] < 0:
                raise ValueError(f"TraceConfig.{name} must be >= 0, got {values[name]}")
        if values["max_span_bytes"] < 4096:
            raise ValueError("TraceConfig.max_span_bytes must be at least 4096")
        if not 0 < values["shutdown_timeout"] < float("inf"):
            raise ValueError(
                f"TraceConfig.shutdown_timeout must be a positive number of seconds, "
                f"got {values['shutdown_timeout']}"
            )
        if values["redact"] is not None and not callable(values["redact"]):
            raise ValueError("TraceConfig.redact must be a callable taking and returning a str")
        for name, value in values.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_resolved", True)
        object.__setattr__(self, "_settings", Settings(**values))

    @property
    def openinference(self) -> bool:
        return "openinference" in self.settings().conventions

    @property
    def genai(self) -> bool:
        return "genai" in self.settings().conventions

    def settings(self) -> Settings:
        """The resolved values as a typed, frozen ``Settings`` (what the recorder reads)."""
        if self._settings is None:  # built with _resolved=True: the fields are final already
            values = {f.name: getattr(self, f.name) for f in dataclasses.fields(Settings)}
            object.__setattr__(self, "_settings", Settings(**values))
        return self._settings  # type: ignore[return-value]

    def replace(self, **changes: Any) -> TraceConfig:
        """A copy with some fields changed (validated like the constructor)."""
        current = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        current.update(changes, _resolved=False, _settings=None)
        return TraceConfig(**current)


def _first(*candidates: Any) -> Any:
    for candidate in candidates:
        if candidate is not None:
            return candidate
    return None


def _reject_unknown_variables(env: Mapping[str, str], *, warn_only: bool = False) -> None:
    known = {v for k, v in globals().items() if k.startswith("RAGTEL_") and isinstance(v, str)}
    for name in env:
        if name.startswith("RAGTEL_") and name not in known and name not in _OTHER_KNOWN:
            if name.startswith(_MONITOR_PREFIX):
                continue
            message = f"unknown ragtel setting {name}; known: {', '.join(sorted(known))}"
            if not warn_only:
                raise ValueError(message)
            logging.getLogger("ragtel").warning("ragtel: %s (ignored: configured in code)", message)


def _env_bool(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean (use true or false)")


_GENAI_CAPTURE_MODES: Final = {
    "span_only": True,
    "span_and_event": True,
    "no_content": False,
    "event_only": False,
}


def _env_genai_capture(env: Mapping[str, str]) -> bool | None:
    raw = env.get(OTEL_GENAI_CAPTURE)
    if raw is not None and raw.strip().lower() in _GENAI_CAPTURE_MODES:
        return _GENAI_CAPTURE_MODES[raw.strip().lower()]
    try:
        return _env_bool(env, OTEL_GENAI_CAPTURE)
    except ValueError:
        raise ValueError(
            f"{OTEL_GENAI_CAPTURE}={raw!r} is not one of NO_CONTENT, SPAN_ONLY, EVENT_ONLY, "
            "SPAN_AND_EVENT, true, false"
        ) from None


def _env_float(env: Mapping[str, str], name: str) -> float | None:
    return _env_number(env, name, float, "a number")


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    return _env_number(env, name, int, "an integer")


def _env_number(env: Mapping[str, str], name: str, kind: Callable[[str], N], what: str) -> N | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not {what}") from None


def _env_callable(env: Mapping[str, str], name: str) -> Callable[[str], str] | None:
    raw = env.get(name)
    if not raw:
        return None
    module_name, _, attr = raw.partition(":")
    if not attr:
        raise ValueError(f"{name}={raw!r} must look like 'package.module:function'")
    try:
        function: Callable[[str], str] = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"{name}={raw!r} cannot be imported: {exc}") from None
    return function


def _conventions(raw: str | frozenset[str] | set[str] | None, source: str) -> frozenset[str] | None:
    if raw is None:
        return None
    names = raw.split(",") if isinstance(raw, str) else raw
    chosen = frozenset(n.strip().lower() for n in names if n.strip())
    unknown = chosen - CONVENTIONS
    if unknown or not chosen:
        raise ValueError(
            f"{source}: unknown conventions {sorted(unknown) or '(none given)'}; "
            f"choose from {sorted(CONVENTIONS)}"
        )
    return chosen
