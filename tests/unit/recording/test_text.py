from __future__ import annotations

from ragtel.config import TraceConfig
from ragtel.recording.text import TextPolicy, text_filter


def test_redaction_chain_applies_user_function_after_secret_scrubbing() -> None:
    settings = TraceConfig(redact=lambda text: text.replace("alice", "<name>")).settings()
    scrub = text_filter(settings)
    assert scrub is not None
    assert scrub("alice key sk-abcdefghijklmnopqrstuvwx") == "<name> key [REDACTED]"
    assert text_filter(TraceConfig(redact_secrets=False).settings()) is None


def test_policy_redacts_before_it_cuts() -> None:
    policy = TextPolicy(TraceConfig(max_text_chars=10).settings())
    # The secret straddles the cut: masked first, so no prefix of it survives.
    assert policy.apply("key sk-abcdefghijklmnopqrstuvwx") == ("key [REDAC", True)
    assert policy.apply("short") == ("short", False)


def test_sdk_value_length_limit_lowers_the_cut() -> None:
    policy = TextPolicy(TraceConfig(max_text_chars=100).settings(), sdk_max_length=4)
    assert policy.apply("abcdefgh") == ("abcd", True)
