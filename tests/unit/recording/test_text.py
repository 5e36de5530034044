from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ragtel import _stats
from ragtel.config import TraceConfig
from ragtel.recording.encode import to_json
from ragtel.recording.text import REDACTION_FAILED, TextPolicy


def test_redaction_chain_applies_user_function_after_secret_scrubbing() -> None:
    settings = TraceConfig(redact=lambda text: text.replace("alice", "<name>")).settings()
    policy = TextPolicy(settings)
    assert policy.clean("alice key sk-abcdefghijklmnopqrstuvwx") == "<name> key [REDACTED]"
    unscrubbed = TextPolicy(TraceConfig(redact_secrets=False).settings())
    assert unscrubbed.clean("key sk-abcdefghijklmnopqrstuvwx") == "key sk-abcdefghijklmnopqrstuvwx"


def test_policy_redacts_before_it_cuts() -> None:
    policy = TextPolicy(TraceConfig(max_text_chars=10).settings())
    # The secret straddles the cut: masked first, so no prefix of it survives.
    assert policy.apply("key sk-abcdefghijklmnopqrstuvwx") == ("key [REDAC", True)
    assert policy.apply("short") == ("short", False)


def test_sdk_value_length_limit_lowers_the_cut() -> None:
    policy = TextPolicy(TraceConfig(max_text_chars=100).settings(), sdk_max_length=4)
    assert policy.apply("abcdefgh") == ("abcd", True)


def test_lone_surrogates_become_valid_utf8() -> None:
    policy = TextPolicy(TraceConfig().settings())
    text, _ = policy.apply("a\ud800b\udfffc \ud83d\ude00")
    assert text == "a\ufffdb\ufffdc 😀"  # lone ones replaced, a written-out pair joined
    text.encode("utf-8")  # would raise on a lone surrogate
    assert policy.name("run \udc80") == "run \ufffd"


def test_metadata_json_is_policed_bounded_and_valid() -> None:
    policy = TextPolicy(
        TraceConfig(max_text_chars=200, redact=lambda t: t.replace("fine", "FINE")).settings()
    )
    metadata = {
        "source": "postgresql://app:pw123456@db/x",
        "X-Api-Key": "plain-looking-value",
        "nested": {"api_key": "v", "note": "fine"},
        "blob": "z" * 1000,
        "bad\ud800": "\udfff",
    }
    text, cuts = policy.mapping_json(metadata)
    parsed = json.loads(text)
    assert "pw123456" not in text and "plain-looking-value" not in text
    assert parsed["X-Api-Key"] == "[REDACTED]"
    assert parsed["nested"] == {"api_key": "[REDACTED]", "note": "FINE"}  # user redact applied
    assert len(text) <= 200 and cuts >= 1
    text.encode("utf-8")


def test_tags_are_policed_and_bounded() -> None:
    policy = TextPolicy(TraceConfig(max_text_chars=50).settings())
    tags, cuts = policy.strings(["token=hf_AbCdEfGhIjKlMnOpQrStUvWx", "x" * 40, "y" * 40, "z"])
    assert tags[0] == "token=[REDACTED]"
    assert sum(len(t) for t in tags) <= 50 and cuts == 3  # one cut short, two left out


def _raise(secret: str) -> None:
    raise ConnectionError(f"cannot reach postgresql://app:Hunter2-Pw@db/x for {secret}")


@pytest.mark.parametrize("capture", [True, False])
def test_errors_go_through_the_policy(capture: bool) -> None:
    policy = TextPolicy(TraceConfig(capture_content=capture).settings())
    user_text = " ".join(["customer", "Alice"])  # a runtime value, as user data is, not code
    try:
        _raise(user_text)
    except ConnectionError as error:
        attributes, description = policy.error(error)
    joined = " ".join([*attributes.values(), description])
    assert attributes["exception.type"] == "ConnectionError"
    assert "Hunter2-Pw" not in joined  # also in the stack trace's source line: masked there too
    assert "_raise" in attributes["exception.stacktrace"]
    if capture:
        assert "customer Alice" in attributes["exception.message"]
        assert description.startswith("ConnectionError: cannot reach")
    else:
        assert "customer Alice" not in joined and "exception.message" not in attributes
        assert description == "ConnectionError"


