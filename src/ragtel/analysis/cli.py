"""``ragtel drift``: offline drift and knowledge-gap analysis of recorded spans.

Exit codes: 0 done; 1 the source could not be read or the options are invalid; 2 drift
crossed ``--fail-above`` in at least one window (for cron or CI alerts; the report is still
written).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from ragtel.analysis._collect import Collector
from ragtel.analysis._knowledge_base import Row, read_knowledge_base
from ragtel.analysis._sources import Progress, SourceError, SpanSource, open_source
from ragtel.analysis.drift import DEFAULT_DRIFT_AUTO_FACTOR, NS, analyze
from ragtel.analysis.gaps import GapParams
from ragtel.analysis.report import write_report
from ragtel.monitor._baseline import load_baseline_file

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2

_UNITS = {"ms": 1e-3, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> int:
    """``90s``, ``15m``, ``6h``, ``7d``, ``2w`` (or combinations like ``1h30m``) -> nanoseconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d|w)", text.strip().lower())
    if not parts or "".join(f"{n}{u}" for n, u in parts) != re.sub(r"\s+", "", text.lower()):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 30m, 6h, 7d)")
    return int(sum(float(n) * _UNITS[u] for n, u in parts) * NS)


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def add_drift_parser(subparsers: Any) -> None:
    """Register ``drift`` on an argparse subparsers object (sets ``func=run_drift``)."""
    parser = subparsers.add_parser(
        "drift",
        help="drift and knowledge-gap report from recorded spans",
        description=(
            "Read query and context embeddings from spans (an OTLP JSON-lines file, "
            "jaeger+http://HOST:16686 or phoenix+http://HOST:6006), measure query drift per "
            "time window and find groups of queries the knowledge base does not cover. Writes "
            "report.html, PNG plots and summary.json. Exit status 2 when --fail-above is crossed."
        ),
    )
    parser.add_argument("source", metavar="SOURCE",
                        help="OTLP JSON-lines file (.jsonl[.gz]), jaeger+http://... or "
                             "phoenix+http://...")  # fmt: skip
    parser.add_argument("--service", help="service name (Jaeger: required; Phoenix: project)")
    parser.add_argument(
        "--since",
        type=parse_duration,
        metavar="DURATION",
        help="only spans started within this duration before now (e.g. 7d)",
    )
    parser.add_argument("--out", default="ragtel-report", metavar="DIR",
                        help="output directory (default: ragtel-report)")  # fmt: skip
    parser.add_argument("--fail-above", type=_positive_float, metavar="X",
                        help="exit with status 2 when any window's drift exceeds X "
                             "(also used as the plotted threshold)")  # fmt: skip
    parser.add_argument("--threshold", type=_positive_float, metavar="X",
                        help="drift threshold to plot and flag (default: auto from the "
                             "reference's own noise)")  # fmt: skip
    parser.add_argument("--auto-factor", type=_positive_float, default=DEFAULT_DRIFT_AUTO_FACTOR,
                        help="auto threshold = factor x expected no-drift noise "
                             f"(default {DEFAULT_DRIFT_AUTO_FACTOR:g})")  # fmt: skip
    parser.add_argument(
        "--window",
        type=parse_duration,
        metavar="DURATION",
        help="time window width (default: a round width giving ~20 windows)",
    )
    parser.add_argument(
        "--reference-windows",
        type=int,
        default=1,
        metavar="N",
        help="number of first windows forming the reference (default 1)",
    )
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="reference from a baseline file saved by the in-process monitor",
    )
    parser.add_argument(
        "--knowledge-base",
        metavar="PATH",
        help="the knowledge base's document vectors: .npy (vectors), .jsonl or .parquet (id, "
        "text, vector; parquet needs ragtel[parquet]), a LangChain InMemoryVectorStore dump "
        "(.json), the directory of a Chroma or local Qdrant store (needs chromadb / "
        "qdrant-client) or of a persisted LlamaIndex index, or a Chroma server's URL "
        "(http://HOST:PORT). Read a second time when larger than --sample-size, so that "
        "coverage counts every document. Replaces the document vectors found in "
        "the spans (default: the index builds in the spans, else the sample the in-process "
        "monitor exported)",
    )
    parser.add_argument(
        "--knowledge-base-collection",
        metavar="NAME",
        help="the collection to read when the --knowledge-base store holds several",
    )
    parser.add_argument(
        "--sample-size",
        type=int,
        default=10_000,
        metavar="N",
        help="queries and documents kept for gap analysis (default 10000)",
    )
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="always show the progress bar (default: when stderr is a tty)",
    )
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    parser.set_defaults(func=run_drift)


