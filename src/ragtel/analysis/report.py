"""Write the drift analysis: ``report.html`` (self-contained), PNG plots and ``summary.json``.

Plots need matplotlib (the ``ragtel[report]`` extra). Without it the HTML and JSON are still
written, and the HTML says that plots were skipped and how to get them. The HTML references no
external script, stylesheet or font: the PNGs are inlined as base64 data URIs, so the file opens
offline and can be mailed or attached to a ticket as is.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ragtel.analysis.drift import NS, DriftAnalysis, GapReport, summary_json

EXAMPLES_IN_TABLE = 5
MAP_POINTS = 5000  # points drawn per class in the map; more adds ink, not information


def _time(ns: int, window_ns: int = 60 * NS) -> str:
    """A window's start, to the precision its width needs (seconds for sub-minute windows)."""
    moment = datetime.fromtimestamp(ns / NS, tz=UTC)
    if window_ns >= 60 * NS:
        return moment.strftime("%Y-%m-%d %H:%M")
    if window_ns >= NS:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.strftime("%H:%M:%S.%f")[:-3]


def _x_axis(ax: Any, windows: list[Any], analysis: DriftAnalysis) -> list[Any]:
    """Window starts as dates, or as seconds from the first window for a run of seconds."""
    if analysis.window_ns >= 60 * NS:
        return [datetime.fromtimestamp(w.start_ns / NS, tz=UTC) for w in windows]
    first = analysis.windows[0].start_ns
    ax.set_xlabel("seconds since the first window")
    return [(w.start_ns - first) / NS for w in windows]


def _save(plt: Any, fig: Any, path: Path, *, dated: bool = False) -> Path:
    if dated:  # slant date labels; after plotting, when the tick labels exist
        fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# The map's legend names a gap by its first terms. Matplotlib's bundled font has Latin, Greek
# and Cyrillic but no CJK glyphs; other terms stay in the table below the map, which the browser
# renders with any font.
PLOT_TERMS = 3
_PLOTTABLE = re.compile("[\u0000-\u052f]+")


def _plot_name(gap: GapReport) -> str:
    terms = [t.term for t in gap.terms if _PLOTTABLE.fullmatch(t.term)][:PLOT_TERMS]
    return f": {', '.join(terms)}" if terms else ""


