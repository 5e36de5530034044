"""Fixtures every suite shares.

``ragtel.configure()`` is process-wide by design: every recorder given no config follows the
settings it set, whichever ran first. In one pytest process that would let a test's configure()
decide the settings of the tests that run after it, so each test, and each module (whose fixtures
may configure too), gets back the configuration and the shared embedding monitor it started with.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import ragtel
from ragtel import _active
from ragtel.recording import monitor_hook


@contextmanager
def _configuration_kept() -> Iterator[None]:
    with _active._lock:
        provider, settings = _active._provider, _active._settings
    monitor = monitor_hook._monitor
    try:
        yield
    finally:
        with _active._lock:
            _active._provider, _active._settings = provider, settings
            # Forward, never back: a recorder that refreshed inside refreshes again.
            _active.generation += 1
        monitor_hook.set_monitor(monitor)


@pytest.fixture(autouse=True, scope="module")
def _module_configuration_restored() -> Iterator[None]:
    with _configuration_kept():
        yield


@pytest.fixture(autouse=True)
def _test_configuration_restored() -> Iterator[None]:
    with _configuration_kept():
        yield


def pytest_report_header() -> str:
    build = "compiled (mypyc)" if ragtel.compiled() else "pure Python"
    return f"ragtel {ragtel.__version__}: {build}, from {ragtel.__file__}"


def pytest_sessionstart(session: pytest.Session) -> None:
    # The compiled run (make test) must test the compiled build, not a pure install that
    # happened to come first on the path.
    import os

    if os.environ.get("RAGTEL_EXPECT_COMPILED") == "1" and not ragtel.compiled():
        raise pytest.UsageError(f"RAGTEL_EXPECT_COMPILED=1, but {ragtel.__file__} is pure Python")


needs_patchable_internals = pytest.mark.skipif(
    ragtel.compiled(),
    reason="injects a failure by patching ragtel internals, which compiled modules bind early; "
    "the pure-Python run of the same suite covers it",
)
