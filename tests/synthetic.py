"""Synthetic embedding streams with a known ground truth, for tests, benchmarks and demos.

The geometry imitates sentence embeddings rather than well-separated blobs: unit vectors made of
a component shared by everything (the anisotropy real models have), a topic direction, a
subtopic direction, a role direction (questions and passages sit apart even on one topic, as
they do with real models), and a large idiosyncratic part. With the default weights cosine
similarities come out like all-MiniLM-L6-v2's on the real text in ``bench/real_embeddings``:
about 0.05-0.15 across topics, 0.3-0.55 within a topic, questions closer to each other than to
passages. The missing topic shares part of its direction with one covered topic so that it is
near, not trivially apart. A few on-topic questions are vague (mostly idiosyncratic): the
scattered outliers a gap finder must not report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Weights:
    """Squared norms of each component of a vector before normalisation."""

    shared: float = 0.08
    topic: float = 0.08
    subtopic: float = 0.24
    role: float = 0.02
    noise: float = 0.58


@dataclass(frozen=True, slots=True)
class SyntheticStream:
    """Context vectors and a query stream with ground truth.

    Attributes:
        documents: ``(n_docs, dim)`` unit context vectors.
        document_topics: topic index of each document.
        queries: ``(n_queries, dim)`` unit query vectors, in stream order.
        query_topics: topic index of each query; ``missing_topic`` marks off-topic ones.
        off_topic: boolean mask of queries from the topic absent from the documents.
        vague: boolean mask of on-topic queries made mostly of noise (scattered outliers).
        change_at: index of the first query after which off-topic queries appear.
        missing_topic: index of the topic the documents lack.
    """

    documents: np.ndarray
    document_topics: np.ndarray
    queries: np.ndarray
    query_topics: np.ndarray
    off_topic: np.ndarray
    vague: np.ndarray
    change_at: int
    missing_topic: int


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def make_stream(
    *,
    seed: int = 0,
    dim: int = 384,
    topics: int = 6,
    subtopics: int = 12,
    documents_per_topic: int = 120,
    queries: int = 2000,
    change_at: int = 1000,
    off_topic_share: float = 0.3,
    vague_share: float = 0.04,
    missing_similarity: float = 0.35,
    shared_concepts: float = 0.5,
    weights: Weights | None = None,
) -> SyntheticStream:
    """Generate a stream whose queries, after ``change_at``, come from an uncovered topic at
    ``off_topic_share``.

    ``topics`` topics are in the corpus; one more (index ``topics``) is not. Topic popularity is
    uneven (Zipf-like), as in real traffic.
    """
    w = weights or Weights()
    rng = np.random.default_rng(seed)
    shared = _unit(rng.standard_normal(dim))
    roles = _unit(rng.standard_normal((2, dim)))  # 0 = query, 1 = document
    topic_dirs = _unit(rng.standard_normal((topics + 1, dim)))
    missing = topics
    # The missing topic is a neighbour of topic 0, not an unrelated direction.
    topic_dirs[missing] = _unit(
        missing_similarity * topic_dirs[0]
        + np.sqrt(1 - missing_similarity**2) * topic_dirs[missing]
    )
    sub_dirs = _unit(rng.standard_normal((topics + 1, subtopics, dim)))
    # Real off-topic questions still share concepts with covered ones ("sick" in leave and in
    # insurance questions): each subtopic of the missing topic leans on a covered subtopic.
    borrowed = sub_dirs[rng.integers(0, topics, subtopics), rng.integers(0, subtopics, subtopics)]
    sub_dirs[missing] = _unit(
        shared_concepts * borrowed + np.sqrt(1 - shared_concepts**2) * sub_dirs[missing]
    )

    def vectors(topic_ids: np.ndarray, role: int, noise_weight: np.ndarray) -> np.ndarray:
        n = len(topic_ids)
        subs = rng.integers(0, subtopics, size=n)
        noise = _unit(rng.standard_normal((n, dim)))
        # How strongly a text is "about" its topic varies a lot between real texts; a per-vector
        # factor reproduces the wide spread of within-topic similarities real models show.
        focus = (
            rng.uniform(0.45, 1.45, size=n)[:, None]
            * np.sqrt((1.0 - noise_weight) / (1.0 - w.noise))[:, None]
        )
        rows = (
            np.sqrt(w.shared) * shared
            + np.sqrt(w.role) * roles[role]
            + focus * np.sqrt(w.topic) * topic_dirs[topic_ids]
            + focus * np.sqrt(w.subtopic) * sub_dirs[topic_ids, subs]
            + np.sqrt(noise_weight)[:, None] * noise
        )
        return _unit(rows)

    doc_topics = np.repeat(np.arange(topics), documents_per_topic)
    docs = vectors(doc_topics, 1, np.full(len(doc_topics), w.noise))

    popularity = 1.0 / np.arange(1, topics + 1) ** 0.6
    popularity /= popularity.sum()
    query_topics = rng.choice(topics, size=queries, p=popularity)
    after = np.arange(queries) >= change_at
    off = after & (rng.random(queries) < off_topic_share)
    query_topics[off] = missing
    vague = ~off & (rng.random(queries) < vague_share)
    noise = np.where(vague, 0.9, w.noise)
    qs = vectors(query_topics, 0, noise)
    return SyntheticStream(
        documents=docs,
        document_topics=doc_topics,
        queries=qs,
        query_topics=query_topics,
        off_topic=off,
        vague=vague,
        change_at=change_at,
        missing_topic=missing,
    )


# ---------------------------------------------------------------------------------------------
# OTLP JSON-lines writer: the stream as the spans ragtel records


def _kv(key: str, value: object) -> dict[str, object]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, list):
        return {
            "key": key,
            "value": {"arrayValue": {"values": [{"doubleValue": v} for v in value]}},
        }
    return {"key": key, "value": {"stringValue": str(value)}}


def _span(trace: str, span: str, parent: str | None, name: str, start: int,
          attributes: list[dict[str, object]]) -> dict[str, object]:  # fmt: skip
    out: dict[str, object] = {
        "traceId": trace, "spanId": span, "name": name, "kind": 1,
        "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 1_000_000),
        "attributes": attributes,
    }  # fmt: skip
    if parent:
        out["parentSpanId"] = parent
    return out


def _request(service: str, spans: list[dict[str, object]]) -> dict[str, object]:
    return {"resourceSpans": [{
        "resource": {"attributes": [_kv("service.name", service)]},
        "scopeSpans": [{"scope": {"name": "ragtel"}, "spans": spans}],
    }]}  # fmt: skip


def write_otlp_jsonl(
    stream: SyntheticStream,
    path: str,
    *,
    service: str = "synthetic-rag",
    start_ns: int = 1_700_000_000 * 1_000_000_000,
    query_interval_ns: int = 60 * 1_000_000_000,
    texts: bool = True,
    feedback_share: float = 0.3,
    seed: int = 0,
    documents: bool = True,
) -> list[str]:
    """Write ``stream`` as OTLP JSON lines in the shape ragtel exports; return query trace ids.

    Documents are embedded first, in batches, by an indexing trace (role ``document``). Each
    query is one trace: a chain span, an EMBEDDING span with the query vector (role ``query``),
    a retriever span and an LLM span. A share of queries get a ``feedback`` span in their trace:
    thumbs-down for off-topic questions, mostly thumbs-up otherwise. With ``texts=False`` the
    embedding texts are left out, as when content capture is off; with ``documents=False`` the
    indexing trace is, as when the index was built by another process.
    """
    import json

    rng = np.random.default_rng(seed)
    trace_ids: list[str] = []
    with open(path, "w", encoding="utf-8") as out:
        batch = 64
        for b, first in enumerate(range(0, len(stream.documents) if documents else 0, batch)):
            trace = f"{0xD0C0000 + b:032x}"
            attrs = [_kv("openinference.span.kind", "EMBEDDING"),
                     _kv("ragtel.embedding.role", "document")]  # fmt: skip
            for i, row in enumerate(stream.documents[first : first + batch]):
                n = first + i
                attrs.append(_kv(f"embedding.embeddings.{i}.embedding.vector", row.tolist()))
                if texts:
                    topic = int(stream.document_topics[n])
                    attrs.append(_kv(f"embedding.embeddings.{i}.embedding.text",
                                     f"document {n} about topic {topic}"))  # fmt: skip
            spans = [_span(trace, f"{b + 1:016x}", None, "embeddings synthetic", start_ns, attrs)]
            out.write(json.dumps(_request(service, spans)) + "\n")
        for q, row in enumerate(stream.queries):
            trace = f"{q + 1:032x}"
            trace_ids.append(trace)
            t = start_ns + (q + 1) * query_interval_ns
            topic = int(stream.query_topics[q])
            kind = "off-topic" if stream.off_topic[q] else "on-topic"
            text = f"question {q} ({kind}, topic {topic})"
            root = f"{q:08x}00000001"
            embed_attrs = [
                _kv("openinference.span.kind", "EMBEDDING"),
                _kv("ragtel.embedding.role", "query"),
                _kv("embedding.embeddings.0.embedding.vector", row.tolist()),
            ]
            if texts:
                embed_attrs.append(_kv("embedding.embeddings.0.embedding.text", text))
            spans = [
                _span(trace, root, None, "RunnableSequence", t,
                      [_kv("openinference.span.kind", "CHAIN")]),
                _span(trace, f"{q:08x}00000002", root, "embeddings synthetic", t + 1000,
                      embed_attrs),
                _span(trace, f"{q:08x}00000003", root, "retrieval synthetic", t + 2000,
                      [_kv("openinference.span.kind", "RETRIEVER")]),
                _span(trace, f"{q:08x}00000004", root, "chat synthetic", t + 3000,
                      [_kv("openinference.span.kind", "LLM"), _kv("llm.token_count.total", 42)]),
            ]  # fmt: skip
            if rng.random() < feedback_share:
                bad = bool(stream.off_topic[q]) or rng.random() < 0.1
                spans.append(_span(trace, f"{q:08x}00000005", root, "feedback", t + 5000, [
                    _kv("gen_ai.evaluation.name", "user_feedback"),
                    _kv("gen_ai.evaluation.score.value", 0.0 if bad else 1.0),
                    _kv("gen_ai.evaluation.score.label", "thumbs_down" if bad else "thumbs_up"),
                ]))  # fmt: skip
            out.write(json.dumps(_request(service, spans)) + "\n")
    return trace_ids