def _plots(analysis: DriftAnalysis, out: Path) -> dict[str, Path]:
    """Render the PNGs; empty when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display here, and no GUI toolkit should be needed
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    files: dict[str, Path] = {}
    gap = analysis.gap_analysis

    # 1. Map of queries and context, gap clusters marked.
    fig, ax = plt.subplots(figsize=(7.5, 6), dpi=110)
    if gap is not None and len(gap.query_xy):
        rng = np.random.default_rng(0)
        dxy, qxy = gap.document_xy, gap.query_xy
        d_idx = rng.permutation(len(dxy))[:MAP_POINTS]
        q_idx = rng.permutation(len(qxy))[:MAP_POINTS]
        ax.scatter(dxy[d_idx, 0], dxy[d_idx, 1], s=10, c="#8fa8c8", marker="s", alpha=0.6,
                   label="context (documents)", linewidths=0)  # fmt: skip
        ax.scatter(qxy[q_idx, 0], qxy[q_idx, 1], s=8, c="#b0b0b0", alpha=0.7, label="queries",
                   linewidths=0)  # fmt: skip
        colours = plt.get_cmap("tab10")
        for i, cluster in enumerate(gap.clusters[:10]):
            pts = qxy[cluster.queries]
            about = _plot_name(analysis.gaps[i]) if i < len(analysis.gaps) else ""
            ax.scatter(pts[:, 0], pts[:, 1], s=16, color=colours(i % 10),
                       label=f"gap {i + 1}{about} ({len(pts)} queries)", linewidths=0)  # fmt: skip
            cx, cy = pts.mean(axis=0)
            ax.annotate(f"gap {i + 1}", (cx, cy), fontsize=10, weight="bold",
                        color=colours(i % 10))  # fmt: skip
        ax.legend(loc="best", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no query and context embeddings to map", ha="center",
                transform=ax.transAxes)  # fmt: skip
    ax.set_title("Queries and context (2-D projection of the joint principal axes)")
    ax.set_xticks([])
    ax.set_yticks([])
    files["map"] = _save(plt, fig, out / "map.png")

    # 2. Drift per window with the threshold.
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=110)
    windows = [w for w in analysis.windows if w.drift is not None]
    if windows:
        x = _x_axis(ax, windows, analysis)
        ax.plot(x, [w.drift for w in windows], marker="o", color="#1f5fa8", label="drift")
        limits = [w.threshold for w in windows]
        if any(v is not None for v in limits):
            ax.step(x, [np.nan if v is None else v for v in limits], where="mid",
                    color="#c0392b", linestyle="--", label="threshold")  # fmt: skip
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "not enough queries per window", ha="center", transform=ax.transAxes)
    ax.set_ylabel("centroid distance to reference")
    ax.set_title("Query drift per window")
    files["drift"] = _save(plt, fig, out / "drift.png", dated=analysis.window_ns >= 60 * NS)

    # 3. Distribution of query-to-context distances, per window (median and 10-90% band).
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=110)
    rows = [w for w in analysis.windows if w.nearest_cosine is not None]
    if rows:
        x = _x_axis(ax, rows, analysis)
        lo = [w.nearest_cosine[0] for w in rows if w.nearest_cosine]
        mid = [w.nearest_cosine[1] for w in rows if w.nearest_cosine]
        hi = [w.nearest_cosine[2] for w in rows if w.nearest_cosine]
        ax.fill_between(x, lo, hi, color="#f0b27a", alpha=0.5, label="10-90%")
        ax.plot(x, mid, color="#d35400", marker="o", label="median")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no context vectors to measure against", ha="center",
                transform=ax.transAxes)  # fmt: skip
    ax.set_ylabel("cosine distance to nearest context")
    ax.set_title("Query-to-context distance per window")
    files["distances"] = _save(plt, fig, out / "distances.png", dated=analysis.window_ns >= 60 * NS)
    return files


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;
max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.alert{color:#b03a2e;font-weight:bold}.ok{color:#1e8449}
.grid{display:flex;flex-wrap:wrap;gap:16px}.grid img{max-width:100%;border:1px solid #ddd}
.note{background:#fff7e0;border:1px solid #f0c36d;padding:8px}
"""


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _gap_terms(gap: GapReport, read: int | None) -> str:
    """The gap's terms, each with how many of its queries use it and, when the knowledge base's
    texts are known, how many documents do: a term no document uses is the missing topic.
    ``read``: how many documents' texts were read, when that is fewer than the knowledge base
    seen (a sample, or documents without text); the counts then say so."""
    e = html.escape
    if not gap.terms:
        return "—"
    shown = []
    for t in gap.terms:
        where = f"{t.queries} of its queries"
        if t.documents is not None and read is not None:
            where += f", in {t.documents or 'none'} of the {read:,} documents read"
        elif t.documents is not None:
            where += ", in no document" if t.documents == 0 else f", {t.documents} document(s)"
        shown.append(f"<b>{e(t.term)}</b> <small>({where})</small>")
    return "<br>".join(shown)


def _gap_details(gap: GapReport) -> str:
    """Every query of a gap (text, trace id, feedback) and the documents nearest to it, folded."""
    e = html.escape
    rows = []
    for m in gap.members:
        records = gap.member_feedback.get(m.trace_id, [])
        feedback = "; ".join(
            " ".join(
                x
                for x in (f.label, None if f.score is None else f"{f.score:g}", f.explanation)
                if x
            )
            for f in records
        )
        text = "—" if m.text is None else e(m.text)
        rows.append(f"<tr><td>{text}</td><td><code>{e(m.trace_id)}</code></td>"
                    f"<td>{e(feedback) or '—'}</td></tr>")  # fmt: skip
    nearest = "".join(
        f"<tr><td>{e(n.doc_id or '—')}</td><td>{n.similarity:.3f}</td>"
        f"<td>{'—' if n.text is None else e(n.text)}</td></tr>"
        for n in gap.nearest_documents
    )
    return (
        f"<details><summary>Gap {gap.rank}{f' ({e(gap.name())})' if gap.terms else ''}: all "
        f"{gap.queries} queries (share "
        f"{gap.query_share:.2f}) and the nearest documents</summary>"
        "<table><tr><th>question</th><th>trace id</th><th>feedback</th></tr>"
        + "".join(rows)
        + "</table><table><tr><th>nearest document</th><th>cosine similarity</th><th>text</th>"
        f"</tr>{nearest}</table></details>"
    )


