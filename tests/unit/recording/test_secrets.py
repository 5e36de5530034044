from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ragtel.recording import secrets
from ragtel.recording.secrets import MASK, is_secret_key, scrub_secrets, strip_secrets


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "openai_api_key",
        "OPENAI_API_KEY",
        "access_token",
        "hf_token",
        "token",
        "client_secret",
        "password",
        "Authorization",
        "aws_secret_access_key",
    ],
)
def test_secret_names(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "max_tokens",
        "max_new_tokens",
        "max_completion_tokens",
        "stop_token_ids",
        "model",
        "temperature",
        "top_k",
    ],
)
def test_parameters_that_are_not_secrets(key: str) -> None:
    assert not is_secret_key(key)


def test_strip_secrets_nested_and_in_values() -> None:
    params = {
        "model": "gpt-4o",
        "max_tokens": 256,
        "openai_api_key": "sk-live-123",
        "model_kwargs": {"extra_headers": {"Authorization": "Bearer abc"}},
        "default_headers": "Bearer abcdefghijklmnopqrstuvwxyz",
    }
    clean = strip_secrets(params)
    assert clean["model"] == "gpt-4o" and clean["max_tokens"] == 256
    assert clean["openai_api_key"] == MASK
    assert clean["model_kwargs"]["extra_headers"]["Authorization"] == MASK
    assert clean["default_headers"] == MASK


def test_scrub_secrets_in_text() -> None:
    text = "use sk-proj-AbCdEfGhIjKlMnOpQrStUv and AKIAABCDEFGHIJKLMNOP please"
    assert scrub_secrets(text) == f"use {MASK} and {MASK} please"
    assert scrub_secrets("nothing secret here") == "nothing secret here"


@pytest.mark.parametrize(
    "secret",
    [
        "AIzaSyD9tSrke72PouQMnMXa7eZSW0jkFMBWYq",  # Google
        "sk_live_51H8fKjL2mNoPqRsTuVwXyZ0123",  # Stripe
        "rk_test_51H8fKjL2mNoPqRsTuVw",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",  # Hugging Face
        "glpat-AbCdEfGhIjKlMnOpQrSt",  # GitLab
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstu",
    ],
)
def test_more_key_shapes_are_masked(secret: str) -> None:
    assert scrub_secrets(f"key: {secret}.") == f"key: {MASK}."


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("Authorization: Basic dXNlcjpzM2NyM3QtcGFzc3dvcmQ=", "Authorization", "dXNlcjpz"),
        ("postgresql://app:Hunter2-Pass@db:5432/rag", "postgresql://app:", "Hunter2-Pass"),
        ("clone https://deploy:s3cr3t@git.example.com/kb.git", "@git.example.com", "s3cr3t"),
        ('{"api_key":"tk-0a9b8c7d6e5f","q":1}', '"q":1', "tk-0a9b8c7d6e5f"),
        ("password=hunter22 user=bob", "user=bob", "hunter22"),
        ("retry with token: abcd1234efgh", "retry with", "abcd1234efgh"),
    ],
)
def test_credentials_in_text_are_masked(text: str, kept: str, gone: str) -> None:
    clean = scrub_secrets(text)
    assert kept in clean and gone not in clean and MASK in clean


@pytest.mark.parametrize(
    "text",
    [
        "basic information about the plan",
        "see https://docs.example.com/a:b@c and http://user@host/x",
        "max_tokens: 100, the key point",
        "hf_ is a prefix; sk_ too",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub_secrets(text) == text


@pytest.mark.parametrize(
    "key", ["api-key", "X-Api-Key", "x-api-key", "Proxy-Authorization", "auth"]
)
def test_header_style_names_are_secret(key: str) -> None:
    assert is_secret_key(key)
    assert strip_secrets({"headers": {key: "v"}})["headers"][key] == MASK


def _every_pattern(text: str) -> str:
    """What scrub_secrets means: each pattern applied to the whole text, in order, ungated."""
    text = secrets._SECRET_TEXT.sub(MASK, text)
    text = secrets._URL_PASSWORD.sub(rf"\g<1>{MASK}\g<3>", text)
    return secrets._SECRET_PAIR.sub(rf"\g<1>{MASK}", text)


_PIECES = [
    "sk-proj-AbCdEfGhIjKlMnOpQrStUv", "sk_live_51H8fKjL2mNoPq", "rk_test_51H8fKjL2m",
    "AIzaSyD9tSrke72PouQMnMXa7eZSW0jkFMBWYq", "hf_AbCdEfGhIjKlMnOpQrStUv", "AKIAABCDEFGHIJKLMNOP",
    "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "github_pat_11ABCDEF0123456789_xyzXYZ0123",
    "xoxb-1234567890-abc", "glpat-AbCdEfGhIjKlMnOpQr", "Bearer AbCdEfGhIjKlMnOpQr",
    "bEaReR AbCdEfGhIjKlMnOpQr", "Basic dXNlcjpzM2NyM3Q=", "BASIC dXNlcjpzM2NyM3Q=",
    "postgres://app:Hunter2@db", "PassWord=hunter22", "API-KEY: abcd1234", "Token = 'abcd1234'",
    "credential:xyzw9876", '"password" \t: "hunter22"', "SECRET\n= abcd1234", "pwd'=abcd",
    "tOkEn  :x1y2z3", "key: value", "a: b, c: d, e=f;", "the key point", "a right-hand side",
    "x_y", "://", "=", ":", " ",
    "Invoices are issued on the first day.", "日本語のテキスト", "🙂", "\ud800", "'", '"',
    "\n", "İ", "K",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES) | st.text(max_size=12), max_size=12))
def test_the_gates_never_hide_a_match(pieces: list[str]) -> None:
    # The literal gates only skip work: any text, any casing, the same as every pattern applied.
    text = "".join(pieces)
    assert scrub_secrets(text) == _every_pattern(text)


def test_a_pair_after_many_separators_is_masked() -> None:
    # Past the separators looked at one by one, the word search decides.
    text = "a: 1, " * 40 + "password: hunter22"
    assert scrub_secrets(text) == "a: 1, " * 40 + f"password: {MASK}"
