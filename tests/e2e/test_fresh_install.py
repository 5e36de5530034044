"""The README's first command as a newcomer runs it: fresh venv, `pip install -e .`, demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pip_install_and_demo_in_a_fresh_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RAGTEL_"))}
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "-e", str(ROOT)],
        check=True,
        env=env,
        timeout=900,
    )
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [str(venv / "bin" / "ragtel"), "demo"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "retrieval InMemoryVectorStore [RETRIEVER]" in result.stdout
    assert "spans exported to ragtel-traces.jsonl" in result.stdout
    lines = (work / "ragtel-traces.jsonl").read_text().splitlines()
    spans = [
        span
        for line in lines
        for rs in json.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]
    kinds = {
        a["value"]["stringValue"]
        for s in spans
        for a in s["attributes"]
        if a["key"] == "openinference.span.kind"
    }
    assert kinds >= {"CHAIN", "RETRIEVER", "EMBEDDING", "PROMPT", "LLM"}
    assert len({s["traceId"] for s in spans}) >= 5
