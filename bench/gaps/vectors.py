"""all-MiniLM-L6-v2 vectors of the collections, cached by the hash of their texts."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from corpora import Collection

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Embedded:
    collection: Collection
    documents: np.ndarray  # (n_docs, 384) float32, unit rows
    questions: np.ndarray  # (n_questions, 384) float32, unit rows


def _key(texts: list[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]


def embed(collection: Collection, cache: Path) -> Embedded:
    """Vectors of ``collection``; computed once per distinct text list, then read from ``cache``."""
    texts = collection.documents + collection.questions
    path = cache / "vectors" / f"{collection.name}-{_key(texts)}.npy"
    if path.exists():
        vectors = np.load(path)
    else:
        sys.path.insert(0, str(HERE.parent / "real_embeddings"))
        from minilm import MiniLM

        # Sorting by length keeps padded batches short: ~3x faster on long paragraphs.
        order = np.argsort([len(t) for t in texts])
        encoded = MiniLM().encode([texts[i] for i in order])
        vectors = np.empty_like(encoded)
        vectors[order] = encoded
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    n = len(collection.documents)
    return Embedded(collection, vectors[:n], vectors[n:])
