"""``ragtel drift --knowledge-base FILE``: the reference from a file when the traces hold none
(the index was built by another process), in each format."""

from __future__ import annotations

import gzip
import http.server
import json
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ragtel.analysis.cli import EXIT_ERROR, EXIT_OK, main
from tests.synthetic import SyntheticStream, make_stream, write_otlp_jsonl


def _write_npy(stream: SyntheticStream, path: Path) -> None:
    np.save(path, stream.documents.astype(np.float32))


def _write_jsonl(stream: SyntheticStream, path: Path) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for i, row in enumerate(stream.documents):
            text = f"document {i} about topic {int(stream.document_topics[i])}"
            out.write(json.dumps({"id": f"doc-{i}", "text": text, "vector": row.tolist()}) + "\n")


def _write_parquet(stream: SyntheticStream, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "id": [f"doc-{i}" for i in range(len(stream.documents))],
        "text": [f"document {i}" for i in range(len(stream.documents))],
        "vector": [row.tolist() for row in stream.documents],
    })  # fmt: skip
    pq.write_table(table, path)


def _write_langchain_dump(stream: SyntheticStream, path: Path) -> None:
    from langchain_core.vectorstores import InMemoryVectorStore

    texts = [f"document {i} · 文書 {i}" for i in range(len(stream.documents))]
    store = InMemoryVectorStore(_Precomputed(texts, stream.documents))  # type: ignore[arg-type]
    store.add_texts(texts, ids=[f"doc-{i}" for i in range(len(texts))])
    store.dump(str(path))


@pytest.mark.parametrize(
    ("name", "write"),
    [("kb.npy", _write_npy), ("kb.jsonl.gz", _write_jsonl), ("kb.parquet", _write_parquet),
     ("store.json", _write_langchain_dump)],
)  # fmt: skip
def test_gap_found_with_the_knowledge_base_from_a_file(tmp_path: Path, name: str, write) -> None:
    stream = make_stream(seed=0)
    spans = tmp_path / "spans.jsonl"
    trace_ids = write_otlp_jsonl(stream, str(spans), documents=False)
    out = tmp_path / "report"
    # Without the file the traces hold no document: no reference, no gap.
    assert main(["drift", str(spans), "--out", str(out), "--no-progress"]) == EXIT_OK
    bare = json.loads((out / "summary.json").read_text())
    assert bare["counts"]["documents"] == 0 and bare["gaps"] == []

    write(stream, tmp_path / name)
    code = main(["drift", str(spans), "--out", str(out), "--no-progress",
                 "--knowledge-base", str(tmp_path / name)])  # fmt: skip
    assert code == EXIT_OK
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["documents"] == len(stream.documents)
    assert summary["knowledge_base"] == f"file {tmp_path / name}"
    off = {t for t, o in zip(trace_ids, stream.off_topic, strict=True) if o}
    top = summary["gaps"][0]["trace_ids"]
    hits = sum(t in off for t in top)
    assert hits / len(off) >= 0.9 and hits / len(top) >= 0.9


def test_the_file_replaces_document_vectors_found_in_the_traces(tmp_path: Path) -> None:
    stream = make_stream(seed=1)
    spans = tmp_path / "spans.jsonl"
    write_otlp_jsonl(stream, str(spans))  # with its index build
    kb = tmp_path / "kb.npy"
    np.save(kb, stream.documents[:100])
    out = tmp_path / "report"
    assert main(["drift", str(spans), "--out", str(out), "--no-progress",
                 "--knowledge-base", str(kb)]) == EXIT_OK  # fmt: skip
    counts = json.loads((out / "summary.json").read_text())["counts"]
    assert counts["documents"] == 100
    assert counts["documents_in_traces_ignored"] == len(stream.documents)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("kb.jsonl", '{"id": "a", "vector": [1, 2]}\n{"id": "b", "text": "no vector"}\n',
         "line 2: expected an object with 'vector'"),
        ("kb.jsonl", '{"vector": [1, "x"]}\n', "line 1: 'vector' is not a list of numbers"),
        ("kb.jsonl", '{"vector": [1, 2]}\n{"vector": [1, 2, 3]}\n', "dimension 3 after 2"),
        ("kb.csv", "1,2\n", "unknown format"),
        ("kb.npy", "not numpy", "not a .npy array"),
        ("kb.json", "[1, 2]", "expected a JSON object"),
        ("kb.json", '{"a": {"text": "no vector"}}', "entry 'a': expected an object with 'vector'"),
    ],
)  # fmt: skip
def test_unreadable_knowledge_base_files_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str, message: str
) -> None:
    spans = tmp_path / "spans.jsonl"
    write_otlp_jsonl(make_stream(seed=0, queries=50, change_at=25), str(spans), documents=False)
    (tmp_path / name).write_text(content)
    code = main(["drift", str(spans), "--out", str(tmp_path / "r"), "--no-progress",
                 "--knowledge-base", str(tmp_path / name)])  # fmt: skip
    assert code == EXIT_ERROR
    assert message in capsys.readouterr().err


