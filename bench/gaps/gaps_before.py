# The knowledge-gap method before issue 13 (ragtel.analysis.gaps at 651e2b7), kept verbatim so
# bench/gaps/evaluate.py can compare it with the current one in the same run.
"""Knowledge gaps: groups of queries that the context (knowledge base) does not cover.

Method (chosen by measured precision/recall, see ``tests/unit/analysis/test_real_embeddings.py``
and ``bench/real_embeddings/measure_gaps.py``):

1. Project queries and context together: unit-normalise, remove the joint mean (real embedding
   models share a large common direction that says nothing about topics), keep the top
   principal components, re-normalise. Topics live in a low-dimensional subspace; most of the
   rest is per-text noise, and dropping it makes neighbourhoods meaningful.
2. Coverage of each query: cosine similarity to its nearest context vector.
3. Smooth coverage over each query's nearest queries. A question of a missing topic has other
   questions of that topic around it, all poorly covered, so its smoothed coverage stays low;
   a vague or unusual on-topic question (the scattered outlier that density clustering used to
   report) has covered questions around it, and smoothing lifts it back into the bulk.
4. Flag queries whose smoothed coverage is a low outlier (median - z * robust sigma).
5. Group flagged queries by connected components of the query neighbour graph, so one missing
   topic comes out as one group rather than many small ones; drop groups below a minimum size.
6. Rank groups by query share (q - d) / (q + d), d counting context vectors inside the group's
   radius, then by size.

Alternatives measured and rejected: k-nearest-neighbour document fraction (confounded by the
query/document count ratio: flags whole popular topics), Otsu's threshold on smoothed coverage
(high recall, but on real MiniLM vectors it splits the bulk, precision ~0.35).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_BLOCK = 512  # rows per similarity block: bounds memory at BLOCK x n floats (and int64 indices)


@dataclass(frozen=True, slots=True)
class GapParams:
    """Tuning of :func:`find_gaps`; the defaults are the measured ones.

    Attributes:
        dims: principal components kept for the joint projection.
        neighbours: query neighbours used for smoothing and grouping; None scales it with the
            number of queries (sqrt(n)/2, between 5 and 25), since a missing topic in a small
            sample has few questions and a wide neighbourhood would dilute it.
        z: how many robust standard deviations below the median a smoothed coverage must be.
        min_size: smallest group reported; None means max(4, 1% of the queries).
        merge_similarity: groups whose centres are at least this similar are one topic.
        min_query_share: report only groups whose query share exceeds this (0.6 = at least
            four queries per context vector in the group's region): measured, 0.5 let one
            covered-topic tail through in 5 streams with no missing topic; 0.6 removes all and
            keeps every real and synthetic gap found.
    """

    dims: int = 32
    neighbours: int | None = None
    z: float = 2.0
    min_size: int | None = None
    merge_similarity: float = 0.35
    min_query_share: float = 0.6


@dataclass(frozen=True, slots=True)
class GapCluster:
    """One knowledge gap.

    Attributes:
        queries: indices (into the query array) of its queries, most typical first.
        documents: number of context vectors inside its radius.
        query_share: (queries - documents) / (queries + documents), 1.0 = only queries.
        coverage: mean similarity of its queries to their nearest context vector.
    """

    queries: np.ndarray
    documents: int
    query_share: float
    coverage: float


@dataclass(frozen=True, slots=True)
class GapAnalysis:
    """Result of :func:`find_gaps`.

    Attributes:
        clusters: gap clusters, best first (highest query share, then largest).
        coverage: per query, cosine similarity (in the projection) to the nearest context vector.
        smoothed: per query, coverage averaged over its neighbourhood.
        threshold: smoothed coverage below which a query was flagged.
        query_xy: 2-D map coordinates of the queries.
        document_xy: 2-D map coordinates of the context vectors.
    """

    clusters: list[GapCluster]
    coverage: np.ndarray
    smoothed: np.ndarray
    threshold: float
    query_xy: np.ndarray = field(repr=False)
    document_xy: np.ndarray = field(repr=False)


def project(queries: np.ndarray, documents: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Joint projection (step 1); returns unit float32 rows for queries and for documents."""
    joint = np.vstack([queries, documents]).astype(np.float64)
    norms = np.linalg.norm(joint, axis=1, keepdims=True)
    joint /= np.where(norms > 0, norms, 1.0)
    joint -= joint.mean(axis=0)
    # The right singular vectors of the centred data are the principal axes; economy SVD of an
    # (n, d) matrix costs O(n d^2), fine for the bounded samples this runs on.
    _, _, axes = np.linalg.svd(joint, full_matrices=False)
    keep = min(dims, axes.shape[0])
    reduced = joint @ axes[:keep].T
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    reduced /= np.where(norms > 0, norms, 1.0)
    reduced = reduced.astype(np.float32)
    return reduced[: len(queries)], reduced[len(queries) :]


def nearest_similarity(rows: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per row, the largest dot product with any reference row (blocked for memory)."""
    out = np.empty(len(rows), dtype=np.float32)
    for start in range(0, len(rows), _BLOCK):
        out[start : start + _BLOCK] = (rows[start : start + _BLOCK] @ reference.T).max(axis=1)
    return out


def query_neighbours(rows: np.ndarray, k: int) -> np.ndarray:
    """Indices of each row's ``k`` most similar other rows, most similar first (blocked)."""
    n = len(rows)
    k = min(k, n - 1)
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, _BLOCK):
        sims = rows[start : start + _BLOCK] @ rows.T
        block = np.arange(start, min(start + _BLOCK, n))
        sims[block - start, block] = -np.inf
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1)
        out[block] = np.take_along_axis(top, order, axis=1)
    return out


