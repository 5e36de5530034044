"""Fixtures for end-to-end tests against real backends (see tests/e2e/backends.py).

Session-scoped fixtures ``jaeger``, ``collector`` (forwarding to ``jaeger``) and ``phoenix``
start each backend once per test session on free 127.0.0.1 ports.

A backend that cannot be installed or started FAILS the test when CI=true (CI must never pass
by skipping); elsewhere the test is skipped with the reason.  RAGTEL_E2E_REQUIRE=1 makes a
developer's run behave like CI.

Every test under tests/e2e gets the ``e2e`` marker: ``pytest -m "not e2e"`` leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from availability import start, unavailable
from backends import BackendError, Collector, Jaeger, Phoenix
from browser import Browser

_HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end test against real tracing backends")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def jaeger() -> Iterator[Jaeger]:
    backend = start("jaeger", Jaeger())
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture(scope="session")
def collector(jaeger: Jaeger) -> Iterator[Collector]:
    """A collector whose OTLP exporter forwards to the session's Jaeger."""
    backend = start("collector", Collector(jaeger))
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture(scope="session")
def phoenix() -> Iterator[Phoenix]:
    backend = start("phoenix", Phoenix())
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
        unavailable("headless chromium", err)
    try:
        yield instance
    finally:
        instance.stop()
