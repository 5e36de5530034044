"""The optional compiled build: ``RAGTEL_MYPYC=1`` compiles the recording hot path with mypyc.

Everything else about the package is in pyproject.toml. Without the variable (editable installs,
source installs) ragtel is pure Python; with it (``RAGTEL_MYPYC=1 pip install .``, which fetches
mypy into the isolated build environment), the modules below are compiled to C extensions from
the same typed source: on the LangChain demo chain ragtel's added cost falls from 2.93 M to
2.46 M instructions per invoke (``bench/bench_overhead.py --repeat 3 --ragtel-from
build/compiled``, medians).
Release wheels are built this way (``make dist``: scripts/release/build_dist.sh for Linux x86-64;
cibuildwheel with pyproject's ``[tool.cibuildwheel]`` elsewhere). A compiled class cannot be
subclassed or patched from Python (tests that inject failures that way run on the pure build only).

mypyc enforces the declared types at run time, so only modules whose inputs are ragtel's own
records, or whose framework-facing parameters are typed as loosely as the frameworks pass them,
belong in the list. The LangChain handler is in it; the LlamaIndex adapter and the monitor are
not (their cost is met without it, and they keep Python's dynamism).
"""

from __future__ import annotations

import os
import sys
import tomllib

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


# What compiles it, installed into the build environment only when the compiled build is asked for.
MYPYC = "mypy>=1.11,<2"
# mypyc type-checks the compiled modules against the libraries they call, so those libraries (the
# package's own dependencies, same ranges) must be in the build environment as well.
with open("pyproject.toml", "rb") as _file:
    DEPENDENCIES: list[str] = tomllib.load(_file)["project"]["dependencies"]
WANTED = os.environ.get("RAGTEL_MYPYC", "") in ("1", "true", "yes")
_BUILDING = ("bdist_wheel", "build_ext", "build", "install", "develop", "editable_wheel")


def _extensions() -> list[object]:
    if not WANTED:
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        # A build frontend first asks for the build's requirements (``setup_requires`` below):
        # then mypyc may be missing. When building, it must be there; a pure build instead of
        # the compiled one asked for would pass unnoticed.
        if any(command in sys.argv for command in _BUILDING):
            sys.exit(
                f"RAGTEL_MYPYC=1 compiles ragtel with mypyc, which this build environment lacks: "
                f"build with isolation (pip install ., python -m build) or pip install '{MYPYC}'"
            )
        return []
    return list(mypycify(COMPILED, opt_level="3"))


setup(
    ext_modules=_extensions(),
    # Read by setuptools.build_meta when pip or build ask what the build needs: mypyc and the
    # dependencies only when the compiled build is asked for (RAGTEL_MYPYC=1 pip install . then
    # works as it reads, in an isolated build environment that holds nothing else).
    setup_requires=[MYPYC, *DEPENDENCIES] if WANTED else [],
)
