"""Without matplotlib the report still has its HTML and JSON, and says why plots are missing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ragtel.analysis.cli import EXIT_OK, main
from tests.synthetic import make_stream, write_otlp_jsonl


def test_report_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    source = tmp_path / "spans.jsonl"
    write_otlp_jsonl(make_stream(seed=3, queries=400, change_at=200), str(source))
    out = tmp_path / "out"
    assert main(["drift", str(source), "--out", str(out), "--no-progress"]) == EXIT_OK
    html = (out / "report.html").read_text()
    assert "matplotlib is not installed" in html and "<img" not in html
    summary = json.loads((out / "summary.json").read_text())
    assert summary["plots"] == [] and summary["windows"]
    assert not list(out.glob("*.png"))


def test_unreadable_source_exits_1(tmp_path: Path) -> None:
    assert main(["drift", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path)]) == 1
