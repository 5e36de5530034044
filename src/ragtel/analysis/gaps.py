"""Knowledge gaps: groups of queries that the context (knowledge base) does not cover.

Method (chosen by measured precision/recall on real all-MiniLM-L6-v2 vectors of five text
collections, every topic held out in turn, against UMAP + HDBSCAN and k-means baselines: see
``bench/gaps/`` and the README):

1. Remove the joint mean of queries and context and re-normalise: real embedding models share a
   large common direction that says nothing about topics.
2. Coverage of each query: its best match among the context vectors, each context vector's
   similarity discounted by how close it sits to questions in general (cross-domain similarity
   local scaling, ``2 cos(q, d) - hub(d)``, hub(d) the mean similarity of its best-matching
   questions): some passages are near many questions (hubs) and would otherwise make
   questions look covered. Against every document of the knowledge base when the caller can
   read it again (``all_documents``), not only the sample: a sample drops most questions' own
   passages (mean F1 of the top gap over 17 runs at a 10% sample: 0.29, against 0.57 with
   every document; ``bench/gaps/evaluate.py --knowledge-base-share``).
3. Smoothed coverage: a few steps of ``keep * own + (1 - keep) * mean of the nearest
   questions' smoothed coverage``. One question's best match is a noisy witness (a covered
   question whose answer is worded differently scores low); its neighbours' agree when a whole
   region lacks documents. Measured on held-out topics, this raised the probability that a
   missing topic's question scores below a covered one from 0.83-0.86 to 0.89-0.90 on the
   public collections.
4. Candidates: queries whose smoothed coverage is a low outlier (below median - ``z`` robust
   sigma). Once groups beyond chance (step 6) exist at ``z``, looser outlier levels
   (``extend_z``) may extend them, as in hysteresis thresholding: at each looser level only the
   components that hold a detected group are kept, and the level whose largest kept group
   stands furthest above that level's chance size (in units of its square root) wins. How far
   below the bulk a missing topic's questions sit depends on the embedding model (with
   bge-small-en-v1.5 they sit closer than with all-MiniLM-L6-v2, so ``z`` = 1.3, tuned on MiniLM,
   flagged fewer of them); detection stays at ``z``, which keeps control runs clean, and the data
   decide how far a detected gap's threshold loosens. Measured (``bench/gaps/evaluate.py``,
   mean F1 of the top gap; designed on company and pyfaq, judged on perlfaq, pylib, pymod and
   zhman with both models): held-out 0.34 -> 0.40, design 0.59 -> 0.63, false control gaps
   7 -> 6 in total, though larger (119 -> 215 questions: a false group detected at ``z``
   extends too).
5. Seeds: candidates with at least ``support`` candidates among their nearest queries.
6. Group seeds by connected components of the query neighbour graph and keep only groups larger
   than poorly covered queries form by chance: the same seeds are drawn with the candidate flags
   shuffled over the queries (``permutations`` times) and a group must beat the ``quantile`` of
   the largest chance group. This is what keeps the list empty when nothing is missing.
   A missing topic that a third or more of the questions ask about moves the median itself: its
   questions are no outliers, and steps 4-6 find nothing or a sliver of it. So looser
   thresholds are tried too (quantiles of smoothed coverage, ``scan_quantiles``), with a seed's
   support raised to what a random query's neighbourhood does not reach at that share of
   candidates (``scan_tail``); a looser threshold replaces the outlier one only when its largest
   group clearly exceeds chance, holds a large share of its candidates and is at least twice the
   outlier threshold's largest group (``scan_min_*``). Measured: a synthetic stream where 35-40%
   of the queries ask about the missing topic gave no gap or 8% of it before, precision 1.00
   and recall 0.91-1.00 with the scan; the real collections' figures are unchanged or better.
7. Grow each group over queries whose own coverage is below the median and most of whose
   neighbours are already in it (the rim of a missing topic, whose questions share words with
   covered topics), merge groups whose centres point the same way, and rank by size.

Rejected, measured (the threshold's calibration to the embedding model, mean F1 of the top
gap on the held-out sets, against 0.34): a one-sided robust spread (the upper half of smoothed
coverage only) at the same ``z`` (0.29; company's precision 0.85); choosing ``z`` itself per
input by the largest excess over chance (0.46, but a false gap in every design control run and
company's precision 0.85: coverage varies between covered topics in a spatially coherent way
that no shuffle of the queries reproduces); a symmetric null mirrored from the upper half with
an estimated false-flag share (no lower-tail excess on the FAQs: falls back to ``z``); a null
that shuffles raw coverage before smoothing (no larger chance sizes than shuffled flags).
Earlier: nearest-context similarity smoothed over neighbours with no outlier test
(the method before issue 13; on real text neighbours are only about half of one topic, so it
blurs gaps into the bulk); a random walk from the context over the joint neighbour graph (good
where topics are tight, poor elsewhere); UMAP + HDBSCAN and k-means over queries and context
with clusters ranked by query share (questions and passages separate by style before topic, so
clusters mix topics); heavier smoothing (more recall, precision lost to neighbouring topics);
grouping over mutual nearest neighbours only; a linear map from questions into the documents'
space fitted on well-covered questions (it lowered the separation). Later: k-means over the
questions alone with the least covered cluster reported, and re-drawing the top gap along the
linear direction that separates it from well-covered questions (both worse on company); a
floor on a group's depth below the median, to drop the groups reported when nothing is missing
(they are as deep as true gaps: a floor removing all of them removes 20% of the true gaps with
MiniLM, 53% with bge-small; ``bench/gaps/ceiling.py --groups``). How far any method could go:
a logistic regression trained on the answers reaches precision 0.9 with recall 0.8 on three of
the nine collections only (``bench/gaps/ceiling.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from math import comb

import numpy as np

_BLOCK = 512  # rows per similarity block: bounds memory at BLOCK x n floats (and int64 indices)
_STREAM_CELLS = 1 << 21  # similarities per block of the second pass (8 MiB of float32)
_MAD_TO_SIGMA = 1.4826  # median absolute deviation of a normal distribution, in sigmas


@dataclass(frozen=True, slots=True)
class GapParams:
    """Tuning of :func:`find_gaps`; the defaults are the measured ones (tuned on one collection,
    checked on the others: see ``bench/gaps/``).

    Attributes:
        neighbours: query neighbours used for support, growth and grouping; None scales it with
            the number of queries (sqrt(n)/2, between 10 and 25).
        hub_neighbours: questions per context vector that set its hub level (step 2).
        smoothing_neighbours: nearest questions averaged in smoothing (step 3).
        smoothing_steps: smoothing steps; 0 uses each question's own coverage.
        smoothing_keep: weight of a question's own coverage in each step.
        z: how many robust standard deviations below the median a smoothed coverage must be
            to detect a gap (step 4); tuned on all-MiniLM-L6-v2, where it keeps control runs
            free of false gaps.
        extend_z: looser levels (robust standard deviations below the median) to which a gap
            detected at ``z`` may extend; the data choose among them, so the flagging threshold
            follows how close to the bulk the model puts a missing topic's questions. Empty
            uses ``z`` alone.
        scan_quantiles: looser candidate thresholds, as quantiles of smoothed coverage (step 4);
            empty uses ``z`` alone.
        scan_tail: at a scanned threshold a seed needs more candidate neighbours than a query
            has by chance at the candidates' share, with this probability (binomial tail).
        scan_min_excess: a scanned threshold's largest group must exceed the chance size by
            this many times the chance size (several thresholds tried find chance excess more
            often).
        scan_min_share: ... and hold at least this share of the threshold's candidates.
        scan_min_gain: ... and be at least this many times the largest group at ``z``.
        support: candidate neighbours a candidate needs to seed a gap (step 5).
        permutations: shuffles that estimate the chance group size (step 6); 0 disables it.
        quantile: quantile of the chance group size a group must exceed.
        grow_share: weight of a query's group neighbours against its covered ones (step 7).
        grow_passes: growth passes (bounded: each pass reaches one step further out).
        merge_similarity: groups whose centres are at least this similar are one topic.
        min_size: smallest group reported; None means max(4, 1% of the queries).
        seed: seed of the shuffles, so one input always gives one answer.
    """

    neighbours: int | None = None
    hub_neighbours: int = 10
    smoothing_neighbours: int = 10
    smoothing_steps: int = 3
    smoothing_keep: float = 0.5
    z: float = 1.3
    extend_z: tuple[float, ...] = (0.6, 0.8, 1.0, 1.2)
    scan_quantiles: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4)
    scan_tail: float = 0.01
    scan_min_excess: float = 2.0
    scan_min_share: float = 0.4
    scan_min_gain: float = 2.0
    support: int = 3
    permutations: int = 20
    quantile: float = 0.95
    grow_share: float = 0.5
    grow_passes: int = 10
    merge_similarity: float = 0.35
    min_size: int | None = None
    seed: int = 0


@dataclass(frozen=True, slots=True)
class GapCluster:
    """One knowledge gap.

    Attributes:
        queries: indices (into the query array) of its queries, most typical first.
        documents: number of context vectors inside its radius.
        query_share: (queries - documents) / (queries + documents), 1.0 = only queries.
        coverage: mean coverage (step 2) of its queries.
    """

    queries: np.ndarray
    documents: int
    query_share: float
    coverage: float


@dataclass(frozen=True, slots=True)
class GapAnalysis:
    """Result of :func:`find_gaps`.

    Attributes:
        clusters: gap clusters, best first (largest).
        coverage: per query, its coverage (step 2).
        support: per query, how many of its neighbours are candidates (step 5).
        threshold: smoothed coverage below which a query was a candidate.
        chance_size: group size that poorly covered queries reach by chance (step 6).
        query_xy: 2-D map coordinates of the queries.
        document_xy: 2-D map coordinates of the context vectors.
        coverage_documents: how many documents coverage was measured against (all of the
            knowledge base, or the sample passed).
    """

    clusters: list[GapCluster]
    coverage: np.ndarray
    support: np.ndarray
    threshold: float
    chance_size: float
    query_xy: np.ndarray = field(repr=False)
    document_xy: np.ndarray = field(repr=False)
    smoothed_coverage: np.ndarray | None = field(default=None, repr=False)
    coverage_documents: int = 0  # documents coverage was measured against


def centre(queries: np.ndarray, documents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step 1; returns unit float32 rows for queries and for documents."""
    mean = _joint_mean(queries, documents)
    return _centred(queries, mean), _centred(documents, mean)


