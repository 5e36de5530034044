"""Which build of ragtel is running: pure Python, or the compiled recording hot path."""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES


def compiled() -> bool:
    """True when the recording hot path runs as C extensions (built with ``RAGTEL_MYPYC=1``, see
    setup.py); False for a pure-Python install (editable or source installs by default)."""
    from ragtel.recording import step

    return (step.__file__ or "").endswith(tuple(EXTENSION_SUFFIXES))
