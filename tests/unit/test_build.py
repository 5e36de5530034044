"""The compiled build: the modules setup.py lists are extensions exactly when ragtel says so."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import ragtel

SETUP = Path(__file__).resolve().parents[2] / "setup.py"


def _listed_modules() -> list[str]:
    tree = ast.parse(SETUP.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "COMPILED":
            paths = ast.literal_eval(node.value)
            return [p.removeprefix("src/").removesuffix(".py").replace("/", ".") for p in paths]
    raise AssertionError("setup.py lists no COMPILED modules")


def test_every_listed_module_is_built_the_way_ragtel_reports() -> None:
    modules = _listed_modules()
    assert "ragtel.recording.step" in modules  # what compiled() looks at
    loaded = {
        name: (importlib.import_module(name).__file__ or "").endswith(tuple(EXTENSION_SUFFIXES))
        for name in modules
    }
    # Under `make test`'s second run every one is compiled; from the source tree none is.
    assert set(loaded.values()) == {ragtel.compiled()}, loaded


def test_listed_modules_exist() -> None:
    for name in _listed_modules():
        assert importlib.util.find_spec(name) is not None, name
