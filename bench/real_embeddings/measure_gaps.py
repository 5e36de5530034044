"""Measure the gap finder's precision/recall on synthetic streams and on real MiniLM vectors.

    python bench/real_embeddings/measure_gaps.py [--z 1.25] [--support 3]

Real: leave-one-topic-out over tests/data/monitor/real_minilm.npz (8 topics; each in turn is
removed from the passages and its questions become the off-topic ones). Synthetic: the issue's
2,000-query stream, 5 seeds, plus a control stream with no missing topic.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # tests.synthetic, the generator shared with the tests

from tests.synthetic import make_stream  # noqa: E402

from ragtel.analysis.gaps import GapParams, find_gaps  # noqa: E402

DATA = ROOT / "tests" / "data" / "monitor" / "real_minilm.npz"


def score(queries: np.ndarray, documents: np.ndarray, off: np.ndarray, params: GapParams):
    analysis = find_gaps(queries, documents, params)
    if not analysis.clusters:
        return 0.0, 0.0, 0
    top = analysis.clusters[0].queries
    hits = int(off[top].sum())
    false_groups = sum(1 for c in analysis.clusters[1:] if off[c.queries].mean() < 0.5)
    return hits / off.sum(), hits / len(top), false_groups


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--z", type=float, default=GapParams().z)
    parser.add_argument("--support", type=int, default=GapParams().support)
    parser.add_argument("--neighbours", type=int, default=None)
    args = parser.parse_args()
    params = GapParams(z=args.z, support=args.support, neighbours=args.neighbours)

    rows = []
    for seed in range(5):
        s = make_stream(seed=seed)
        rows.append(score(s.queries, s.documents, s.off_topic, params))
    syn = np.array(rows)
    print(
        f"synthetic (5 seeds): recall min {syn[:, 0].min():.3f} mean {syn[:, 0].mean():.3f}; "
        f"precision min {syn[:, 1].min():.3f} mean {syn[:, 1].mean():.3f}; "
        f"other on-topic groups {int(syn[:, 2].sum())}"
    )
    control = [
        len(
            find_gaps(
                make_stream(seed=s, off_topic_share=0.0).queries,
                make_stream(seed=s, off_topic_share=0.0).documents,
                params,
            ).clusters
        )
        for s in range(5)
    ]
    print(f"synthetic control, no missing topic: groups reported per seed {control}")

    z = np.load(DATA)
    docs = z["passage_vectors"].astype(np.float64)
    qs = z["question_vectors"].astype(np.float64)
    dt, qt = z["passage_topics"], z["question_topics"]
    rows = []
    for missing, name in enumerate(z["topic_names"]):
        r = score(qs, docs[dt != missing], qt == missing, params)
        rows.append(r)
        print(f"  real, missing {name:<10} recall {r[0]:.2f} precision {r[1]:.2f} others {r[2]}")
    real = np.array(rows)
    print(
        f"real MiniLM (8 held-out topics): recall min {real[:, 0].min():.3f} mean "
        f"{real[:, 0].mean():.3f}; precision min {real[:, 1].min():.3f} mean "
        f"{real[:, 1].mean():.3f}; other on-topic groups {int(real[:, 2].sum())}"
    )
    print(f"real control, full corpus: groups reported {len(find_gaps(qs, docs, params).clusters)}")


if __name__ == "__main__":
    main()
