"""Without matplotlib the report still has its HTML and JSON, and says why plots are missing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
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


def test_each_gap_lists_every_query_its_feedback_and_the_nearest_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # the tables are what is checked
    stream = make_stream(seed=0)
    source = tmp_path / "spans.jsonl"
    trace_ids = write_otlp_jsonl(stream, str(source), documents=False, seed=0)
    kb = tmp_path / "kb.jsonl"
    with kb.open("w") as out:
        for i, row in enumerate(stream.documents):
            topic = int(stream.document_topics[i])
            line = {"id": f"doc-{i}", "text": f"about topic {topic}", "vector": row.tolist()}
            out.write(json.dumps(line) + "\n")
    out_dir = tmp_path / "out"
    assert main(["drift", str(source), "--out", str(out_dir), "--no-progress",
                 "--knowledge-base", str(kb)]) == EXIT_OK  # fmt: skip
    summary = json.loads((out_dir / "summary.json").read_text())
    html = (out_dir / "report.html").read_text()
    texts = dict(zip(trace_ids, (f"question {q} (" for q in range(len(trace_ids))), strict=True))
    gap = summary["gaps"][0]
    assert len(gap["members"]) == gap["queries"] == len(gap["trace_ids"])
    judged = 0
    for member in gap["members"]:
        assert member["text"].startswith(texts[member["trace_id"]])
        assert member["text"] in html and member["trace_id"] in html
        judged += bool(member["feedback"])
        for record in member["feedback"]:
            assert record["label"] in {"thumbs_up", "thumbs_down"} and record["score"] in {0, 1}
    assert judged == gap["feedback"]["count"]  # one record per judged trace in this stream
    # Named by what sets its questions apart: the synthetic texts say "off-topic" there.
    assert gap["terms"][0]["term"] == "off-topic", gap["terms"]
    for term in gap["terms"]:
        assert f"<b>{term['term']}</b>" in html
        assert term["knowledge_base_documents"] is not None  # the file gave document texts
    assert f"Gap 1 ({', '.join(t['term'] for t in gap['terms'])})" in html
    nearest = gap["nearest_documents"]
    assert len(nearest) == 5
    assert [n["similarity"] for n in nearest] == sorted((n["similarity"] for n in nearest),
                                                        reverse=True)  # fmt: skip
    # The documents most similar to the centre of the gap's questions, computed here afresh.
    rows = [trace_ids.index(m["trace_id"]) for m in gap["members"]]
    unit = stream.queries[rows] / np.linalg.norm(stream.queries[rows], axis=1, keepdims=True)
    centre = unit.mean(axis=0)
    docs = stream.documents / np.linalg.norm(stream.documents, axis=1, keepdims=True)
    expected = np.argsort(-(docs @ centre))[:5]
    assert [n["id"] for n in nearest] == [f"doc-{i}" for i in expected]
    for n in nearest:
        assert n["id"].startswith("doc-") and f"<td>{n['id']}</td>" in html


def test_map_legend_names_gaps_with_what_its_font_can_draw() -> None:
    from ragtel.analysis.drift import GapReport
    from ragtel.analysis.gap_terms import GapTerm
    from ragtel.analysis.report import _plot_name

    def gap(*terms: str) -> GapReport:
        return GapReport(rank=1, query_share=1.0, queries=10, documents=0, coverage=0.0,
                         members=[], terms=[GapTerm(t, 5, 0, 0, 3.0) for t in terms])  # fmt: skip

    assert _plot_name(gap("tls", "加密", "smtp", "ssl", "port")) == ": tls, smtp, ssl"
    assert _plot_name(gap("加密", "开启")) == ""  # no CJK glyphs in matplotlib's font
    assert _plot_name(gap("écrire", "файл")) == ": écrire, файл"
    assert _plot_name(gap()) == ""


def test_term_document_counts_say_how_many_documents_were_read() -> None:
    from ragtel.analysis.drift import GapReport
    from ragtel.analysis.gap_terms import GapTerm
    from ragtel.analysis.report import _gap_terms

    terms = [GapTerm("quota", 9, 0, 0, 4.0), GapTerm("mailbox", 7, 1, 3, 3.0),
             GapTerm("<b>", 2, 0, None, 1.0)]  # fmt: skip
    gap = GapReport(rank=1, query_share=1.0, queries=10, documents=0, coverage=0.0, members=[],
                    terms=terms)  # fmt: skip
    whole = _gap_terms(gap, read=None)
    assert "<b>quota</b> <small>(9 of its queries, in no document)</small>" in whole
    assert "(7 of its queries, 3 document(s))" in whole
    assert "<b>&lt;b&gt;</b> <small>(2 of its queries)</small>" in whole  # escaped; no texts
    # A sample of the knowledge base, or documents recorded without their text.
    part = _gap_terms(gap, read=10_000)
    assert "(9 of its queries, in none of the 10,000 documents read)" in part
    assert "(7 of its queries, in 3 of the 10,000 documents read)" in part