def test_parameters_without_content_keep_numbers_and_identifiers_only() -> None:
    policy = TextPolicy(TraceConfig(capture_content=False).settings())
    params = {
        "model": "gpt-4o",
        "temperature": 0.2,
        "system": "You are the assistant of ACME's payroll team",
        "stop": ["Human:"],
        "extra": {"max_tokens": 5, "note": "user text"},
        "api_key": "k",
    }
    assert policy.params(params) == {
        "model": "gpt-4o",
        "temperature": 0.2,
        "extra": {"max_tokens": 5},
        "api_key": "[REDACTED]",
    }


def test_a_failing_redact_function_never_exports_the_text() -> None:
    def broken(text: str) -> str:
        raise RuntimeError("redactor down")

    policy = TextPolicy(TraceConfig(redact=broken).settings())
    before = _stats.snapshot().get("redaction_failures", 0)
    assert policy.apply("ssn 123-45-6789") == (REDACTION_FAILED, False)
    assert _stats.snapshot()["redaction_failures"] == before + 1


_FORM_TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "id": st.none() | _FORM_TEXTS,
                "page_content": _FORM_TEXTS,
                "metadata": st.dictionaries(
                    st.sampled_from(["source", "page", "score", "title"]),
                    st.none()
                    | st.booleans()
                    | st.integers()
                    | st.floats(allow_nan=False, allow_infinity=False)
                    | _FORM_TEXTS,
                    max_size=4,
                ),
            }
        ),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from([8000, 300, 90, 40]),
)
def test_forms_json_is_the_policy_applied_to_the_whole_json(
    forms: list[dict[str, object]], max_text_chars: int
) -> None:
    # The parts policed one by one give what the policy gives the encoder's JSON, cut included
    # (forms past the cut not even looked at); None only where metadata itself was cut.
    policy = TextPolicy(TraceConfig(redact_secrets=False, max_text_chars=max_text_chars).settings())
    done = policy.forms_json(forms)
    whole = policy.apply(to_json(forms))
    assert done == whole or (done is None and whole[1])
    if max_text_chars == 8000:
        assert done == (to_json(forms), False)


def test_forms_json_polices_each_part_and_cuts_the_whole() -> None:
    policy = TextPolicy(TraceConfig(max_text_chars=200).settings())
    form = {"id": "d", "page_content": "key sk-proj-AbCdEfGhIjKlMnOpQrStUv", "metadata": {}}
    secret_meta = {**form, "metadata": {"password": "hunter22", "n": 1}}
    text, cut = policy.forms_json([form, secret_meta]) or ("", True)
    assert not cut
    assert json.loads(text) == [
        {"id": "d", "page_content": "key [REDACTED]", "metadata": {}},
        {
            "id": "d",
            "page_content": "key [REDACTED]",
            "metadata": {"password": "[REDACTED]", "n": 1},
        },
    ]
    # Over max_text_chars, or a part cut: the whole cut as the policy cuts the whole JSON.
    for forms in ([form] * 10, [{**form, "page_content": "x" * 300}]):
        assert policy.forms_json(forms) == policy.apply(to_json(forms))
        assert policy.forms_json(forms)[1]  # type: ignore[index]
    # None: the caller encodes the value and polices it whole.
    many_keys = {f"k{i}": "v" for i in range(100)}  # metadata cut with its own marker
    assert policy.forms_json([{**form, "metadata": many_keys}]) is None
    assert policy.forms_json([{**form, "metadata": [1, 2]}]) is None  # not a text or mapping
    assert policy.forms_json([["not", "a", "form"]]) is None
    redacting = TextPolicy(TraceConfig(redact=str.upper).settings())
    assert redacting.forms_json([form]) is None  # the user's function sees the value whole
