"""When a real backend cannot be installed or started: fail in CI, skip elsewhere.

Shared by the conftests of every suite that runs against real backends (tests/e2e,
tests/faults), so that the policy is one piece of code.
"""

from __future__ import annotations

import os
from typing import TypeVar

import pytest
from backends import BackendError

B = TypeVar("B")


def backends_required() -> bool:
    """True in CI (CI=true) or with RAGTEL_E2E_REQUIRE=1: unavailable backends fail, never skip."""
    truthy = {"1", "true", "yes", "on"}
    return (
        os.environ.get("CI", "").strip().lower() in truthy
        or os.environ.get("RAGTEL_E2E_REQUIRE", "").strip().lower() in truthy
    )


def unavailable(what: str, err: BaseException) -> None:
    """Fail (CI, RAGTEL_E2E_REQUIRE=1) or skip the calling test: ``what`` cannot run."""
    reason = f"{what} unavailable: {type(err).__name__}: {err}"
    if backends_required():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


# A backend that failed once is not retried by every later test of the session.
_failures: dict[str, BaseException] = {}


def start(name: str, backend: B) -> B:
    """``backend.start()``; an install or start failure fails or skips the calling test."""
    if name in _failures:
        unavailable(name, _failures[name])
    try:
        return backend.start()  # type: ignore[attr-defined,no-any-return]
    except (BackendError, OSError, TimeoutError) as err:
        _failures[name] = err
    unavailable(name, _failures[name])  # outside the except: no chained traceback
    raise AssertionError("unreachable")  # _unavailable always raises
