"""The layers hold: adapters know their framework and nothing of OpenTelemetry, one table names
the frameworks, and the offline analysis sits on top of the in-process monitor, never under it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import ragtel
from ragtel.integrations import ADAPTERS

SRC = Path(ragtel.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_integrations_import_no_opentelemetry() -> None:
    files = sorted((SRC / "integrations").rglob("*.py"))
    assert len(files) > 5
    offenders = {
        str(f.relative_to(SRC)): sorted(n for n in _imports(f) if n.startswith("opentelemetry"))
        for f in files
    }
    assert {f: n for f, n in offenders.items() if n} == {}


def test_recording_knows_no_framework() -> None:
    for path in sorted((SRC / "recording").rglob("*.py")):
        frameworks = {n for n in _imports(path) if n.startswith(("langchain", "llama_index"))}
        assert not frameworks, path
        assert "page_content" not in path.read_text(encoding="utf-8"), path


def test_instrument_names_no_framework() -> None:
    tree = ast.parse((SRC / "instrument.py").read_text(encoding="utf-8"))
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    code_strings = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]
    named = [s for s in [*code_strings, *_imports(SRC / "instrument.py")] if "lang" in s.lower()]
    assert named == []
    assert not [s for s in code_strings if "llama" in s.lower()]
    for adapter in ADAPTERS:
        module = importlib.import_module(adapter.module)
        assert callable(module.instrument) and callable(module.uninstrument), adapter.name


def test_sdk_private_fields_are_touched_in_one_file() -> None:
    touching = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        private = [
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr
            in {"_span_limits", "_attributes", "_end_time", "_batch_processor", "_queue"}
        ]
        if private or "_RUNTIME_CONTEXT" in path.read_text(encoding="utf-8"):
            touching.append(path.relative_to(SRC).as_posix())
    assert touching == ["_sdk.py"]


def test_monitor_knows_nothing_of_the_offline_analysis() -> None:
    """The in-process monitor runs inside the user's pipeline; the analysis (report, sources,
    clustering) must never be imported by it, nor by anything the pipeline loads."""
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative.startswith("analysis/") or relative == "cli.py":
            continue
        offline = [
            n for n in _imports(path) if n == "ragtel.analysis" or n.startswith("ragtel.analysis.")
        ]
        assert offline == [], relative


def test_test_generators_are_not_shipped() -> None:
    shipped = [p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py")]
    assert not [p for p in shipped if "synthetic" in p]
