"""``--knowledge-base PATH``: document vectors from a file or a vector store's directory,
streamed one row or page at a time.

Files, by extension: ``.npy`` (a 2-D array of vectors, ids are row numbers, no texts; read in
chunks), ``.jsonl`` / ``.jsonl.gz`` (one ``{"id", "text", "vector"}`` object per line) and
``.parquet`` (columns ``id``, ``text``, ``vector``; needs pyarrow, the ``ragtel[parquet]`` extra).
Only ``vector`` is required. ``.json``: a LangChain ``InMemoryVectorStore.dump``. Directories: a
Chroma persistent directory (``chroma.sqlite3``; needs chromadb) or a local Qdrant store
(``meta.json``; needs qdrant-client), the ones ingestion jobs write with ``persist_directory=`` /
``path=``, read page by page; or a LlamaIndex storage directory (``storage_context.persist``).
URLs (``http://HOST:PORT``, ``https://…``): a Chroma server, read page by page over its API.
Rows stream into the analysis's bounded sample, so the knowledge base's size does not set the
memory used (the two JSON forms, written whole by in-memory stores, are read whole).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any
from urllib.parse import urlsplit

import numpy as np

from ragtel.analysis._sources import SourceError
from ragtel.monitor._stores import langchain_memory_rows, store_pages

Row = tuple[str, str | None, np.ndarray]
_NPY_CHUNK = 4096
_PARQUET_BATCH = 2048


def read_knowledge_base(path: str | Path, collection: str | None = None) -> Iterator[Row]:
    """(id, text, vector) per document of the file or store directory at ``path`` (``collection``
    picks one of a store's collections); SourceError when unreadable."""
    name = str(path).lower()
    if name.startswith(("http://", "https://")):
        return _chroma_server(str(path), collection)
    if Path(path).is_dir():
        return _store_directory(Path(path), collection)
    if collection is not None:
        raise SourceError(f"knowledge base {path}: a collection is chosen in a store's directory, "
                          "not in a file")  # fmt: skip
    if not Path(path).is_file():
        raise SourceError(f"knowledge base {path}: no such file or directory")
    if name.endswith(".npy"):
        return _npy(path)
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return _jsonl(path)
    if name.endswith(".parquet"):
        return _parquet(path)
    if name.endswith(".json"):
        return _langchain_dump(Path(path))
    raise SourceError(
        f"knowledge base {path}: unknown format; use .npy (vectors), .jsonl or .parquet "
        "(id, text, vector), a LangChain InMemoryVectorStore dump (.json), or a store's directory"
    )


def _store_directory(path: Path, collection: str | None) -> Iterator[Row]:
    # Opened and checked now, so a wrong directory or collection is reported before any span is
    # read; the pages are read as the analysis consumes the rows.
    if (path / "chroma.sqlite3").is_file():
        store, close = _chroma_at(path, collection)
    elif (path / "meta.json").is_file():
        store, close = _qdrant_at(path, collection)
    elif (path / _LLAMAINDEX_VECTORS).is_file():
        if collection is not None:
            raise SourceError(f"knowledge base {path}: a LlamaIndex storage directory has no "
                              "collections to choose from")  # fmt: skip
        return _llamaindex_storage(path)
    else:
        raise SourceError(
            f"knowledge base {path}: a directory, but neither a Chroma persistent directory "
            "(chroma.sqlite3), a local Qdrant store (meta.json) nor a LlamaIndex storage "
            f"directory ({_LLAMAINDEX_VECTORS})"
        )
    return _store_rows(store, close, path)


# What ``index.storage_context.persist(DIR)`` writes for LlamaIndex's default SimpleVectorStore.
_LLAMAINDEX_VECTORS = "default__vector_store.json"
_LLAMAINDEX_DOCSTORE = "docstore.json"


def _json_object(path: Path) -> dict[str, Any]:
    # These stores are single JSON objects, written whole by in-memory stores: read whole.
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except ValueError as error:
        raise SourceError(f"knowledge base {path}: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise SourceError(f"knowledge base {path}: expected a JSON object")
    return data


def _llamaindex_storage(path: Path) -> Iterator[Row]:
    """A LlamaIndex storage directory: node id -> vector from the vector store's file, the
    node's text from the docstore's (when that file is there)."""
    vectors = _json_object(path / _LLAMAINDEX_VECTORS).get("embedding_dict")
    if not isinstance(vectors, dict):
        raise SourceError(f"knowledge base {path / _LLAMAINDEX_VECTORS}: no 'embedding_dict'")
    texts: dict[str, str] = {}
    if (path / _LLAMAINDEX_DOCSTORE).is_file():
        nodes = _json_object(path / _LLAMAINDEX_DOCSTORE).get("docstore/data") or {}
        for node_id, node in nodes.items() if isinstance(nodes, dict) else ():
            text = node.get("__data__", {}).get("text") if isinstance(node, dict) else None
            if isinstance(text, str):
                texts[node_id] = text
    where = f"knowledge base {path / _LLAMAINDEX_VECTORS}"
    for node_id, vector in vectors.items():
        yield str(node_id), texts.get(node_id), _vector(vector, f"{where}, node {node_id}")


def _langchain_dump(path: Path) -> Iterator[Row]:
    """``InMemoryVectorStore.dump(path)``: the store's entries as JSON."""
    for key, text, vector in langchain_memory_rows(_json_object(path)):
        where = f"knowledge base {path}, entry {key!r}"
        if vector is None:
            raise SourceError(f"{where}: expected an object with 'vector' (and 'id', 'text'), "
                              "as InMemoryVectorStore.dump writes")  # fmt: skip
        yield key, text, _vector(vector, where)


def _pick(path: Path | str, names: list[str], collection: str | None, kind: str) -> str:
    if collection is not None:
        if collection not in names:
            raise SourceError(f"knowledge base {path}: no {kind} collection {collection!r} "
                              f"(it has {', '.join(sorted(names)) or 'none'})")  # fmt: skip
        return collection
    if len(names) != 1:
        raise SourceError(
            f"knowledge base {path}: the {kind} store has {len(names)} collections "
            f"({', '.join(sorted(names)) or 'none'}); choose one with --knowledge-base-collection"
        )
    return names[0]


def _opened(path: Path | str, kind: str, package: str, open_store: Callable[[], Any]) -> Any:
    """``open_store()``, which imports the store's client and opens it, or a SourceError that
    says what is missing or what the client said."""
    try:
        return open_store()
    except ImportError:
        raise SourceError(f"knowledge base {path}: reading a {kind} store needs {package}: "
                          f"pip install {package}") from None  # fmt: skip
    except Exception as error:  # each client raises its own error types
        # A client may quote a whole HTML error page: one line of it is enough.
        said = " ".join(str(error).split())
        said = said if len(said) <= 200 else said[:197] + "..."
        hint = f"; is it a {kind} server?" if str(path).startswith(("http://", "https://")) else ""
        raise SourceError(f"knowledge base {path}: {kind} cannot open it ({said}){hint}") from None


def _chroma_at(path: Path, collection: str | None) -> tuple[Any, Callable[[], None]]:
    def client() -> Any:
        import chromadb
        from chromadb.config import Settings

        return chromadb.PersistentClient(
            path=str(path), settings=Settings(anonymized_telemetry=False)
        )

    return _chroma_collection(path, client, collection), lambda: None


def _chroma_server(url: str, collection: str | None) -> Iterator[Row]:
    """A Chroma server (``chroma run``, or Chroma's Docker image) at ``url``."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.username or parts.password:
        # The address is quoted in summary.json and the report: no credentials in it.
        raise SourceError("knowledge base URL: credentials in the URL are not supported")
    if not parts.hostname or port == -1 or parts.path.strip("/") or parts.query:
        raise SourceError(f"knowledge base {url}: expected a Chroma server's address, "
                          "http://HOST:PORT or https://HOST:PORT")  # fmt: skip
    secure = parts.scheme == "https"

    def client() -> Any:
        import chromadb
        from chromadb.config import Settings

        return chromadb.HttpClient(
            host=parts.hostname or "",
            port=port or (443 if secure else 8000),  # 8000: the port `chroma run` listens on
            ssl=secure,
            settings=Settings(anonymized_telemetry=False),
        )

    return _store_rows(_chroma_collection(url, client, collection), lambda: None, url)


def _chroma_collection(where: Path | str, client: Callable[[], Any], collection: str | None) -> Any:
    """The chosen collection of the Chroma store ``client()`` opens."""

    def open_store() -> tuple[Any, list[str]]:
        opened = client()
        return opened, [c if isinstance(c, str) else c.name for c in opened.list_collections()]

    opened, names = _opened(where, "Chroma", "chromadb", open_store)
    return opened.get_collection(_pick(where, names, collection, "Chroma"))


def _qdrant_at(path: Path, collection: str | None) -> tuple[Any, Callable[[], None]]:
    def open_store() -> Any:
        from qdrant_client import QdrantClient

        return QdrantClient(path=str(path))  # fails when another process holds the store's lock

    client = _opened(path, "Qdrant", "qdrant-client", open_store)
    try:
        names = [c.name for c in client.get_collections().collections]
        name = _pick(path, names, collection, "Qdrant")
    except BaseException:
        client.close()
        raise
    return SimpleNamespace(client=client, collection_name=name), client.close


def _store_rows(store: Any, close: Callable[[], None], location: Path | str) -> Iterator[Row]:
    """The rows of an opened Chroma collection or Qdrant store, read page by page as consumed;
    ``close`` runs when they are done."""
    pages = store_pages(store)
    if pages is None:  # every store opened here is one store_pages reads
        close()
        raise SourceError(f"knowledge base {location}: the store cannot be read")
    return _rows(pages, close, f"knowledge base {location}")


def _rows(pages: Iterator[Any], close: Callable[[], None], where: str) -> Iterator[Row]:
    try:
        for ids, texts, vectors in pages:
            for id_, text, vector in zip(ids, texts, vectors, strict=True):
                yield str(id_), text, _vector(vector, f"{where}, document {id_}")
    except SourceError:
        raise
    except Exception as error:  # the store's client failing mid-read
        raise SourceError(f"{where}: reading failed ({error})") from None
    finally:
        close()


def _vector(value: Any, where: str) -> np.ndarray:
    try:
        vector = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise SourceError(f"{where}: 'vector' is not a list of numbers") from None
    if vector.ndim != 1 or not vector.size or not np.isfinite(vector).all():
        raise SourceError(f"{where}: 'vector' must be a non-empty list of finite numbers")
    return vector


def _npy(path: str | Path) -> Iterator[Row]:
    # Read in chunks rather than memory-mapped: pages of a mapped file count in the resident set
    # once touched, so a large file would be held whole.
    with open(path, "rb") as handle:
        try:
            version = np.lib.format.read_magic(handle)
            header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = header(handle)
        except ValueError as error:
            raise SourceError(f"knowledge base {path}: not a .npy array ({error})") from None
        if len(shape) != 2 or fortran or dtype.hasobject:
            raise SourceError(
                f"knowledge base {path}: expected a 2-D numeric array (documents x dimension)"
            )
        rows, dim = shape
        for start in range(0, rows, _NPY_CHUNK):
            count = min(_NPY_CHUNK, rows - start)
            chunk = np.fromfile(handle, dtype=dtype, count=count * dim)
            if chunk.size != count * dim:
                raise SourceError(f"knowledge base {path}: file ends before row {start + count}")
            rows_of_chunk = chunk.reshape(count, dim).astype(np.float32)
            if not np.isfinite(rows_of_chunk).all():
                bad = int(np.flatnonzero(~np.isfinite(rows_of_chunk).all(axis=1))[0])
                raise SourceError(f"knowledge base {path}: row {start + bad} is not finite")
            for offset in range(count):
                # A copy: a view would keep its whole chunk alive while the sample holds it.
                yield str(start + offset), None, rows_of_chunk[offset].copy()


def _jsonl(path: str | Path) -> Iterator[Row]:
    opener: Any = gzip.open if str(path).lower().endswith(".gz") else open
    handle: IO[str]
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"knowledge base {path}, line {number}"
            try:
                item = json.loads(line)
            except ValueError as error:
                raise SourceError(f"{where}: not JSON ({error})") from None
            if not isinstance(item, dict) or "vector" not in item:
                raise SourceError(f"{where}: expected an object with 'vector' (and 'id', 'text')")
            text = item.get("text")
            yield (
                str(item.get("id", number - 1)),
                text if isinstance(text, str) else None,
                _vector(item["vector"], where),
            )


def _parquet(path: str | Path) -> Iterator[Row]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SourceError(
            f"knowledge base {path}: reading .parquet needs pyarrow: "
            "pip install 'ragtel[parquet]' (or pass .npy or .jsonl)"
        ) from None
    try:
        reader = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises its own error types
        raise SourceError(f"knowledge base {path}: not a parquet file ({error})") from None
    columns = set(reader.schema_arrow.names)
    if "vector" not in columns:
        raise SourceError(f"knowledge base {path}: no 'vector' column (has {sorted(columns)})")
    wanted = [c for c in ("id", "text", "vector") if c in columns]
    row = 0
    for batch in reader.iter_batches(batch_size=_PARQUET_BATCH, columns=wanted):
        data = batch.to_pydict()
        ids = data.get("id") or [None] * batch.num_rows
        texts = data.get("text") or [None] * batch.num_rows
        for id_, text, vector in zip(ids, texts, data["vector"], strict=True):
            where = f"knowledge base {path}, row {row}"
            yield (
                str(id_) if id_ is not None else str(row),
                text if isinstance(text, str) else None,
                _vector(vector, where),
            )
            row += 1
