"""The in-process drift alarm on real sentence embeddings: when does it first cross?

    $RAGTEL_CACHE_DIR/gaps/venv/bin/python bench/gaps/drift.py [--seeds 3]
        [--models minilm,bge-small]

Stream per collection, held-out topic and seed (the issue's shape): 2,000 questions drawn with
replacement; the first 1,000 from the covered topics only, after that 30% from the held-out topic.
The knowledge base is every other topic's documents. The monitor runs with its defaults (window
100, baseline 500, auto threshold). Pass: the first crossing is at or after query 1,000 and
before query 1,150. A second stream per collection and seed never changes (control): it must
never cross.

Also printed, the margins of the alarm's statistic (``drift_score``, a normal deviate; the auto
limit is ragtel.monitor._drift.ALARM_Z): its largest value while nothing has changed (before
query 1,000, and the whole unchanged streams) and the smallest over the changed streams of its
peak within 150 queries of the change.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see evaluate.py

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "src"))

from corpora import load_all  # noqa: E402
from evaluate import cache_dir  # noqa: E402
from vectors import MODELS, MODELS_FOR, embed  # noqa: E402

from ragtel.monitor import EmbeddingMonitor, MonitorConfig  # noqa: E402

QUERIES, CHANGE_AT, SHARE, WITHIN = 2000, 1000, 0.3, 150


def first_crossing(
    documents: np.ndarray, stream: np.ndarray, seed: int
) -> tuple[int | None, np.ndarray]:
    """The first query whose result crossed, and every query's drift score (NaN when none)."""
    monitor = EmbeddingMonitor(MonitorConfig(seed=seed))
    monitor.observe_context(documents)
    first = None
    scores = np.full(len(stream), np.nan)
    for i, query in enumerate(stream):
        result = monitor.observe_query(query)
        monitor.wait_for_baseline()  # as if the next query came after the analysis finished
        if result is not None and result.drift_score is not None:
            scores[i] = result.drift_score
        if first is None and result is not None and result.drift_crossed:
            first = i
    return first, scores


def peak(scores: np.ndarray) -> float:
    known = scores[np.isfinite(scores)]
    return float(known.max()) if len(known) else float("nan")


def make_stream(on: np.ndarray, off: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    rows = on[rng.integers(0, len(on), QUERIES)]
    if off is not None:
        after = np.arange(CHANGE_AT, QUERIES)
        switched = after[rng.random(len(after)) < SHARE]
        rows[switched] = off[rng.integers(0, len(off), len(switched))]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--collections", default="", help="comma-separated (default: all)")
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    cache = cache_dir()
    failures = 0
    runs = 0
    chosen = [
        (c, m)
        for c in load_all(cache)
        if not args.collections or c.name in args.collections.split(",")
        for m in MODELS_FOR[c.language]
        if m in args.models.split(",")
    ]
    for collection, model in chosen:
        data = embed(collection, cache, model)
        delays: list[int | None] = []
        quiet: list[float] = []  # largest score while nothing changed, per stream
        alarmed: list[float] = []  # peak score within WITHIN of the change, per changed stream
        false_alarms = 0
        for topic in range(len(collection.topics)):
            held = collection.question_topics == topic
            docs = data.documents[collection.document_topics != topic]
            for seed in range(args.seeds):
                rng = np.random.default_rng(seed)
                stream = make_stream(data.questions[~held], data.questions[held], rng)
                at, scores = first_crossing(docs, stream, seed)
                quiet.append(peak(scores[:CHANGE_AT]))
                alarmed.append(peak(scores[CHANGE_AT : CHANGE_AT + WITHIN]))
                runs += 1
                if at is not None and at < CHANGE_AT:
                    false_alarms += 1
                    delays.append(None)
                else:
                    delays.append(None if at is None else at - CHANGE_AT)
        controls = []
        for seed in range(args.seeds):
            rng = np.random.default_rng(100 + seed)
            at, scores = first_crossing(data.documents, make_stream(data.questions, None, rng),
                                        seed)  # fmt: skip
            controls.append(at)
            quiet.append(peak(scores))
        late = [d for d in delays if d is None or d >= WITHIN]
        failures += len(late) + sum(c is not None for c in controls)
        known = [d for d in delays if d is not None]
        print(
            f"{collection.name:<8} {model:<9} {len(delays)} streams: false alarms before the "
            f"change {false_alarms}, crossed within {WITHIN} {len(delays) - len(late)}, "
            f"delay median {np.median(known) if known else float('nan'):.0f} max "
            f"{max(known) if known else float('nan')}; unchanged streams crossing "
            f"{sum(c is not None for c in controls)} of {len(controls)}; score: largest with no "
            f"change {max(quiet):.2f}, smallest peak within {WITHIN} of the change "
            f"{min(alarmed):.2f}",
            flush=True,
        )
    print(f"{runs} changed streams: {failures} failures")


if __name__ == "__main__":
    main()