def render_html(analysis: DriftAnalysis, plots: dict[str, Path], source: str) -> str:
    """The report page as one string."""
    e = html.escape
    counts = analysis.counts
    status = (
        '<span class="alert">drift crossed the threshold</span>'
        if analysis.crossed
        else '<span class="ok">drift stayed below the threshold</span>'
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>ragtel drift report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>ragtel drift report</h1>",
        f"<p>Source: <code>{e(source)}</code>. {counts.get('spans', 0):,} spans read, "
        f"{counts.get('queries', 0):,} query and {counts.get('documents', 0):,} context "
        f"embeddings, {counts.get('feedback', 0):,} feedback records. Knowledge base: "
        f"{e(analysis.knowledge_base)}"
        f"{f'; query coverage against {e(analysis.coverage)}' if analysis.coverage else ''}. "
        "Window: "
        f"{analysis.window_ns / NS:g} s; reference: {e(analysis.reference)}; threshold: "
        f"{e(analysis.threshold_source)}. Maximum drift: "
        f"{'n/a' if analysis.max_drift is None else f'{analysis.max_drift:.4f}'} — {status}.</p>",
    ]
    if not plots:
        parts.append('<p class="note">Plots skipped: matplotlib is not installed. '
                     "Install <code>ragtel[report]</code> to get them.</p>")  # fmt: skip
    else:
        parts.append("<h2>Queries and context</h2><div class='grid'>")
        parts.append(_img(plots["map"], "map of queries and context"))
        parts.append("</div><h2>Drift and distances over time</h2><div class='grid'>")
        parts.append(_img(plots["drift"], "drift over time"))
        parts.append(_img(plots["distances"], "query-to-context distance"))
        parts.append("</div>")

    parts.append("<h2>Knowledge gaps</h2>")
    if not analysis.gaps:
        parts.append("<p>No group of queries stands out as uncovered by the context.</p>")
    else:
        parts.append(
            "<p>Groups of queries with little or no context near them, largest first; query "
            "share is (queries − documents) / (queries + documents), and <i>about</i> lists the "
            "terms that set a gap's queries apart from the other queries.</p><table><tr><th>#</th>"
            "<th>query share</th><th>queries</th><th>documents</th><th>coverage</th>"
            "<th>feedback</th><th>about</th><th>example questions</th></tr>"
        )
        with_text = counts.get("sampled_documents_with_text", 0)
        read = with_text if with_text < counts.get("documents", 0) else None
        for gap in analysis.gaps:
            fb = gap.feedback
            feedback = (
                "—"
                if fb is None
                else (
                    f"{fb.count} record(s), {fb.negative} negative"
                    + ("" if fb.mean_score is None else f", mean score {fb.mean_score:.2f}")
                )
            )
            examples = "<br>".join(e(t) for t in gap.labels(EXAMPLES_IN_TABLE, distinct=True))
            parts.append(
                f"<tr><td>{gap.rank}</td><td>{gap.query_share:.2f}</td><td>{gap.queries}</td>"
                f"<td>{gap.documents}</td><td>{gap.coverage:.3f}</td><td>{e(feedback)}</td>"
                f"<td>{_gap_terms(gap, read)}</td><td>{examples}</td></tr>"
            )
        parts.append("</table>")
        parts.extend(_gap_details(gap) for gap in analysis.gaps)

    parts.append("<h2>Windows</h2><table><tr><th>start (UTC)</th><th>queries</th><th>drift</th>"
                 "<th>threshold</th><th>nearest-context cosine distance p10 / p50 / p90</th>"
                 "</tr>")  # fmt: skip
    for w in analysis.windows:
        drift = "—" if w.drift is None else f"{w.drift:.4f}"
        limit = "—" if w.threshold is None else f"{w.threshold:.4f}"
        mark = " class='alert'" if w.drift is not None and w.threshold is not None and (
            w.drift > w.threshold) else ""  # fmt: skip
        dist = "—" if w.nearest_cosine is None else " / ".join(f"{v:.3f}" for v in w.nearest_cosine)
        start = _time(w.start_ns, analysis.window_ns)
        parts.append(f"<tr><td>{start}</td><td>{w.queries}</td><td{mark}>{drift}</td>"
                     f"<td>{limit}</td><td>{dist}</td></tr>")  # fmt: skip
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_report(analysis: DriftAnalysis, out_dir: str | os.PathLike[str], source: str) -> bool:
    """Write ``report.html``, the PNGs and ``summary.json`` into ``out_dir``.

    Returns whether plots were drawn (False when matplotlib is missing).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = _plots(analysis, out)
    (out / "report.html").write_text(render_html(analysis, plots, source), encoding="utf-8")
    summary = summary_json(analysis)
    summary["source"] = source
    summary["plots"] = sorted(p.name for p in plots.values())
    (out / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return bool(plots)
