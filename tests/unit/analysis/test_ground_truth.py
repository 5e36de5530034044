"""The issue's ground truth: a corpus of 6 topics, 2,000 queries, after query 1,000 30% of them
from a topic the corpus lacks (384-d synthetic vectors shaped like MiniLM's; see
tests.synthetic), read back by ``ragtel drift`` from an OTLP file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtel.analysis.cli import EXIT_DRIFT, EXIT_OK, main
from tests.synthetic import make_stream, write_otlp_jsonl

SEEDS = (0, 1, 2)


def _run(tmp_path: Path, seed: int, *extra: str, texts: bool = True):
    stream = make_stream(seed=seed)
    source = tmp_path / "spans.jsonl"
    trace_ids = write_otlp_jsonl(stream, str(source), texts=texts, seed=seed)
    out = tmp_path / "report"
    code = main(["drift", str(source), "--out", str(out), "--no-progress", *extra])
    summary = json.loads((out / "summary.json").read_text())
    return stream, trace_ids, code, summary, out


@pytest.mark.parametrize("seed", SEEDS)
def test_offline_top_gap_holds_the_missing_topic(tmp_path: Path, seed: int) -> None:
    stream, trace_ids, code, summary, out = _run(tmp_path, seed)
    assert code == EXIT_OK
    assert summary["counts"]["queries"] == 2000
    top = summary["gaps"][0]
    off_traces = {t for t, off in zip(trace_ids, stream.off_topic, strict=True) if off}
    hits = sum(t in off_traces for t in top["trace_ids"])
    recall, precision = hits / len(off_traces), hits / len(top["trace_ids"])
    assert recall >= 0.9 and precision >= 0.9, (recall, precision)
    # One gap per missing topic: no other reported group made mostly of on-topic questions.
    for other in summary["gaps"][1:]:
        assert sum(t in off_traces for t in other["trace_ids"]) / len(other["trace_ids"]) >= 0.5
    # Feedback in the same traces is attached to the gap.
    assert top["feedback"]["negative"] > 0.8 * top["feedback"]["count"]
    assert "off-topic" in top["queries_text"][0]
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "<script" not in html and "http" not in html
    for name in ("map.png", "drift.png", "distances.png"):
        assert (out / name).stat().st_size > 10_000
    assert summary["crossed"], "the offline drift should also cross its auto threshold"
    first = [w for w in summary["windows"] if w["drift"] is not None][:4]
    assert all(w["drift"] < w["threshold"] for w in first), "no offline false alarm before"


def test_fail_above_exit_code_and_trace_ids_without_text(tmp_path: Path) -> None:
    _, trace_ids, code, summary, _ = _run(tmp_path, 0, "--fail-above", "0.05", texts=False)
    assert code == EXIT_DRIFT
    assert summary["threshold"] == 0.05
    labels = summary["gaps"][0]["queries_text"]
    assert labels[0].startswith("trace ") and labels[0][6:] in set(trace_ids)
    _, _, code, _, _ = _run(tmp_path, 0, "--fail-above", "5")
    assert code == EXIT_OK


def test_no_missing_topic_reports_no_gap(tmp_path: Path) -> None:
    from ragtel.analysis.gaps import find_gaps

    for seed in range(5):
        stream = make_stream(seed=seed, off_topic_share=0.0)
        found = find_gaps(stream.queries, stream.documents)
        assert found.clusters == [], f"seed {seed}: {[len(c.queries) for c in found.clusters]}"
        # Scattered vague questions are never what the method reports.
        assert not any(stream.vague[c.queries].mean() > 0.5 for c in found.clusters)
