from __future__ import annotations

import dataclasses

import pytest

from ragtel.config import TraceConfig


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RAGTEL_CAPTURE_CONTENT", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"):
        monkeypatch.delenv(name, raising=False)
    config = TraceConfig()
    assert config.capture_content is True
    assert config.capture_embeddings is True
    assert config.max_documents >= 50
    assert config.conventions == frozenset({"openinference", "genai"})


def test_argument_beats_environment_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGTEL_MAX_DOCUMENTS", "7")
    assert TraceConfig().max_documents == 7
    assert TraceConfig(max_documents=3).max_documents == 3


def test_genai_capture_variable_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAGTEL_CAPTURE_CONTENT", raising=False)
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "false")
    assert TraceConfig().capture_content is False
    monkeypatch.setenv("RAGTEL_CAPTURE_CONTENT", "true")
    assert TraceConfig().capture_content is True


@pytest.mark.parametrize(
    ("value", "captured"),
    [
        ("NO_CONTENT", False),
        ("span_only", True),
        ("Event_Only", False),  # content in events only: none on spans, and ragtel writes spans
        ("SPAN_AND_EVENT", True),
        ("true", True),
        ("False", False),
    ],
)
def test_genai_capture_values_of_the_otel_instrumentations(
    monkeypatch: pytest.MonkeyPatch, value: str, captured: bool
) -> None:
    monkeypatch.delenv("RAGTEL_CAPTURE_CONTENT", raising=False)
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", value)
    assert TraceConfig().capture_content is captured


def test_shutdown_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAGTEL_SHUTDOWN_TIMEOUT", raising=False)
    assert TraceConfig().settings().shutdown_timeout == 5.0
    monkeypatch.setenv("RAGTEL_SHUTDOWN_TIMEOUT", "1.5")
    assert TraceConfig().settings().shutdown_timeout == 1.5
    with pytest.raises(ValueError, match="positive number of seconds"):
        TraceConfig(shutdown_timeout=0)


def test_conventions_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGTEL_CONVENTIONS", "genai")
    config = TraceConfig()
    assert config.genai and not config.openinference


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RAGTEL_MAX_DOCUMENTS", "many", "not an integer"),
        ("RAGTEL_CAPTURE_CONTENT", "maybe", "not a boolean"),
        ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "ALL", "NO_CONTENT, SPAN_ONLY"),
        ("RAGTEL_SHUTDOWN_TIMEOUT", "soon", "not a number"),
        ("RAGTEL_CONVENTIONS", "zipkin", "unknown conventions"),
        ("RAGTEL_REDACT", "nomodule", "package.module:function"),
        ("RAGTEL_REDACT", "no_such_module_xyz:f", "cannot be imported"),
        ("RAGTEL_MAX_DOCUMENT", "5", "unknown ragtel setting RAGTEL_MAX_DOCUMENT"),
    ],
)
def test_misconfiguration_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        TraceConfig()


def test_unknown_argument_is_an_error() -> None:
    with pytest.raises(TypeError):
        TraceConfig(max_docs=3)  # type: ignore[call-arg]


def test_resolved_settings_are_typed_and_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGTEL_MAX_DOCUMENTS", "7")
    settings = TraceConfig(max_vectors=3).settings()
    assert (settings.max_documents, settings.max_vectors) == (7, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_documents = 1  # type: ignore[misc]


def test_development_tooling_variables_are_not_typos(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGTEL_CACHE_DIR", "/tmp/ragtel-cache")
    monkeypatch.setenv("RAGTEL_E2E_REQUIRE", "1")
    monkeypatch.setenv("RAGTEL_MYPYC", "1")  # setup.py: the compiled build
    monkeypatch.setenv("RAGTEL_EXPECT_COMPILED", "0")  # tests/conftest.py
    monkeypatch.setenv("RAGTEL_MONITOR_WINDOW_SIZE", "50")  # read by ragtel.monitor
    assert TraceConfig().max_documents >= 50


def test_a_config_made_in_code_only_warns_about_a_misspelt_variable(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("RAGTEL_MAX_DOCUMENT", "5")
    with pytest.raises(ValueError, match="RAGTEL_MAX_DOCUMENT"):
        TraceConfig()  # the environment is the configuration: a typo there is an error
    with caplog.at_level("WARNING", logger="ragtel"):
        assert TraceConfig(max_documents=3).max_documents == 3
    assert "unknown ragtel setting RAGTEL_MAX_DOCUMENT" in caplog.text