def test_parquet_without_pyarrow_says_which_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spans = tmp_path / "spans.jsonl"
    write_otlp_jsonl(make_stream(seed=0, queries=50, change_at=25), str(spans), documents=False)
    (tmp_path / "kb.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code = main(["drift", str(spans), "--out", str(tmp_path / "r"), "--no-progress",
                 "--knowledge-base", str(tmp_path / "kb.parquet")])  # fmt: skip
    assert code == EXIT_ERROR
    assert "pip install 'ragtel[parquet]'" in capsys.readouterr().err


def test_the_python_api_takes_a_langchain_store() -> None:
    from langchain_core.embeddings import Embeddings
    from langchain_core.vectorstores import InMemoryVectorStore

    from ragtel.analysis import Collector, analyze
    from ragtel.analysis._spans import Embedding
    from ragtel.monitor import knowledge_base_from

    stream = make_stream(seed=2)
    texts = [f"document {i}" for i in range(len(stream.documents))]
    by_text = dict(zip(texts, stream.documents.tolist(), strict=True))

    class Precomputed(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [by_text[t] for t in texts]

        def embed_query(self, text: str) -> list[float]:
            return by_text[text]

    store = InMemoryVectorStore(Precomputed())
    store.add_texts(texts)
    collector = Collector()
    collector.use_knowledge_base(knowledge_base_from(store).rows(), "store")
    for i, vector in enumerate(stream.queries):
        collector._add_embedding(Embedding("query", vector, f"q{i}", f"t{i}", i * 10**9))
    analysis = analyze(collector)
    assert analysis.knowledge_base == "store" and analysis.counts["documents"] == len(texts)
    top = analysis.gaps[0].members
    assert np.mean([stream.off_topic[int(m.trace_id[1:])] for m in top]) >= 0.9


@pytest.mark.parametrize("suffix", [".npy", ".jsonl"])
def test_the_sample_holds_its_own_rows_not_views_of_the_file(tmp_path: Path, suffix: str) -> None:
    """A sampled row that is a view keeps its whole read chunk alive: a 1,000,000-document file
    would then stay in memory through the 10,000 rows sampled from it."""
    from ragtel.analysis import Collector, read_knowledge_base

    rows = np.random.default_rng(0).normal(size=(20_000, 8)).astype(np.float32)
    path = tmp_path / f"kb{suffix}"
    if suffix == ".npy":
        np.save(path, rows)
    else:
        path.write_text("".join(json.dumps({"vector": r.tolist()}) + "\n" for r in rows))
    collector = Collector(sample_size=50)
    collector.use_knowledge_base(read_knowledge_base(path), "file")
    assert collector.document_count == 20_000
    for item in collector.documents.items:
        assert item.vector.base is None and item.vector.nbytes == 8 * 4
        assert np.allclose(item.vector, rows[int(item.doc_id or -1)])


class _Precomputed:
    """The vectors a model gave these texts earlier, as LangChain ``Embeddings``."""

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        self.table = dict(zip(texts, vectors.tolist(), strict=True))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        # langchain-qdrant embeds a "dummy_text" first, to learn the dimension.
        return self.table.get(text) or [0.0] * len(next(iter(self.table.values())))


def _persist_chroma(directory: Path, texts: list[str], vectors: np.ndarray, name: str) -> None:
    import chromadb
    from langchain_chroma import Chroma

    ids = [f"doc-{i}" for i in range(len(texts))]
    Chroma.from_texts(texts, _Precomputed(texts, vectors), ids=ids,  # type: ignore[arg-type]
                      collection_name=name, persist_directory=str(directory),
                      client_settings=chromadb.Settings(anonymized_telemetry=False))  # fmt: skip


def _persist_qdrant(directory: Path, texts: list[str], vectors: np.ndarray, name: str) -> None:
    from langchain_qdrant import QdrantVectorStore

    model = _Precomputed(texts, vectors)
    store = QdrantVectorStore.from_texts(texts, model, path=str(directory),  # type: ignore[arg-type]
                                         collection_name=name)  # fmt: skip
    store.client.close()  # an ingestion job that has finished: the store's lock is released


def _persist_llamaindex(directory: Path, texts: list[str], vectors: np.ndarray, name: str) -> None:
    from llama_index.core import VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.schema import TextNode

    nodes = [TextNode(text=t, id_=f"node-{i}", embedding=v.tolist())
             for i, (t, v) in enumerate(zip(texts, vectors, strict=True))]  # fmt: skip
    index = VectorStoreIndex(nodes, embed_model=MockEmbedding(embed_dim=vectors.shape[1]))
    index.storage_context.persist(str(directory))


STORE_DIRECTORIES = {"chroma": _persist_chroma, "qdrant": _persist_qdrant,
                     "llamaindex": _persist_llamaindex}  # fmt: skip


@pytest.mark.parametrize("persist", STORE_DIRECTORIES.values(), ids=STORE_DIRECTORIES.keys())
def test_gap_found_with_the_knowledge_base_from_a_store_directory(tmp_path: Path, persist) -> None:
    """The directory an ingestion job persisted its store to (Chroma, Qdrant, LlamaIndex's
    default storage), read offline."""
    stream = make_stream(seed=3)
    spans = tmp_path / "spans.jsonl"
    trace_ids = write_otlp_jsonl(stream, str(spans), documents=False)
    texts = [f"文書 {i} on topic {int(t)} 📄" for i, t in enumerate(stream.document_topics)]
    store = tmp_path / "store"
    persist(store, texts, stream.documents, "knowledge-base")
    out = tmp_path / "report"
    code = main(["drift", str(spans), "--out", str(out), "--no-progress",
                 "--knowledge-base", str(store)])  # fmt: skip
    assert code == EXIT_OK
    summary = json.loads((out / "summary.json").read_text())
    assert summary["knowledge_base"] == f"store {store}"
    assert summary["counts"]["documents"] == len(stream.documents)
    assert summary["counts"]["sampled_documents_with_text"] == len(stream.documents)
    off = {t for t, o in zip(trace_ids, stream.off_topic, strict=True) if o}
    top = summary["gaps"][0]["trace_ids"]
    hits = sum(t in off for t in top)
    assert hits / len(off) >= 0.9 and hits / len(top) >= 0.9
    # The documents' texts came through whole: a gap's nearest documents quote them.
    quoted = {d["text"] for g in summary["gaps"] for d in g["nearest_documents"]}
    assert quoted and quoted <= set(texts)


@pytest.mark.parametrize("persist", [_persist_chroma, _persist_qdrant], ids=["chroma", "qdrant"])
def test_a_store_directory_with_several_collections_needs_one_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], persist
) -> None:
    stream = make_stream(seed=0, queries=50, change_at=25)
    spans = tmp_path / "spans.jsonl"
    write_otlp_jsonl(stream, str(spans), documents=False)
    store = tmp_path / "store"
    texts = [f"document {i}" for i in range(len(stream.documents))]
    persist(store, texts, stream.documents, "policies")
    persist(store, texts[:10], stream.documents[:10], "manuals")
    base = ["drift", str(spans), "--out", str(tmp_path / "r"), "--no-progress",
            "--knowledge-base", str(store)]  # fmt: skip
    assert main(base) == EXIT_ERROR
    assert "2 collections (manuals, policies); choose one with --knowledge-base-collection" in (
        capsys.readouterr().err
    )
    assert main([*base, "--knowledge-base-collection", "faq"]) == EXIT_ERROR
    assert "no " in (err := capsys.readouterr().err) and "'faq' (it has manuals, policies)" in err
    assert main([*base, "--knowledge-base-collection", "manuals"]) == EXIT_OK
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["counts"]["documents"] == 10


