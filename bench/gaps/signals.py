"""Per-question signals a gap could be found from, compared on the gap evaluation's held-out runs.

For every collection, model and held-out topic: how well a signal separates the missing topic's
questions from the covered ones (coverage AUC: the probability that a held-out question scores
lower than a covered one), and the best split of the signal after ragtel's smoothing over
neighbouring questions, with the answers known: mean precision and recall over held-out topics and
their F1 (the oracle split ``evaluate.py`` prints for ragtel's own signal). A signal worth adding
raises both on the design sets (company, pyfaq, manans) before anything is judged on the others.

- ``dense``: ragtel's coverage (best hub-discounted document match; ``ragtel.analysis.gaps``).
- ``lexical``: the share of a question's word weight (idf over questions and documents, words as
  ``gap_terms.terms_of`` splits them) that its best-matching document holds.
- ``claims-k``: how many documents count the question among their k nearest questions (log).
- ``dense+...``: the sum of robust z-scores (the second at half weight for claims).
- ``nearest``: the best plain cosine match among the documents, which the in-process monitor
  records on every query span (``ragtel.monitor``), without centring or hub discount.

``--knowledge-base-share S`` keeps a uniform share S of each run's documents, as the monitor's and
the analysis's samples of a larger knowledge base do.

    ~/.cache/ragtel/gaps/venv/bin/python bench/gaps/signals.py [--collections ...] [--models ...]
        [--knowledge-base-share S]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "src"))

from evaluate import add_selection, auc_low, best_split, sampled, selected_runs  # noqa: E402

from ragtel.analysis.gap_terms import terms_of  # noqa: E402
from ragtel.analysis.gaps import GapParams, centre, coverage, query_neighbours, smooth  # noqa: E402


def lexical(questions: list[set[str]], documents: list[set[str]]) -> np.ndarray:
    frequency: dict[str, int] = {}
    for terms in [*questions, *documents]:
        for term in terms:
            frequency[term] = frequency.get(term, 0) + 1
    total = len(questions) + len(documents)
    idf = {term: float(np.log(total / count)) for term, count in frequency.items()}
    holders: dict[str, list[int]] = {}
    for row, terms in enumerate(documents):
        for term in terms:
            holders.setdefault(term, []).append(row)
    out = np.zeros(len(questions))
    for row, terms in enumerate(questions):
        weight = sum(idf[t] for t in terms)
        if not weight or not documents:
            continue
        matched = np.zeros(len(documents))
        for term in terms:
            if term in holders:
                matched[holders[term]] += idf[term]
        out[row] = matched.max() / weight
    return out


def claims(zq: np.ndarray, zd: np.ndarray, k: int) -> np.ndarray:
    nearest = np.argpartition(-(zd @ zq.T), k, axis=1)[:, :k]
    return np.log1p(np.bincount(nearest.ravel(), minlength=len(zq)).astype(float))


def robust_z(values: np.ndarray) -> np.ndarray:
    median = np.median(values)
    spread = 1.4826 * np.median(np.abs(values - median)) or 1.0
    return (values - median) / spread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_selection(parser)
    parser.add_argument("--knowledge-base-share", type=float, default=1.0)
    args = parser.parse_args()
    p = GapParams()
    print("| collection | model | signal | coverage AUC | oracle split P / R (F1) |")
    print("|---|---|---|---|---|")
    for data in selected_runs(args):
        c = data.collection
        question_terms = [terms_of(q) for q in c.questions]
        document_terms = [terms_of(d) for d in c.documents]
        aucs: dict[str, list[float]] = {}
        splits: dict[str, list[tuple[float, float]]] = {}
        for topic in range(len(c.topics)):
            kept = sampled(c.document_topics != topic, args.knowledge_base_share, topic)
            zq, zd = centre(data.questions, data.documents[kept])
            dense = coverage(zq, zd, hub_neighbours=p.hub_neighbours)
            words = lexical(question_terms, [document_terms[i] for i in np.flatnonzero(kept)])
            signals = {
                "dense": dense,
                "lexical": words,
                "dense+lexical": robust_z(dense) + robust_z(words),
                "nearest": (data.questions @ data.documents[kept].T).max(axis=1),
            }
            for k in (5, 10, 20):
                claimed = claims(zq, zd, k)
                signals[f"claims-{k}"] = claimed
                signals[f"dense+claims-{k}"] = robust_z(dense) + 0.5 * robust_z(claimed)
            held = c.question_topics == topic
            neighbours = query_neighbours(zq, p.smoothing_neighbours)
            for name, values in signals.items():
                aucs.setdefault(name, []).append(auc_low(values[held], values[~held]))
                smoothed = smooth(values, neighbours, p.smoothing_steps, p.smoothing_keep)
                splits.setdefault(name, []).append(best_split(smoothed, held))
        for name in aucs:
            precision, recall = np.mean(splits[name], axis=0)
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            print(f"| {c.name} | {data.model} | {name} | {np.mean(aucs[name]):.3f} | "
                  f"{precision:.2f} / {recall:.2f} ({f1:.2f}) |")  # fmt: skip


if __name__ == "__main__":
    main()
