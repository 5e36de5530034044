from __future__ import annotations

import pytest

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