def run_drift(args: argparse.Namespace) -> int:
    """Run the analysis described by parsed ``args``; return the exit code."""
    since_ns = time.time_ns() - args.since if args.since else None
    try:
        baseline = load_baseline_file(args.baseline) if args.baseline else None
    except (OSError, ValueError, KeyError) as exc:
        print(f"ragtel drift: cannot read baseline {args.baseline}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    show = sys.stderr.isatty() if args.progress is None else args.progress
    collector = Collector(service=args.service, since_ns=since_ns, sample_size=args.sample_size,
                          seed=args.seed)  # fmt: skip
    progress = Progress(show)
    try:
        if args.knowledge_base_collection and not args.knowledge_base:
            raise SourceError("--knowledge-base-collection needs --knowledge-base DIRECTORY or URL")
        reread = None
        if args.knowledge_base:
            # Read again after the spans when it outgrows the sample: coverage against it all.
            reread = partial(
                read_knowledge_base, args.knowledge_base, args.knowledge_base_collection
            )
            rows = reread()
            kind = "file" if Path(args.knowledge_base).is_file() else "store"
            collector.use_knowledge_base(rows, f"{kind} {args.knowledge_base}")
    except (SourceError, ValueError, OSError) as exc:
        print(f"ragtel drift: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        source = open_source(args.source, args.service, since_ns)
        for span in source.spans(progress):
            collector.add(span)
    except SourceError as exc:
        progress.close(collector.spans)
        print(f"ragtel drift: {exc}", file=sys.stderr)
        return EXIT_ERROR
    progress.close(collector.spans)
    if reread is None and collector.documents.seen:
        # Index builds in the traces: read the source again for coverage against them all.
        reread = partial(_documents_again, collector, source)

    threshold = args.fail_above if args.fail_above is not None else args.threshold
    analysis = analyze(
        collector,
        window_ns=args.window,
        reference_windows=args.reference_windows,
        baseline=baseline,
        threshold=threshold,
        auto_factor=args.auto_factor,
        gap_params=GapParams(),
        knowledge_base_rows=reread,
    )
    plotted = write_report(analysis, args.out, args.source)
    counts = analysis.counts
    top = "n/a" if analysis.max_drift is None else f"{analysis.max_drift:.4f}"
    print(f"{counts['spans']:,} spans, {counts['queries']:,} queries, "
          f"{counts['documents']:,} context vectors, {len(analysis.gaps)} gap cluster(s); "
          f"max drift {top}")  # fmt: skip
    for gap in analysis.gaps[:3]:
        about = f"about {gap.name()!r}, " if gap.terms else ""
        print(f"  gap {gap.rank}: {about}{gap.queries} queries, share {gap.query_share:.2f}, "
              f"e.g. {gap.labels(1)[0]!r}")  # fmt: skip
    print(f"report: {args.out}/report.html" + ("" if plotted else
          " (no plots: install ragtel[report] for matplotlib)"))  # fmt: skip
    if args.fail_above is not None and analysis.crossed:
        print(f"drift crossed {args.fail_above:g}: exit status {EXIT_DRIFT}", file=sys.stderr)
        return EXIT_DRIFT
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m ragtel.analysis.cli``)."""
    parser = argparse.ArgumentParser(prog="ragtel")
    add_drift_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def _documents_again(collector: Collector, source: SpanSource) -> Iterator[Row]:
    """The document vectors of ``source``'s spans, read a second time."""
    return collector.document_rows(source.spans(Progress(False)))


if __name__ == "__main__":
    raise SystemExit(main())
