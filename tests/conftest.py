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