def _components(flagged: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Connected components of the flagged queries in the (symmetrised) neighbour graph.

    Returns a label per query, -1 for unflagged ones.
    """
    n = len(flagged)
    parent = np.arange(n)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    sources = np.repeat(np.arange(n), neighbours.shape[1])
    targets = neighbours.ravel()
    keep = flagged[sources] & flagged[targets]
    for a, b in zip(sources[keep].tolist(), targets[keep].tolist(), strict=True):
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[root_a] = root_b
    labels = np.array([find(i) for i in range(n)])
    return np.where(flagged, labels, -1)


def _merge_close(labels: np.ndarray, rows: np.ndarray, similarity: float) -> np.ndarray:
    """Merge groups whose centres point the same way: one topic's questions can form two
    components when a thin bridge of questions was not flagged."""
    labels = labels.copy()
    while True:
        ids = np.unique(labels[labels >= 0])
        if len(ids) < 2:
            return labels
        centres = np.array([rows[labels == i].mean(axis=0) for i in ids])
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        sims = centres @ centres.T
        np.fill_diagonal(sims, -np.inf)
        a, b = np.unravel_index(np.argmax(sims), sims.shape)
        if sims[a, b] < similarity:
            return labels
        labels[labels == ids[b]] = ids[a]


def _expand(labels: np.ndarray, neighbours: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Add unflagged, below-median queries most of whose neighbours belong to one group.

    Flagging is strict so that no covered region is reported; questions at the rim of a gap
    topic then miss the cut although their neighbourhood is clearly the gap's. One pass only:
    repeated passes would let a group creep into covered territory.
    """
    out = labels.copy()
    neighbour_labels = labels[neighbours]
    for query in np.flatnonzero((labels < 0) & eligible):
        row = neighbour_labels[query]
        row = row[row >= 0]
        if len(row) * 2 > neighbours.shape[1]:
            values, counts = np.unique(row, return_counts=True)
            out[query] = values[np.argmax(counts)]
    return out


def _map_axes(queries: np.ndarray, documents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    joint = np.vstack([queries, documents]).astype(np.float64)
    joint -= joint.mean(axis=0)
    _, _, axes = np.linalg.svd(joint, full_matrices=False)
    xy = joint @ axes[:2].T
    if xy.shape[1] < 2:
        xy = np.hstack([xy, np.zeros((len(xy), 2 - xy.shape[1]))])
    return xy[: len(queries)], xy[len(queries) :]


def find_gaps(
    queries: np.ndarray, documents: np.ndarray, params: GapParams | None = None
) -> GapAnalysis:
    """Find groups of queries the documents do not cover. See the module docstring."""
    p = params or GapParams()
    n_q = len(queries)
    if n_q < 3 or len(documents) == 0:
        empty = np.zeros(n_q, dtype=np.float32)
        return GapAnalysis([], empty, empty, float("nan"), np.zeros((n_q, 2)),
                           np.zeros((len(documents), 2)))  # fmt: skip
    zq, zd = project(queries, documents, p.dims)
    coverage = nearest_similarity(zq, zd)
    k = p.neighbours or int(np.clip(round(np.sqrt(n_q) / 2), 5, 25))
    neighbours = query_neighbours(zq, k)
    smoothed = (coverage + coverage[neighbours].sum(axis=1)) / (neighbours.shape[1] + 1)
    median = float(np.median(smoothed))
    sigma = 1.4826 * float(np.median(np.abs(smoothed - median)))
    threshold = median - p.z * sigma
    flagged = smoothed < threshold
    min_size = p.min_size or max(4, int(np.ceil(0.01 * n_q)))
    labels = _components(flagged, neighbours)
    labels = _merge_close(labels, zq, p.merge_similarity)
    labels = _expand(labels, neighbours, smoothed < median)
    clusters = []
    for label in np.unique(labels[labels >= 0]):
        members = np.flatnonzero(labels == label)
        if len(members) < min_size:
            continue
        cluster = _describe(members, zq, zd, coverage)
        if cluster.query_share > p.min_query_share:
            clusters.append(cluster)
    clusters.sort(key=lambda c: (-c.query_share, -len(c.queries)))
    query_xy, document_xy = _map_axes(zq, zd)
    return GapAnalysis(clusters, coverage, smoothed, threshold, query_xy, document_xy)


def _describe(
    members: np.ndarray, zq: np.ndarray, zd: np.ndarray, coverage: np.ndarray
) -> GapCluster:
    centre = zq[members].mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-12)
    member_sims = zq[members] @ centre
    # A context vector counts as inside the group when it is at least as close to the group's
    # centre as the group's own outer decile of queries.
    radius = float(np.quantile(member_sims, 0.1))
    documents = int((zd @ centre >= radius).sum())
    q = len(members)
    return GapCluster(
        queries=members[np.argsort(-member_sims)],
        documents=documents,
        query_share=(q - documents) / (q + documents),
        coverage=float(coverage[members].mean()),
    )
