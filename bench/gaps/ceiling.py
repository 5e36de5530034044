"""How well a missing topic's questions can be told apart at all, with the answers known.

The gap evaluation's goal (top gap precision >= 0.9 and recall >= 0.8, an F1 near 0.85) asks an
unsupervised method to pick out the held-out topic's questions. This script measures what a
*supervised* one reaches on the same runs: a logistic regression trained on the answers (which
questions belong to the held-out topic), scored on questions it was not trained on (5-fold
cross-validation, stratified), its probability cut where F1 is best with the answers known, and
the regularisation strength that does best chosen afterwards, too. Each of those choices favours
the ceiling; none is open to a method that does not know the answers. Per held-out topic, on:

- ``questions``: the questions' centred embeddings (what any clustering of questions sees);
- ``questions+coverage``: the same plus ragtel's smoothed coverage (``ragtel.analysis.gaps``,
  steps 1-3), as a robust z-score;

beside, in the same run, ragtel's top gap (``find_gaps``) and the oracle split of smoothed
coverage (``evaluate.py``). Mean precision, recall and F1 over held-out topics.

With ``--groups``, instead: are the gaps ragtel reports with nothing held out (every one false)
shallower than true ones, so that a floor on depth could drop them? Every group reported in every
run (held-out topics and the control) is a *true gap* when most of its questions are the held-out
topic's; per model, the depth (mean smoothed coverage of its questions, in robust standard
deviations below the median; and the same of raw coverage) of true gaps against the control runs'
groups, the share of true gaps a floor at the deepest control group would drop, and the topic
purity (share of a group's questions from its most frequent topic) of true and false groups.

    ~/.cache/ragtel/gaps/venv/bin/python bench/gaps/ceiling.py [--groups] [--collections ...]
        [--models ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "src"))

from evaluate import add_selection, best_split, score_run, selected_runs  # noqa: E402
from vectors import Embedded  # noqa: E402

from ragtel.analysis.gaps import centre, find_gaps  # noqa: E402

STRENGTHS = (0.1, 1.0, 10.0)  # inverse regularisation strengths tried; the best one is kept
FOLDS = 5


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def supervised_split(
    features: np.ndarray, truth: np.ndarray, strength: float
) -> tuple[float, float]:
    """Precision and recall of a cross-validated logistic regression, cut where F1 is best."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    model = LogisticRegression(C=strength, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on a few folds
        probability = cross_val_predict(model, features, truth, cv=folds, method="predict_proba")
    # best_split takes the lowest scores first: the least likely to be covered.
    return best_split(-probability[:, 1], truth)


def _depth(values: np.ndarray, members: np.ndarray) -> float:
    """Mean of ``members``' values in robust standard deviations below the median."""
    median = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - median)))
    return (median - float(values[members].mean())) / max(spread, 1e-12)


def groups(runs: list[Embedded]) -> None:
    """Depth and topic purity of every reported group, true gaps against false ones."""
    # Per model: (is a true gap, in the control run, smoothed depth, raw depth, topic purity).
    found: dict[str, list[tuple[bool, bool, float, float, float]]] = {}
    for data in runs:
        c = data.collection
        for topic in [*range(len(c.topics)), -1]:  # -1: the control, nothing held out
            analysis = find_gaps(data.questions, data.documents[c.document_topics != topic])
            smoothed = analysis.smoothed_coverage
            assert smoothed is not None
            for cluster in analysis.clusters:
                members = cluster.queries
                topics = c.question_topics[members]
                found.setdefault(data.model, []).append((
                    bool((topics == topic).mean() >= 0.5),
                    topic < 0,
                    _depth(smoothed, members),
                    _depth(analysis.coverage, members),
                    float(np.bincount(topics).max() / len(members)),
                ))  # fmt: skip
    print("| model | true gaps | false (control) | depth of true gaps: median (10th pct) | "
          "of control groups | true gaps no deeper than the deepest control group "
          "(smoothed / raw) | topic purity: true / false |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for model, rows in found.items():
        table = np.array(rows, dtype=float)
        true, control = table[:, 0] == 1, table[:, 1] == 1
        if not true.any() or not control.any():
            continue
        lost = [float((table[true, col] <= table[control, col].max()).mean()) for col in (2, 3)]
        depths = ", ".join(f"{d:.2f}" for d in np.sort(table[control, 2]))
        print(
            f"| {model} | {int(true.sum())} | {int(control.sum())} | "
            f"{np.median(table[true, 2]):.2f} ({np.quantile(table[true, 2], 0.1):.2f}) | "
            f"{depths} | {lost[0]:.2f} / {lost[1]:.2f} | "
            f"{np.median(table[true, 4]):.2f} / {np.median(table[~true, 4]):.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", action="store_true", help="depth of true and false gaps")
    add_selection(parser)
    args = parser.parse_args()
    if args.groups:
        groups(selected_runs(args))
        return
    names = ("ragtel top gap", "oracle split", "questions", "questions+coverage")
    print("| collection | model | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for data in selected_runs(args):
        c = data.collection
        # Per held-out topic: (precision, recall) of each row; the supervised rows per strength.
        found: dict[str, list[tuple[float, float]]] = {name: [] for name in names[:2]}
        supervised: dict[tuple[str, float], list[tuple[float, float]]] = {}
        for topic in range(len(c.topics)):
            documents = data.documents[c.document_topics != topic]
            truth = c.question_topics == topic
            analysis = find_gaps(data.questions, documents)
            top = score_run([g.queries for g in analysis.clusters], truth)
            found[names[0]].append((top.precision, top.recall))
            smoothed = analysis.smoothed_coverage
            assert smoothed is not None
            found[names[1]].append(best_split(smoothed, truth))
            median = float(np.median(smoothed))
            spread = 1.4826 * float(np.median(np.abs(smoothed - median)))
            depth = ((smoothed - median) / max(spread, 1e-12))[:, None]
            zq, _ = centre(data.questions, documents)
            for name, features in ((names[2], zq), (names[3], np.hstack([zq, depth]))):
                for strength in STRENGTHS:
                    split = supervised_split(features, truth, strength)
                    supervised.setdefault((name, strength), []).append(split)
        for name in names[2:]:
            found[name] = max(
                (supervised[(name, s)] for s in STRENGTHS),
                key=lambda splits: np.mean([_f1(*pr) for pr in splits]),
            )
        cells = []
        for name in names:
            splits = np.array(found[name])
            f1 = np.mean([_f1(*pr) for pr in found[name]])
            cells.append(f"{splits[:, 0].mean():.2f} / {splits[:, 1].mean():.2f} / {f1:.2f}")
        print(f"| {c.name} | {data.model} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
