"""An ingestion job, run as its own process by test_knowledge_base.py: embeds the knowledge base
through ``TracedEmbeddings`` into a LangChain vector store (one ``embed_documents`` batch),
exports its spans over OTLP, and prints ``ragtel.stats()`` as JSON. The store is an
``InMemoryVectorStore``, dumped to STORE.json when that is given, or a ``Chroma`` collection
persisted in the directory STORE (any other name) or kept by the Chroma server at the URL STORE
(http://HOST:PORT), as ingestion jobs keep one for the serving process to open.

    python ingestion_job.py DOCUMENTS.npz SERVICE ENDPOINT [STORE.json | STORE | URL]

DOCUMENTS.npz holds ``vectors`` (documents x dimension) and ``texts``; the embedding model of
this job returns those vectors for those texts, as a real model would for its passages.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore

import ragtel
from ragtel.langchain import TracedEmbeddings

CHROMA_COLLECTION = "knowledge-base"


class Precomputed(Embeddings):
    """The vectors a model gave these texts earlier (the test's synthetic knowledge base)."""

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        self.table = {t: v.tolist() for t, v in zip(texts, vectors, strict=True)}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.table[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.table[text]


def main() -> int:
    documents, service, endpoint = sys.argv[1:4]
    data = np.load(documents)
    texts = [str(t) for t in data["texts"]]
    provider = ragtel.configure(service_name=service, endpoint=endpoint, protocol="grpc")
    model = Precomputed(texts, data["vectors"])
    embeddings = TracedEmbeddings(model, model_name="synthetic-minilm")
    ids = [f"doc-{i}" for i in range(len(texts))]
    target = sys.argv[4] if len(sys.argv) > 4 else None
    if target is None or target.endswith(".json"):
        store = InMemoryVectorStore.from_texts(texts, embeddings, ids=ids)
        if target:
            store.dump(target)
    else:
        import chromadb
        from langchain_chroma import Chroma

        settings = chromadb.Settings(anonymized_telemetry=False)
        if target.startswith("http://"):
            host, port = target.removeprefix("http://").split(":")
            client = chromadb.HttpClient(host=host, port=int(port), settings=settings)
            Chroma.from_texts(texts, embeddings, ids=ids, collection_name=CHROMA_COLLECTION,
                              client=client)  # fmt: skip
        else:
            Chroma.from_texts(texts, embeddings, ids=ids, collection_name=CHROMA_COLLECTION,
                              persist_directory=target, client_settings=settings)  # fmt: skip
    ok = provider.force_flush(60_000)  # type: ignore[attr-defined]
    print(json.dumps({"flushed": ok, **ragtel.stats()}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