def test_a_directory_that_is_no_store_and_a_collection_without_a_store_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spans = tmp_path / "spans.jsonl"
    write_otlp_jsonl(make_stream(seed=0, queries=50, change_at=25), str(spans), documents=False)
    base = ["drift", str(spans), "--out", str(tmp_path / "r"), "--no-progress"]
    assert main([*base, "--knowledge-base", str(tmp_path)]) == EXIT_ERROR
    assert "neither a Chroma persistent directory" in capsys.readouterr().err
    assert main([*base, "--knowledge-base-collection", "faq"]) == EXIT_ERROR
    assert "--knowledge-base-collection needs --knowledge-base" in capsys.readouterr().err
    np.save(tmp_path / "kb.npy", np.ones((3, 4), dtype=np.float32))
    assert main([*base, "--knowledge-base", str(tmp_path / "kb.npy"),
                 "--knowledge-base-collection", "faq"]) == EXIT_ERROR  # fmt: skip
    assert "not in a file" in capsys.readouterr().err


def test_chroma_server_addresses_are_checked_before_any_span_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spans = tmp_path / "spans.jsonl"
    write_otlp_jsonl(make_stream(seed=0, queries=50, change_at=25), str(spans), documents=False)
    base = ["drift", str(spans), "--out", str(tmp_path / "r"), "--no-progress", "--knowledge-base"]
    with socket.socket() as unused:  # a loopback port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert main([*base, f"http://127.0.0.1:{port}"]) == EXIT_ERROR
    assert f"knowledge base http://127.0.0.1:{port}: Chroma cannot open it" in (
        capsys.readouterr().err
    )
    # A web server that is not Chroma: its 404 page is cut to one bounded line.
    page = b"<!DOCTYPE HTML>\n<html>\n<body>\n" + b"<p>Nothing.</p>\n" * 200 + b"</body></html>"

    class NotChroma(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotChroma)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert main([*base, f"http://127.0.0.1:{server.server_port}"]) == EXIT_ERROR
    finally:
        server.shutdown()
    err = capsys.readouterr().err
    assert "Chroma cannot open it (" in err and "; is it a Chroma server?" in err
    assert len(err) < 400 and "\n" not in err.strip()
    assert main([*base, "http://127.0.0.1:8000/api/v2/collections"]) == EXIT_ERROR
    assert "expected a Chroma server's address, http://HOST:PORT" in capsys.readouterr().err
    assert main([*base, "http://admin:s3cret@127.0.0.1:8000"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "credentials in the URL are not supported" in err and "s3cret" not in err
    assert not (tmp_path / "r" / "summary.json").exists()


def _analysed(stream: SyntheticStream, rows: list[Any], reread: Any) -> Any:
    from ragtel.analysis import Collector, analyze
    from ragtel.analysis._spans import Embedding

    collector = Collector(document_sample_size=100)  # a knowledge base 7 times its sample
    collector.use_knowledge_base(iter(rows), "file kb.jsonl")
    for i, vector in enumerate(stream.queries):
        collector._add_embedding(Embedding("query", vector, f"q{i}", f"t{i}", i * 10**9))
    return analyze(collector, knowledge_base_rows=reread)


def _precision_recall(stream: SyntheticStream, analysis: Any) -> tuple[float, float]:
    off = set(np.flatnonzero(stream.off_topic).tolist())
    top = [int(m.trace_id[1:]) for m in analysis.gaps[0].members]
    hits = sum(t in off for t in top)
    return hits / len(top), hits / len(off)


def test_coverage_is_measured_against_every_document_of_a_knowledge_base_read_again() -> None:
    """A sample of 100 of 720 documents misses most questions' own passages, so covered
    questions look uncovered; read again, every document counts and the gap is the topic."""
    stream = make_stream(seed=2)
    rows = [(f"doc-{i}", f"document {i}", v) for i, v in enumerate(stream.documents)]
    reads: list[int] = []

    def reread() -> Any:
        reads.append(1)
        return iter(rows)

    analysis = _analysed(stream, rows, reread)
    assert reads == [1]
    assert analysis.coverage == "all 720 documents, read a second time"
    precision, recall = _precision_recall(stream, analysis)
    assert precision >= 0.9 and recall >= 0.9
    assert analysis.counts["documents"] == analysis.counts["knowledge_base_documents"] == 720
    assert analysis.counts["sampled_documents"] == 100
    # Without the second read the sample is all there is, and the analysis says so.
    sampled = _analysed(stream, rows, None)
    assert sampled.coverage.startswith("a sample of 100 of 720 documents; gaps are less reliable")
    assert _precision_recall(stream, sampled)[0] < precision


def test_a_knowledge_base_that_fails_on_its_second_read_falls_back_to_the_sample() -> None:
    from ragtel.analysis._sources import SourceError

    stream = make_stream(seed=3)
    rows = [(f"doc-{i}", None, v) for i, v in enumerate(stream.documents)]

    def gone() -> Any:
        yield rows[0]
        raise SourceError("knowledge base http://127.0.0.1:1: reading failed (connection reset)")

    analysis = _analysed(stream, rows, gone)
    assert analysis.coverage == (
        "a sample of 100 of 720 documents (reading the knowledge base again failed: knowledge "
        "base http://127.0.0.1:1: reading failed (connection reset))"
    )
    assert analysis.gap_analysis is not None and analysis.gap_analysis.coverage_documents == 100


def test_a_llamaindex_storage_directory_of_several_indexes_is_read_whole(tmp_path: Path) -> None:
    """Indexes persisted from one storage context share its vector store: the knowledge base
    is every node of all of them, each with its text."""
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding

    from ragtel.analysis._knowledge_base import read_knowledge_base

    storage = StorageContext.from_defaults()
    embed = MockEmbedding(embed_dim=4)
    for name, count in (("policies", 3), ("manuals", 5)):
        documents = [Document(text=f"{name} 第{i}章") for i in range(count)]
        index = VectorStoreIndex.from_documents(documents, storage_context=storage,
                                                embed_model=embed)  # fmt: skip
        index.set_index_id(name)
    storage.persist(str(tmp_path))
    rows = list(read_knowledge_base(tmp_path))
    assert sorted(text or "" for _, text, _ in rows) == sorted(
        [f"policies 第{i}章" for i in range(3)] + [f"manuals 第{i}章" for i in range(5)]
    )
    assert all(vector.shape == (4,) for _, _, vector in rows)


def test_a_stores_texts_are_redacted_before_the_report_quotes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts in spans were redacted when recorded; a knowledge base's come straight from the
    store, and a credential pasted into a document must not reach summary.json or the report."""
    key = "sk-proj-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"
    dsn = "postgres://etl:" + "hunter2hunter2" + "@db.internal:5432/kb"
    stream = make_stream(seed=0)
    spans = tmp_path / "spans.jsonl"
    write_otlp_jsonl(stream, str(spans), documents=False)
    kb = tmp_path / "kb.jsonl"
    with open(kb, "w", encoding="utf-8") as out:
        for i, row in enumerate(stream.documents):
            text = f"手順 {i}: call the API with {key} and load from {dsn}"
            out.write(json.dumps({"id": f"doc-{i}", "text": text, "vector": row.tolist()}) + "\n")
    base = ["drift", str(spans), "--no-progress", "--knowledge-base", str(kb)]
    assert main([*base, "--out", str(tmp_path / "r")]) == EXIT_OK
    written = (tmp_path / "r" / "summary.json").read_text() + (
        tmp_path / "r" / "report.html"
    ).read_text()
    quoted = {d["text"] for g in json.loads((tmp_path / "r" / "summary.json").read_text())["gaps"]
              for d in g["nearest_documents"]}  # fmt: skip
    assert quoted and all(t.startswith("手順 ") and "[REDACTED]" in t for t in quoted)
    assert "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2" not in written and "hunter2hunter2" not in written
    # The user's own redaction applies too, as it does to what ragtel records.
    monkeypatch.setenv("RAGTEL_REDACT", "tests.unit.analysis.test_knowledge_base:_no_digits")
    assert main([*base, "--out", str(tmp_path / "r2")]) == EXIT_OK
    summary = json.loads((tmp_path / "r2" / "summary.json").read_text())
    texts = [d["text"] for g in summary["gaps"] for d in g["nearest_documents"]]
    assert texts and not any(c.isdigit() for t in texts for c in t)


def _no_digits(text: str) -> str:
    return "".join("#" if c.isdigit() else c for c in text)


def test_index_builds_in_the_traces_are_read_again_for_coverage(tmp_path: Path) -> None:
    """No --knowledge-base: the index build recorded in the traces is the reference. When it
    outgrows the sample, the source is read a second time for coverage against it all."""
    stream = make_stream(seed=2)
    spans = tmp_path / "spans.jsonl"
    trace_ids = write_otlp_jsonl(stream, str(spans))
    out = tmp_path / "r"
    assert main(["drift", str(spans), "--out", str(out), "--no-progress",
                 "--sample-size", "300"]) == EXIT_OK  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["knowledge_base"] == "index builds in the traces"
    assert summary["coverage"] == "all 720 documents, read a second time"
    assert summary["counts"]["sampled_documents"] == 300
    off = {t for t, o in zip(trace_ids, stream.off_topic, strict=True) if o}
    top = summary["gaps"][0]["trace_ids"]
    assert sum(t in off for t in top) / len(top) >= 0.9
