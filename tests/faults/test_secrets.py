"""Secrets planted in every field a user controls never reach the OTLP bytes the Collector
received; with content capture off, no user text at all does."""

from __future__ import annotations

import uuid

import pytest
from harness import Relay, Traced, assert_every_span_accounted, lost, report
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from pipeline import ListRetriever, build_chain

import ragtel
from ragtel import TraceConfig

# Shaped like the real thing (made up, never valid).
OPENAI = "sk-proj-Xq7Lm2Np9Rt4Vw8Yz3Bc6Df1Gh5Jk0"
GOOGLE = "AIzaSyD9tSrke72PouQMnMXa7eZSW0jkFMBWYq"
STRIPE = "sk_live_51H8fKjL2mNoPqRsTuVwXyZ0123"
HUGGINGFACE = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567"
BASIC_CREDENTIALS = "dXNlcjpzM2NyM3QtcGFzc3dvcmQ="  # base64 of user:s3cr3t-password
DSN_PASSWORD = "Hunter2-DsnPass"
URL_PASSWORD = "UrlPa55w0rd-x"
HEADER_VALUE = "xak-7f3e9c2a1b5d4e6f"  # no recognisable shape: only its name says "secret"
PARAM_VALUE = "k3y-b9d8c7e6f5a4"
TOOL_KEY = "tk-0a9b8c7d6e5f"
AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB"
BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXZhbHVl"

DSN = f"postgresql://app:{DSN_PASSWORD}@db.internal:5432/rag"
URL = f"https://deploy:{URL_PASSWORD}@git.example.com/kb.git"
SECRETS = {
    "openai": OPENAI,
    "google": GOOGLE,
    "stripe": STRIPE,
    "huggingface": HUGGINGFACE,
    "basic": BASIC_CREDENTIALS,
    "dsn password": DSN_PASSWORD,
    "url password": URL_PASSWORD,
    "X-Api-Key header": HEADER_VALUE,
    "api-key parameter": PARAM_VALUE,
    "tool api_key argument": TOOL_KEY,
    "aws": AWS,
    "github": GITHUB,
    "bearer": BEARER,
}
CONFIDENTIAL = "ACME-INTERNAL-7731"  # removed by the user's own redact function
CANARY = "Canary-user-text"  # ordinary user text: must vanish when content capture is off


def _redact(text: str) -> str:
    return text.replace(CONFIDENTIAL, "[acme]")


@tool
def lookup_ticket(ticket: str, api_key: str) -> str:
    """Look up a support ticket."""
    return f"ticket {ticket}: resolved ({CANARY} answer)"


def _fail(_: object) -> str:
    # The secret is in the message and in this source line, so in the stack trace twice.
    raise ConnectionError(f"cannot reach {DSN} with Basic dXNlcjpzM2NyM3QtcGFzc3dvcmQ= {CANARY}")


def _run_everything(traced: Traced) -> None:
    docs = [
        Document(
            id="kb-1",
            page_content=f"Rotate the key {GOOGLE} monthly. {CANARY} {CONFIDENTIAL}",
            metadata={
                "source": DSN,
                "api_key": OPENAI,
                "X-Api-Key": HEADER_VALUE,
                "auth": f"Basic {BASIC_CREDENTIALS}",
                "note": f"{CANARY} {CONFIDENTIAL}",
            },
        ),
        Document(id="kb-2", page_content=f"Mirror at {URL} ({STRIPE})", metadata={"repo": URL}),
    ]
    chain = build_chain(
        ListRetriever(documents=docs),
        answer=f"Use {HUGGINGFACE} then. {CANARY}",
        model_kwargs={"headers": {"X-Api-Key": HEADER_VALUE}, "api-key": PARAM_VALUE},
    )
    session_meta = {"stripe": STRIPE, "callback": URL, "who": CANARY, "org": CONFIDENTIAL}
    with ragtel.session(session_id="s-1", user_id="u-1", metadata=session_meta, tags=[GITHUB]):
        chain.invoke(
            {
                "question": f"My key {OPENAI} fails, Authorization: Bearer {BEARER} {CANARY}",
                "history_pairs": [("user", f"earlier I used {AWS} {CANARY}")],
            },
            config=traced.config(
                metadata={"api-key": PARAM_VALUE, "dsn": DSN, "X-Api-Key": HEADER_VALUE},
                tags=[f"token={HUGGINGFACE}", CANARY, CONFIDENTIAL],
            ),
        )
        lookup_ticket.invoke(
            {"ticket": f"T-1 {CANARY} {GOOGLE}", "api_key": TOOL_KEY}, config=traced.config()
        )
        with pytest.raises(ConnectionError):
            RunnableLambda(_fail).invoke(
                "x", config=traced.config(metadata={"hf": HUGGINGFACE, "who": CANARY})
            )


def _received_bytes(traced: Traced) -> bytes:
    delta = traced.flush()
    assert_every_span_accounted(delta)
    assert lost(delta) == 0, delta
    assert len(traced.received()) == delta["spans_started"] >= 8
    return traced.relay.sink.raw()


@pytest.mark.parametrize("capture_content", [True, False])
def test_no_planted_secret_reaches_the_collector(relay: Relay, capture_content: bool) -> None:
    config = TraceConfig(monitor=False, capture_content=capture_content, redact=_redact)
    traced = Traced(relay, f"faults-secrets-{uuid.uuid4().hex[:8]}", config=config)
    _run_everything(traced)
    raw = _received_bytes(traced)

    leaked = sorted(name for name, secret in SECRETS.items() if secret.encode() in raw)
    assert not leaked, f"secrets in the OTLP bytes: {leaked}"
    report(
        f"secrets capture_content={capture_content}",
        planted=len(SECRETS),
        found=len(leaked),
        otlp_bytes=len(raw),
    )
    assert CONFIDENTIAL.encode() not in raw  # the user's redact applies to metadata and tags too
    if capture_content:
        assert CANARY.encode() in raw  # texts are recorded, secrets masked in them
        assert b"[REDACTED]" in raw
    else:
        assert CANARY.encode() not in raw, "user text exported with capture_content=False"
        assert b"ConnectionError" in raw  # the error's type is still there