def _joint_mean(queries: np.ndarray, documents: np.ndarray) -> np.ndarray:
    mean: np.ndarray = np.vstack([_unit(queries), _unit(documents)]).mean(axis=0)
    return mean


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64)
    unit: np.ndarray = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return unit


def _centred(rows: np.ndarray, mean: np.ndarray) -> np.ndarray:
    return _unit(_unit(rows) - mean).astype(np.float32)


def _top_mean(sims: np.ndarray, k: int) -> np.ndarray:
    k = min(k, sims.shape[1])
    top: np.ndarray = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
    means: np.ndarray = top.mean(axis=1)
    return means


def coverage(queries: np.ndarray, documents: np.ndarray, hub_neighbours: int) -> np.ndarray:
    """Step 2 on centred unit rows (blocked for memory)."""
    hub = np.empty(len(documents), dtype=np.float32)
    for start in range(0, len(documents), _BLOCK):
        hub[start : start + _BLOCK] = _top_mean(
            documents[start : start + _BLOCK] @ queries.T, hub_neighbours
        )
    out = np.empty(len(queries), dtype=np.float32)
    for start in range(0, len(queries), _BLOCK):
        sims = queries[start : start + _BLOCK] @ documents.T
        out[start : start + _BLOCK] = (2.0 * sims - hub[None, :]).max(axis=1)
    return out


