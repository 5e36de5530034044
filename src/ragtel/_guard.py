"""Telemetry never raises into the host: every hook body runs behind ``guarded``, or, in the
framework handlers' hooks (called several times per step), inside the same ``try``/``report``
written out: a wrapper around each costs a frame and a re-packing of the framework's keyword
arguments on every call."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from ragtel import _stats

_log = logging.getLogger("ragtel")
_seen: set[tuple[str, type[BaseException]]] = set()
_seen_lock = threading.Lock()

P = ParamSpec("P")
R = TypeVar("R")


def report(where: str, error: BaseException) -> None:
    """Count an internal error and log it the first time this kind happens at this place."""
    _stats.add("internal_errors")
    key = (where, type(error))
    with _seen_lock:
        first = key not in _seen
        _seen.add(key)
    if first:
        _log.warning(
            "ragtel: internal error in %s (further ones are only counted)", where, exc_info=error
        )


def guarded(fn: Callable[P, R]) -> Callable[P, R | None]:
    """Run ``fn``; on any exception report it and return None instead of raising."""
    where = fn.__qualname__

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return fn(*args, **kwargs)
        except Exception as error:
            report(where, error)
            return None

    return wrapper


def call_quietly(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as error:
        report(getattr(fn, "__qualname__", "callback"), error)
        return None
