"""The optional compiled build: ``RAGTEL_MYPYC=1`` compiles the recording hot path with mypyc.

Everything else about the package is in pyproject.toml. Without the variable (editable installs,
source installs) ragtel is pure Python; with it, the modules below are compiled to C extensions
from the same typed source: on the LangChain demo chain ragtel's added cost falls from 3.02 M to
about 2.62 M instructions per invoke (``bench/bench_overhead.py --ragtel-from build/compiled``).
Release wheels are meant to be built this way. A compiled class cannot be subclassed or patched
from Python (tests that inject failures that way run on the pure build only).

mypyc enforces the declared types at run time, so only modules whose inputs are ragtel's own
records, or whose framework-facing parameters are typed as loosely as the frameworks pass them,
belong in the list. The LangChain handler is in it; the LlamaIndex adapter and the monitor are
not (their cost is met without it, and they keep Python's dynamism).
"""

from __future__ import annotations

import os

from setuptools import setup

COMPILED = [
    "src/ragtel/_sdk.py",
    "src/ragtel/integrations/langchain/handler.py",
    "src/ragtel/integrations/langchain/translate.py",
    "src/ragtel/recording/budget.py",
    "src/ragtel/recording/current.py",
    "src/ragtel/recording/encode.py",
    "src/ragtel/recording/recorder.py",
    "src/ragtel/recording/records.py",
    "src/ragtel/recording/runs.py",
    "src/ragtel/recording/secrets.py",
    "src/ragtel/recording/session.py",
    "src/ragtel/recording/step.py",
    "src/ragtel/recording/text.py",
    "src/ragtel/recording/attributes/agent.py",
    "src/ragtel/recording/attributes/chain.py",
    "src/ragtel/recording/attributes/embedding.py",
    "src/ragtel/recording/attributes/generation.py",
    "src/ragtel/recording/attributes/io.py",
    "src/ragtel/recording/attributes/monitor.py",
    "src/ragtel/recording/attributes/prompt.py",
    "src/ragtel/recording/attributes/retrieval.py",
    "src/ragtel/recording/attributes/run_context.py",
    "src/ragtel/recording/attributes/server.py",
    "src/ragtel/recording/attributes/tool.py",
]


def _extensions() -> list[object]:
    if os.environ.get("RAGTEL_MYPYC", "") not in ("1", "true", "yes"):
        return []
    from mypyc.build import mypycify  # build-time only: `pip install mypy` (the dev extra has it)

    return list(mypycify(COMPILED, opt_level="3"))


setup(ext_modules=_extensions())
