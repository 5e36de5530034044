"""``--knowledge-base PATH``: document vectors from a file, streamed one row or batch at a time.

Formats, by extension: ``.npy`` (a 2-D array of vectors, ids are row numbers, no texts; read in
chunks), ``.jsonl`` / ``.jsonl.gz`` (one ``{"id", "text", "vector"}`` object per line) and
``.parquet`` (columns ``id``, ``text``, ``vector``; needs pyarrow, the ``ragtel[parquet]`` extra).
Only ``vector`` is required. Rows stream into the analysis's bounded sample, so the file's size
does not set the memory used.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ragtel.analysis._sources import SourceError

Row = tuple[str, str | None, np.ndarray]
_NPY_CHUNK = 4096
_PARQUET_BATCH = 2048


def read_knowledge_base(path: str | Path) -> Iterator[Row]:
    """(id, text, vector) per document of the file at ``path``; SourceError when unreadable."""
    name = str(path).lower()
    if not Path(path).is_file():
        raise SourceError(f"knowledge base {path}: no such file")
    if name.endswith(".npy"):
        return _npy(path)
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return _jsonl(path)
    if name.endswith(".parquet"):
        return _parquet(path)
    raise SourceError(
        f"knowledge base {path}: unknown format; use .npy (vectors), .jsonl or .parquet "
        "(id, text, vector)"
    )


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
