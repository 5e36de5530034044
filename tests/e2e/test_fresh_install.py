"""The README's two commands, in order, in a fresh copy of the project (issue: the second one once
found `.venv/bin/ragtel` made by the first and never installed the test tools).

The commands are read from the README, so this test fails when the README drifts from what works.
The whole second command (`make test`) would run this suite again; here its install step is run and
checked, and `.ci/run` runs both commands verbatim in CI's fresh clone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "ci"))

from readme_commands import readme_commands  # noqa: E402


def _fresh_copy(dest: Path) -> None:
    """The files a fresh clone would hold, as they are in this working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "RAGTEL_", "VIRTUAL_ENV", "PYTHONPATH"))
    }
    # The interpreter running the tests may live in a venv; a newcomer's `python3` does not.
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


def _exported_spans(path: Path) -> list[dict]:
    return [
        span
        for line in path.read_text().splitlines()
        for rs in json.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]


def test_readme_commands_in_order_in_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "ragtel"
    _fresh_copy(clone)
    demo_cmd, test_cmd = readme_commands((clone / "README.md").read_text(encoding="utf-8"))
    env = _clean_env()

    demo = subprocess.run(
        ["bash", "-c", demo_cmd],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "retrieval InMemoryVectorStore [RETRIEVER]" in demo.stdout
    spans = _exported_spans(clone / "ragtel-traces.jsonl")
    kinds = {
        a["value"]["stringValue"]
        for s in spans
        for a in s["attributes"]
        if a["key"] == "openinference.span.kind"
    }
    assert kinds >= {"CHAIN", "RETRIEVER", "EMBEDDING", "PROMPT", "LLM"}
    assert len({s["traceId"] for s in spans}) >= 5

    # The second command is `make test`; its install step must now bring the test tools even though
    # the first command already created .venv/bin/ragtel.
    assert test_cmd == "make test"
    install = subprocess.run(
        ["make", "install"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    for tool in ("ruff", "pytest"):
        assert (clone / ".venv" / "bin" / tool).exists(), f"make install left out {tool}"
    # ...and, once done, is not redone.
    again = subprocess.run(["make", "-q", "install"], cwd=clone, env=env, check=False)
    assert again.returncode == 0
