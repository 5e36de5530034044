"""How well a knowledge gap's terms name the missing topic, on the held-out runs of
``evaluate.py``.

    $RAGTEL_CACHE_DIR/gaps/venv/bin/python bench/gaps/names.py [--collections C] [--models M] [-v]

For every held-out topic the top-ranked gap of ``find_gaps`` is named by its five terms
(``ragtel.analysis.gap_terms``). A term names the missing topic as well as it is specific to it:
its *specificity* is the share of all questions holding the term that ask about the held-out
topic. Per run, the name's specificity is the mean over its terms; the table gives the mean over
held-out topics, and the share of terms with specificity at least one half.

Compared in the same run, on the same gaps:
- *frequent*: the gap's five most frequent terms (same tokenizer and stop words), no contrast;
- *truth*: the same naming applied to the held-out topic's own questions, which is what the name
  could be if the gap were exactly the topic (it bounds what naming adds over gap quality).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "src"))

from evaluate import add_selection, selected_runs  # noqa: E402

from ragtel.analysis.gap_terms import TermIndex, terms_of  # noqa: E402
from ragtel.analysis.gaps import find_gaps  # noqa: E402

LIMIT = 5


def frequent(texts: list[str]) -> list[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(terms_of(text))
    return [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:LIMIT]]


def specificity(terms: list[str], holders: dict[str, np.ndarray], held: np.ndarray) -> list[float]:
    return [float(held[holders[t]].mean()) if len(holders.get(t, [])) else 0.0 for t in terms]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_selection(parser)
    args = parser.parse_args()
    rows = []
    for data in selected_runs(args):
        c, model = data.collection, data.model
        holders: dict[str, list[int]] = {}
        for i, question in enumerate(c.questions):
            for t in terms_of(question):
                holders.setdefault(t, []).append(i)
        holder_rows = {t: np.array(v) for t, v in holders.items()}
        scores: dict[str, list[list[float]]] = {"ragtel": [], "frequent": [], "truth": []}
        for topic, topic_name in enumerate(c.topics):
            keep = c.document_topics != topic
            held = c.question_topics == topic
            docs = [d for d, k in zip(c.documents, keep, strict=True) if k]
            analysis = find_gaps(data.questions, data.documents[keep])
            if not analysis.clusters:
                continue
            top = analysis.clusters[0].queries
            index = TermIndex(c.questions, docs)
            named = [t.term for t in index.name(top, LIMIT)]
            plain = frequent([c.questions[i] for i in top])
            ideal = [t.term for t in index.name(np.flatnonzero(held), LIMIT)]
            for key, terms in (("ragtel", named), ("frequent", plain), ("truth", ideal)):
                scores[key].append(specificity(terms, holder_rows, held))
            if args.verbose:
                precision = held[top].mean()
                print(
                    f"  {c.name:<8} {model:<12} {topic_name[:30]:<30} gap P {precision:.2f}"
                    f"  ragtel: {', '.join(named)}  |  frequent: {', '.join(plain)}"
                    f"  |  truth: {', '.join(ideal)}",
                    flush=True,
                )
        for key, runs in scores.items():
            flat = [s for run in runs for s in run]
            rows.append((c.name, model, key, float(np.mean([np.mean(r) if r else 0.0
                         for r in runs])) if runs else 0.0,
                         float(np.mean([s >= 0.5 for s in flat])) if flat else 0.0,
                         len(runs), len(c.topics)))  # fmt: skip
        print(f"{c.name} ({model}): " + "  ".join(
            f"{r[2]} {r[3]:.2f} / {r[4]:.2f}" for r in rows[-3:]), flush=True)  # fmt: skip
    print()
    print("| collection | model | naming | specificity (mean) | terms with specificity ≥ 0.5 "
          "| runs with a gap |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name, model, key, spec, share, runs, topics in rows:
        print(f"| {name} | {model} | {key} | {spec:.2f} | {share:.2f} | {runs}/{topics} |")


if __name__ == "__main__":
    main()
