"""Gap finders compared by the evaluation, each as ``(queries, documents) -> ranked gaps``.

A method returns the gaps it reports, best first, each as an array of query indices. The
baselines report every cluster whose queries stand nearly alone: its normalised query share
(queries against documents, documents weighted so both sides have equal total mass) is at least
``SHARE``. Only the ranking matters for precision and recall of the top gap; ``SHARE`` decides
what a baseline reports when nothing is missing.

- ``ragtel``: the library's :func:`ragtel.analysis.gaps.find_gaps` as it stands in this checkout.
- ``ragtel (before)``: the method it replaced (issue 13), kept verbatim in ``gaps_before.py``.
- ``umap-hdbscan``: Phoenix's embedding view (UMAP to 3 dimensions, n_neighbors 15, min_dist 0,
  then HDBSCAN with min_cluster_size 10, min_samples 1, its UI defaults) over queries and
  documents together; clusters ranked by query share.
- ``kmeans``: k-means over queries and documents together, k from 2 to 20 chosen by silhouette
  (cosine); clusters ranked by query share.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Method = Callable[[np.ndarray, np.ndarray], list[np.ndarray]]
SHARE = 0.8
MIN_QUERIES = 4


def _ranked_by_share(labels: np.ndarray, n_queries: int, n_documents: int) -> list[np.ndarray]:
    query_labels, doc_labels = labels[:n_queries], labels[n_queries:]
    weight = n_queries / max(n_documents, 1)  # a document counts as this many queries
    gaps = []
    for label in np.unique(query_labels[query_labels >= 0]):
        members = np.flatnonzero(query_labels == label)
        documents = int((doc_labels == label).sum()) * weight
        share = len(members) / (len(members) + documents)
        if share >= SHARE and len(members) >= MIN_QUERIES:
            gaps.append((share, len(members), members))
    gaps.sort(key=lambda g: (-g[0], -g[1]))
    return [g[2] for g in gaps]


def ragtel_current(queries: np.ndarray, documents: np.ndarray) -> list[np.ndarray]:
    from ragtel.analysis.gaps import find_gaps

    return [c.queries for c in find_gaps(queries, documents).clusters]


def ragtel_all_documents(
    queries: np.ndarray, documents: np.ndarray, whole: np.ndarray
) -> list[np.ndarray]:
    """ragtel given a sample of the knowledge base, coverage measured against all of it (what
    ``ragtel drift --knowledge-base`` does when the knowledge base outgrows its sample)."""
    from ragtel.analysis.gaps import find_gaps

    chunks = lambda: (whole[i : i + 4096] for i in range(0, len(whole), 4096))  # noqa: E731
    return [c.queries for c in find_gaps(queries, documents, all_documents=chunks).clusters]


# Methods that also take the whole knowledge base beside the sample they are given.
TAKES_WHOLE = {"ragtel (all documents)"}


def ragtel_before(queries: np.ndarray, documents: np.ndarray) -> list[np.ndarray]:
    from gaps_before import find_gaps

    return [c.queries for c in find_gaps(queries, documents).clusters]


def umap_hdbscan(queries: np.ndarray, documents: np.ndarray) -> list[np.ndarray]:
    import warnings

    import hdbscan
    import umap

    # A fixed random_state makes UMAP single-threaded; it says so on every call.
    warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)

    joint = np.vstack([queries, documents])
    points = umap.UMAP(n_components=3, n_neighbors=15, min_dist=0.0, random_state=0).fit_transform(
        joint
    )
    labels = hdbscan.HDBSCAN(min_cluster_size=10, min_samples=1).fit_predict(points)
    return _ranked_by_share(labels, len(queries), len(documents))


def kmeans_silhouette(queries: np.ndarray, documents: np.ndarray) -> list[np.ndarray]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    joint = np.vstack([queries, documents])
    best: tuple[float, np.ndarray] | None = None
    for k in range(2, 21):
        labels = KMeans(n_clusters=k, n_init=2, random_state=0).fit_predict(joint)
        score = silhouette_score(joint, labels, metric="cosine")
        if best is None or score > best[0]:
            best = (score, labels)
    assert best is not None
    return _ranked_by_share(best[1], len(queries), len(documents))


METHODS: dict[str, Method] = {
    "ragtel (before)": ragtel_before,
    "ragtel": ragtel_current,
    "ragtel (all documents)": ragtel_all_documents,  # type: ignore[dict-item]
    "umap-hdbscan": umap_hdbscan,
    "kmeans-silhouette": kmeans_silhouette,
}
