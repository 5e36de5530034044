"""Fixtures for end-to-end tests against real backends (see tests/e2e/backends.py).

Session-scoped fixtures ``jaeger``, ``collector`` (forwarding to ``jaeger``) and ``phoenix``
start each backend once per test session on free 127.0.0.1 ports.

A backend that cannot be installed or started FAILS the test when CI=true (CI must never pass
by skipping); elsewhere the test is skipped with the reason.  RAGTEL_E2E_REQUIRE=1 makes a
developer's run behave like CI.

Every test under tests/e2e gets the ``e2e`` marker: ``pytest -m "not e2e"`` leaves them out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import BackendError, Collector, Jaeger, Phoenix
from browser import Browser

_HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end test against real tracing backends")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def backends_required() -> bool:
    """True in CI (CI=true) or with RAGTEL_E2E_REQUIRE=1: unavailable backends fail, never skip."""
    truthy = {"1", "true", "yes", "on"}
    return (
        os.environ.get("CI", "").strip().lower() in truthy
        or os.environ.get("RAGTEL_E2E_REQUIRE", "").strip().lower() in truthy
    )


def _unavailable(what: str, err: BaseException) -> None:
    reason = f"{what} unavailable: {type(err).__name__}: {err}"
    if backends_required():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


# A backend that failed once is not retried by every later test of the session.
_failures: dict[str, BaseException] = {}


def _start(name: str, backend):
    if name in _failures:
        _unavailable(name, _failures[name])
    try:
        return backend.start()
    except (BackendError, OSError, TimeoutError) as err:
        _failures[name] = err
    _unavailable(name, _failures[name])  # outside the except: no chained traceback


@pytest.fixture(scope="session")
def jaeger() -> Iterator[Jaeger]:
    backend = _start("jaeger", Jaeger())
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture(scope="session")
def collector(jaeger: Jaeger) -> Iterator[Collector]:
    """A collector whose OTLP exporter forwards to the session's Jaeger."""
    backend = _start("collector", Collector(jaeger))
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture(scope="session")
def phoenix() -> Iterator[Phoenix]:
    backend = _start("phoenix", Phoenix())
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Headless Chromium over WebDriver (tests/e2e/browser.py), one per test."""
    instance = Browser()
    try:
        instance.start()
    except (BackendError, OSError, TimeoutError) as err:
        instance.stop()
        _unavailable("headless chromium", err)
    try:
        yield instance
    finally:
        instance.stop()
