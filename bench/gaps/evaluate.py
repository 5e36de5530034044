"""Knowledge-gap quality on real sentence embeddings: every topic held out in turn.

    bash bench/gaps/setup.sh            # once: bench venv (numpy, tokenizers, MiniLM weights,
                                        # umap-learn, hdbscan, scikit-learn) under the cache
    $RAGTEL_CACHE_DIR/gaps/venv/bin/python bench/gaps/evaluate.py [--methods M] [--collections C]
        [--models minilm,bge-small]

Every English collection is embedded by two models (``vectors.py``): all-MiniLM-L6-v2, the
symmetric sentence-similarity model the method was tuned on, and bge-small-en-v1.5, a
retrieval-trained model of the kind RAG pipelines use, which the method was not tuned on. The
Chinese collection (``zhman``) is embedded by bge-small-zh-v1.5.

For each collection and each topic: the knowledge base is every document except that topic's,
the queries are every question of every topic; the held-out topic's questions are the truth.
Per run, the top-ranked gap is scored by precision (share of its queries that are the held-out
topic's) and recall (share of the held-out topic's queries in it); a run that reports no gap
scores 0 for both. "others" counts reported gaps beyond the first that are mostly covered
queries. The control run keeps every topic in the knowledge base: every gap it reports is false.

Per collection, two figures say how much any method can find, before any method runs:
- coverage AUC: for each held-out topic, the probability that one of its questions has a lower
  coverage (ragtel's per-question score: best hub-discounted match among the documents) than a
  covered question; mean and min over topics. 0.5 is chance, 1.0 a perfect split.
- neighbour purity: the share of each question's 10 nearest questions that ask about its topic.
  A method that groups questions by similarity cannot make a gap purer than its neighbourhoods
  unless coverage separates the rest.
- oracle split: the held-out topic's questions guessed as those whose smoothed coverage (the
  signal ragtel thresholds) is lowest, the cut placed where F1 is best with the answers known;
  precision and recall, mean over topics. No threshold on that signal does better, and a method
  can beat it only by what grouping questions adds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# Multi-threaded OpenBLAS spins for a core that other processes hold: on this shared 2-core
# machine one thread embedded 7x faster than the default (9 s against 68 s for 32 questions).
# The baselines' numba and OpenMP pools likewise.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "src"))

from corpora import load_all  # noqa: E402
from methods import METHODS, TAKES_WHOLE  # noqa: E402
from vectors import MODELS, MODELS_FOR, Embedded, embed  # noqa: E402


def cache_dir() -> Path:
    base = os.environ.get("RAGTEL_CACHE_DIR") or str(Path.home() / ".cache" / "ragtel")
    return Path(base) / "gaps"


@dataclass
class Score:
    precision: float
    recall: float
    others: int


def score_run(gaps: list[np.ndarray], truth: np.ndarray) -> Score:
    if not gaps:
        return Score(0.0, 0.0, 0)
    top = gaps[0]
    hits = int(truth[top].sum())
    others = sum(1 for g in gaps[1:] if truth[g].mean() < 0.5)
    return Score(hits / len(top), hits / int(truth.sum()), others)


@dataclass
class Row:
    collection: str
    model: str
    method: str
    precision: float
    recall: float
    min_precision: float
    min_recall: float
    found: int
    topics: int
    others: int
    control_gaps: int
    seconds: float


def sampled(keep: np.ndarray, share: float, seed: int) -> np.ndarray:
    """``keep`` with only a uniform ``share`` of its documents left: the sample an in-process
    monitor exports of a knowledge base larger than its sample size."""
    if share >= 1.0:
        return keep
    kept = np.flatnonzero(keep)
    chosen = np.random.default_rng(seed).choice(
        kept, size=max(1, round(share * len(kept))), replace=False
    )
    mask = np.zeros_like(keep)
    mask[chosen] = True
    return mask


def evaluate(data: Embedded, name: str, verbose: bool, share: float = 1.0) -> Row:
    method = METHODS[name]
    c = data.collection
    scores = []
    start = time.perf_counter()

    def run(keep: np.ndarray, seed: int) -> list[np.ndarray]:
        sample = data.documents[sampled(keep, share, seed)]
        if name in TAKES_WHOLE:
            return method(data.questions, sample, data.documents[keep])  # type: ignore[call-arg]
        return method(data.questions, sample)

    for topic, topic_name in enumerate(c.topics):
        gaps = run(c.document_topics != topic, topic)
        s = score_run(gaps, c.question_topics == topic)
        scores.append(s)
        if verbose:
            print(
                f"    {c.name:<8} {data.model:<9} {name:<18} held out {topic_name[:28]:<28} "
                f"P {s.precision:.2f} R {s.recall:.2f} others {s.others} gaps {len(gaps)}",
                flush=True,
            )
    control = len(run(np.ones(len(data.documents), dtype=bool), len(c.topics)))
    seconds = time.perf_counter() - start
    p = np.array([s.precision for s in scores])
    r = np.array([s.recall for s in scores])
    return Row(
        c.name, data.model, name, float(p.mean()), float(r.mean()), float(p.min()), float(r.min()),
        int((r > 0).sum()), len(scores), sum(s.others for s in scores), control, seconds,
    )  # fmt: skip


def auc_low(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a positive scores below a negative (ties count half)."""
    below = (positive[:, None] < negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(below + ties / 2)


def best_split(score: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Precision and recall of the lowest-scoring queries, cut where F1 is best: what a
    threshold on ``score`` reaches when the answers choose it."""
    hits = np.cumsum(truth[np.argsort(score, kind="stable")])
    precision = hits / np.arange(1, len(hits) + 1)
    recall = hits / max(int(truth.sum()), 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(f1))
    return float(precision[best]), float(recall[best])


@dataclass
class Bounds:
    auc: float  # coverage AUC, mean over held-out topics
    min_auc: float
    purity: float
    oracle_precision: float  # best_split of smoothed coverage, mean over held-out topics
    oracle_recall: float


def separability(data: Embedded) -> Bounds:
    """Coverage AUC, the questions' neighbour purity, and the oracle split of smoothed
    coverage (the signal ragtel thresholds), each held-out topic in turn."""
    from ragtel.analysis.gaps import GapParams, centre, coverage, query_neighbours, smooth

    p = GapParams()
    c = data.collection
    aucs, splits = [], []
    for topic in range(len(c.topics)):
        zq, zd = centre(data.questions, data.documents[c.document_topics != topic])
        cover = coverage(zq, zd, hub_neighbours=p.hub_neighbours)
        held = c.question_topics == topic
        aucs.append(auc_low(cover[held], cover[~held]))
        smoothed = smooth(cover, query_neighbours(zq, p.smoothing_neighbours), p.smoothing_steps,
                          p.smoothing_keep)  # fmt: skip
        splits.append(best_split(smoothed, held))
    zq, _ = centre(data.questions, data.documents)
    neighbours = query_neighbours(zq, 10)
    purity = float((c.question_topics[neighbours] == c.question_topics[:, None]).mean())
    oracle = np.mean(splits, axis=0)
    return Bounds(float(np.mean(aucs)), float(np.min(aucs)), purity, float(oracle[0]),
                  float(oracle[1]))  # fmt: skip


COLLECTIONS = ("perlfaq", "pyfaq", "pylib", "pymod", "pyans", "pylibans", "manans", "company",
               "zhman")  # fmt: skip


def add_selection(parser: argparse.ArgumentParser) -> None:
    """The options that pick collections and models (shared with ``names.py``)."""
    parser.add_argument("--collections", default=",".join(COLLECTIONS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("-v", "--verbose", action="store_true")


def selected_runs(args: argparse.Namespace) -> list[Embedded]:
    """Every chosen collection embedded by every chosen model of its language."""
    cache = cache_dir()
    wanted, models = args.collections.split(","), args.models.split(",")
    collections = [c for c in load_all(cache) if c.name in wanted]
    return [embed(c, cache, m) for c in collections for m in MODELS_FOR[c.language] if m in models]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--knowledge-base-share",
        type=float,
        default=1.0,
        help="keep only this uniform share of the knowledge base's documents in every run, as "
        "the monitor's exported sample of a large store does (default 1: all of them)",
    )
    add_selection(parser)
    args = parser.parse_args()
    rows = []
    for data in selected_runs(args):
        collection, model = data.collection, data.model
        print(
            f"{collection.name} ({model}): {len(collection.topics)} topics, "
            f"{len(collection.documents)} documents, {len(collection.questions)} questions",
            flush=True,
        )
        b = separability(data)
        print(f"  coverage AUC {b.auc:.2f} (min {b.min_auc:.2f})  neighbour purity "
              f"{b.purity:.2f}  oracle split of smoothed coverage P {b.oracle_precision:.2f} "
              f"R {b.oracle_recall:.2f}")  # fmt: skip
        for name in args.methods.split(","):
            row = evaluate(data, name, args.verbose, args.knowledge_base_share)
            rows.append(row)
            print(
                f"  {name:<18} P {row.precision:.2f} (min {row.min_precision:.2f})  "
                f"R {row.recall:.2f} (min {row.min_recall:.2f})  found {row.found}/{row.topics}  "
                f"other gaps {row.others}  control gaps {row.control_gaps}  {row.seconds:.1f} s",
                flush=True,
            )
    print()
    print("| collection | model | method | precision (mean / min) | recall (mean / min) "
          "| topics found | other gaps | gaps with nothing held out | seconds |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.collection} | {r.model} | {r.method} | {r.precision:.2f} / "
            f"{r.min_precision:.2f} | {r.recall:.2f} / {r.min_recall:.2f} | {r.found}/{r.topics} | "
            f"{r.others} | {r.control_gaps} | {r.seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