def streamed_coverage(
    queries: np.ndarray, mean: np.ndarray, chunks: Iterable[np.ndarray], hub_neighbours: int
) -> tuple[np.ndarray, int]:
    """Step 2 against every document of ``chunks`` (raw vectors, read once), with ``queries``
    centred on ``mean``: each document's hub level depends on the queries alone, so a document
    can be scored and dropped as it arrives. Returns the coverage and the documents read."""
    out = np.full(len(queries), -np.inf, dtype=np.float32)
    read = 0
    block = max(1, _STREAM_CELLS // max(len(queries), 1))
    for chunk in chunks:
        rows = _centred(chunk, mean)
        read += len(rows)
        for start in range(0, len(rows), block):
            sims = rows[start : start + block] @ queries.T
            hub = _top_mean(sims, hub_neighbours)
            # In place: this pass runs beside the analysis's samples, within their memory.
            sims *= 2.0
            sims -= hub[:, None]
            np.maximum(out, sims.max(axis=0), out=out)
    if not read:
        raise ValueError("the knowledge base read again held no document vector")
    return out, read


def smooth(cover: np.ndarray, neighbours: np.ndarray, steps: int, keep: float) -> np.ndarray:
    """Step 3: each step mixes a query's own coverage with its neighbours' smoothed coverage."""
    out = cover.astype(np.float64)
    for _ in range(steps):
        out = keep * cover + (1.0 - keep) * out[neighbours].mean(axis=1)
    smoothed: np.ndarray = out.astype(np.float32)
    return smoothed


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


def _enriched_support(flagged_share: float, k: int, floor: int, tail: float) -> int:
    """Candidate neighbours a seed needs: at least ``floor``, and so many that a query with
    randomly placed candidates at ``flagged_share`` has that many with probability below
    ``tail`` (binomial). At a loose threshold a third of all queries are candidates and a fixed
    count is reached everywhere."""
    above = 1.0
    for count in range(k + 1):
        above -= comb(k, count) * flagged_share**count * (1 - flagged_share) ** (k - count)
        if above < tail:
            return max(floor, count + 1)
    return max(floor, k)


def _seeds(
    low: np.ndarray, neighbours: np.ndarray, support: int, tail: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Step 4 and the grouping of step 5: labels of seed groups and each query's support
    (with ``tail``, the support a seed needs grows with the share of candidates)."""
    counts = low[neighbours].sum(axis=1)
    need = support
    if tail is not None:
        need = _enriched_support(float(low.mean()), neighbours.shape[1], support, tail)
    return _components(low & (counts >= need), neighbours), counts


def _largest(labels: np.ndarray) -> int:
    members = labels[labels >= 0]
    return int(np.bincount(members).max()) if len(members) else 0


def _chance_size(
    low: np.ndarray, neighbours: np.ndarray, p: GapParams, tail: float | None = None
) -> float:
    """Quantile of the largest seed group when the low-coverage flags are shuffled."""
    if p.permutations <= 0:
        return 0.0
    rng = np.random.default_rng(p.seed)
    sizes = [
        _largest(_seeds(rng.permutation(low), neighbours, p.support, tail)[0])
        for _ in range(p.permutations)
    ]
    return float(np.quantile(sizes, p.quantile))


def _significance(largest: int, chance: float) -> float:
    """How far a largest group stands above the chance size, in units of the chance size's own
    (Poisson-like) spread: a raw excess would favour loose thresholds, whose chance groups are
    large and noisy."""
    return (largest - chance) / float(np.sqrt(max(chance, 1.0)))


def _extend(
    smoothed: np.ndarray,
    median: float,
    sigma: float,
    found: tuple[float, np.ndarray, np.ndarray, float],
    neighbours: np.ndarray,
    p: GapParams,
) -> tuple[float, np.ndarray, np.ndarray, float]:
    """Step 4's extension of groups detected at ``z`` to the looser level (``extend_z``) whose
    kept groups stand furthest above its chance size. Only components holding a detected group
    are kept, so a looser level extends gaps and never adds one."""
    _, labels, _, chance = found
    sizes = np.bincount(labels[labels >= 0], minlength=len(labels))
    detected = (labels >= 0) & (sizes[np.maximum(labels, 0)] > chance)
    if not detected.any():
        return found
    best, best_score = found, _significance(_largest(labels), chance)
    for z in p.extend_z:
        if z >= p.z:
            continue
        low = smoothed < median - z * sigma
        loose, support = _seeds(low, neighbours, p.support)
        # A detected seed stays a seed at a looser level: it has at least as many candidates.
        loose = np.where(np.isin(loose, np.unique(loose[detected])), loose, -1)
        score = _significance(_largest(loose), _chance_size(low, neighbours, p))
        if score > best_score:
            # The detection level's chance size stays the bar: every kept group exceeds it.
            best, best_score = (median - z * sigma, loose, support, chance), score
    return best


def _candidates(
    smoothed: np.ndarray, neighbours: np.ndarray, p: GapParams
) -> tuple[float, np.ndarray, np.ndarray, float]:
    """Steps 4-6's thresholds: the threshold, its seed labels, support and chance size."""
    median = float(np.median(smoothed))
    sigma = _MAD_TO_SIGMA * float(np.median(np.abs(smoothed - median)))
    outlier = median - p.z * sigma
    low = smoothed < outlier
    labels, support = _seeds(low, neighbours, p.support)
    outlier_largest = _largest(labels)
    best = _extend(
        smoothed, median, sigma, (outlier, labels, support, _chance_size(low, neighbours, p)),
        neighbours, p,
    )  # fmt: skip
    outlier = best[0]
    best_excess = _largest(best[1]) - best[3]
    # The scan only loosens: it is for the missing topic large enough to hide among outliers.
    for q in p.scan_quantiles:
        threshold = float(np.quantile(smoothed, q))
        if threshold <= outlier:
            continue
        low = smoothed < threshold
        labels, support = _seeds(low, neighbours, p.support, p.scan_tail)
        chance = _chance_size(low, neighbours, p, p.scan_tail)
        largest = _largest(labels)
        excess = largest - chance
        if (
            excess >= p.scan_min_excess * max(chance, 1.0)
            and largest >= p.scan_min_share * int(low.sum())
            and largest >= p.scan_min_gain * outlier_largest
            and excess > best_excess
        ):
            best, best_excess = (threshold, labels, support, chance), excess
    return best


def _grow(
    labels: np.ndarray, neighbours: np.ndarray, covered: np.ndarray, p: GapParams
) -> np.ndarray:
    """Step 6's growth: a query that is not itself covered joins the group that holds more of
    its neighbours than its covered neighbours number (``grow_share`` scales that count). A
    missing topic's rim queries have group members and other poorly covered queries around
    them; a covered topic's queries next to a gap have mostly covered neighbours and stay out.
    Bounded passes: each pass reaches one neighbourhood further out."""
    out = labels.copy()
    covered_counts = covered[neighbours].sum(axis=1)
    for _ in range(p.grow_passes):
        neighbour_labels = out[neighbours]
        joined = False
        for query in np.flatnonzero((out < 0) & ~covered):
            row = neighbour_labels[query]
            row = row[row >= 0]
            if not len(row):
                continue
            values, counts = np.unique(row, return_counts=True)
            best = int(np.argmax(counts))
            if counts[best] * p.grow_share > covered_counts[query]:
                out[query] = values[best]
                joined = True
        if not joined:
            break
    return out


def _merge_close(labels: np.ndarray, rows: np.ndarray, similarity: float) -> np.ndarray:
    """Merge groups whose centres point the same way: one topic's questions can form two
    components when a thin bridge of questions was not flagged."""
    labels = labels.copy()
    while True:
        ids = np.unique(labels[labels >= 0])
        if len(ids) < 2:
            return labels
        centres = np.array([rows[labels == i].mean(axis=0) for i in ids])
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        sims = centres @ centres.T
        np.fill_diagonal(sims, -np.inf)
        a, b = np.unravel_index(np.argmax(sims), sims.shape)
        if sims[a, b] < similarity:
            return labels
        labels[labels == ids[b]] = ids[a]


def _map_axes(queries: np.ndarray, documents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    joint = np.vstack([queries, documents]).astype(np.float64)
    joint -= joint.mean(axis=0)
    _, _, axes = np.linalg.svd(joint, full_matrices=False)
    xy = joint @ axes[:2].T
    if xy.shape[1] < 2:
        xy = np.hstack([xy, np.zeros((len(xy), 2 - xy.shape[1]))])
    return xy[: len(queries)], xy[len(queries) :]


def find_gaps(
    queries: np.ndarray,
    documents: np.ndarray,
    params: GapParams | None = None,
    *,
    all_documents: Callable[[], Iterable[np.ndarray]] | None = None,
) -> GapAnalysis:
    """Find groups of queries the documents do not cover. See the module docstring.

    ``documents`` may be a sample of the knowledge base; ``all_documents`` then reads all of it
    again, in chunks of raw vectors, and coverage (step 2) is measured against every document
    rather than the sample (a sample loses most questions' own answers: measured in
    ``bench/gaps/``, README). The sample still sets the centring and the map."""
    p = params or GapParams()
    n_q = len(queries)
    if n_q < 3 or len(documents) == 0:
        empty = np.zeros(n_q, dtype=np.float32)
        return GapAnalysis([], empty, np.zeros(n_q, dtype=np.int64), float("nan"), 0.0,
                           np.zeros((n_q, 2)), np.zeros((len(documents), 2)))  # fmt: skip
    mean = _joint_mean(queries, documents)
    zq, zd = _centred(queries, mean), _centred(documents, mean)
    if all_documents is None:
        cover, measured = coverage(zq, zd, p.hub_neighbours), len(documents)
    else:
        cover, measured = streamed_coverage(zq, mean, all_documents(), p.hub_neighbours)
    k = p.neighbours or int(np.clip(round(np.sqrt(n_q) / 2), 10, 25))
    neighbours = query_neighbours(zq, max(k, p.smoothing_neighbours))
    smoothed = smooth(cover, neighbours[:, : p.smoothing_neighbours], p.smoothing_steps,
                      p.smoothing_keep)  # fmt: skip
    neighbours = neighbours[:, :k]
    threshold, labels, support, chance = _candidates(smoothed, neighbours, p)
    sizes = np.bincount(labels[labels >= 0], minlength=n_q)
    labels = np.where((labels >= 0) & (sizes[np.maximum(labels, 0)] > chance), labels, -1)
    labels = _grow(labels, neighbours, cover >= float(np.median(cover)), p)
    labels = _merge_close(labels, zq, p.merge_similarity)
    # The size floor applies to grown groups: a missing topic's subtopic may seed small.
    min_size = p.min_size or max(4, int(np.ceil(0.01 * n_q)))
    clusters = [
        _describe(members, zq, zd, cover)
        for label in np.unique(labels[labels >= 0])
        if len(members := np.flatnonzero(labels == label)) >= min_size
    ]
    clusters.sort(key=lambda c: -len(c.queries))
    query_xy, document_xy = _map_axes(zq, zd)
    return GapAnalysis(clusters, cover, support, threshold, chance, query_xy, document_xy,
                       smoothed, measured)  # fmt: skip


def _describe(members: np.ndarray, zq: np.ndarray, zd: np.ndarray, cover: np.ndarray) -> GapCluster:
    centre_row = zq[members].mean(axis=0)
    centre_row /= max(float(np.linalg.norm(centre_row)), 1e-12)
    member_sims = zq[members] @ centre_row
    # A context vector counts as inside the group when it is at least as close to the group's
    # centre as the group's own outer decile of queries.
    radius = float(np.quantile(member_sims, 0.1))
    documents = int((zd @ centre_row >= radius).sum())
    q = len(members)
    return GapCluster(
        queries=members[np.argsort(-member_sims)],
        documents=documents,
        query_share=(q - documents) / (q + documents),
        coverage=float(cover[members].mean()),
    )
