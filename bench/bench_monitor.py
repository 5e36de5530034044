"""Benchmarks of the embedding monitor and of ``ragtel drift``.

    python bench/bench_monitor.py monitor [--dim D]  # µs per document added, per query (dim 1536)
    python bench/bench_monitor.py drift [--spans N]  # spans/s and peak memory on N spans (1e6)
    python bench/bench_monitor.py drift --knowledge-base 1000000 --kb-format npy|jsonl
                                                     # the same with a knowledge-base file
    python bench/bench_monitor.py calibrate          # drift scores on the synthetic streams

The drift input is generated under .cache/bench/: RAG traces of 8 spans (chain, query
embedding, retriever, prompt, LLM, parser, two more chain steps), one in ten with a feedback
span, plus an indexing run embedding 5,000 documents in batches of 64. Vectors are 64-d to keep
the file near 1 GB; the reader's cost per vector scales with the dimension.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))  # tests.synthetic, the generator shared with the tests

from ragtel.monitor import EmbeddingMonitor, MonitorConfig  # noqa: E402

CACHE = ROOT / ".cache" / "bench"


def bench_monitor(dim: int = 1536, sample: int = 1000, queries: int = 5000) -> None:
    rng = np.random.default_rng(0)
    monitor = EmbeddingMonitor(MonitorConfig(sample_size=sample, seed=0))
    documents = rng.standard_normal((100 * sample, dim))
    texts = [f"passage {i} of the handbook, section {i % 97}" for i in range(len(documents))]
    start = time.perf_counter()
    for first in range(0, len(documents), 1000):  # an index build's embed_documents batches
        batch = slice(first, first + 1000)
        monitor.observe_context(documents[batch], texts=texts[batch])
    print(
        f"knowledge base: {(time.perf_counter() - start) / len(documents) * 1e6:.1f} µs per "
        f"document added ({len(documents):,} documents, batches of 1,000)"
    )
    # Lists of floats: what the integrations hold (vectors from an embedding API).
    stream = [row.tolist() for row in rng.standard_normal((queries, dim))]

    def noop(vector: list[float]) -> None:
        return None

    # The baseline forms over its first queries and is then analysed once (its principal
    # directions and their noise): timed apart, then the steady state per query.
    warm = monitor.config.baseline_size
    start = time.perf_counter()
    for v in stream[: warm - 1]:
        monitor.observe_query(v)
    formed = time.perf_counter()
    monitor.observe_query(stream[warm - 1])
    done = time.perf_counter()
    monitor.wait_for_baseline()
    analysed = time.perf_counter()
    print(
        f"baseline: {(formed - start) / (warm - 1) * 1e6:.1f} µs/query while it forms, "
        f"{(done - formed) * 1e3:.1f} ms for the query that completes it, "
        f"{(analysed - formed) * 1e3:.0f} ms until its analysis (on its own thread) is in force"
    )
    for fn, name in ((noop, "no-op baseline"), (monitor.observe_query, "observe_query")):
        for v in stream[:200]:  # warm-up; the window fills here too
            fn(v)
        start = time.perf_counter()
        for v in stream:
            fn(v)
        per = (time.perf_counter() - start) / len(stream) * 1e6
        print(f"{name:>16}: {per:8.1f} µs/query")
        if name == "no-op baseline":
            base = per
    print(
        f"added cost: {per - base:.1f} µs/query (dim {dim}, sample {sample}, "
        f"window {monitor.config.window_size}, baseline {monitor.config.baseline_size})"
    )
    ndarray = rng.standard_normal((queries, dim))
    start = time.perf_counter()
    for v in ndarray:
        monitor.observe_query(v)
    print(
        f"observe_query with numpy input: "
        f"{(time.perf_counter() - start) / queries * 1e6:.1f} µs/query"
    )
    # The drift alarm's own share (window, baseline comparison, whitened score), best of five:
    # on a shared machine the whole call's time swings by more than this part costs.
    tracker = monitor._tracker
    assert tracker is not None
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for v in ndarray[:1000]:
            tracker.update(v)
        best = min(best, (time.perf_counter() - start) / 1000 * 1e6)
    print(f"of which the drift alarm: {best:.1f} µs/query (best of 5 x 1,000)")


def _vec(row: np.ndarray) -> str:
    return ",".join(f'{{"doubleValue":{x:.6f}}}' for x in row)


def generate(path: Path, spans: int, dim: int = 64, docs: int = 5000) -> None:
    """Write ``spans`` spans of RAG traces as OTLP JSON lines (10 traces per line)."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((8, dim))
    kv = '{{"key":"{}","value":{{"stringValue":"{}"}}}}'
    res = '{"resourceSpans":[{"resource":{"attributes":[' + kv.format("service.name", "bench")
    res += ']},"scopeSpans":[{"scope":{"name":"ragtel"},"spans":['
    t0 = 1_700_000_000 * 10**9
    written = 0
    with open(path, "w") as out:
        for b in range(0, docs, 64):
            rows = centres[rng.integers(0, 8, 64)] + rng.standard_normal((64, dim))
            attrs = [
                kv.format("openinference.span.kind", "EMBEDDING"),
                kv.format("ragtel.embedding.role", "document"),
            ]
            for i, row in enumerate(rows):
                attrs.append(
                    f'{{"key":"embedding.embeddings.{i}.embedding.vector","value":'
                    f'{{"arrayValue":{{"values":[{_vec(row)}]}}}}}}'
                )
                attrs.append(kv.format(f"embedding.embeddings.{i}.embedding.text", f"doc {b + i}"))
            out.write(
                res + f'{{"traceId":"{b:032x}","spanId":"{b + 1:016x}","name":"embeddings",'
                f'"startTimeUnixNano":"{t0}","attributes":[{",".join(attrs)}]}}]}}]}}]}}\n'
            )
            written += 1
        trace = 0
        while written < spans:
            parts = []
            for _ in range(10):
                trace += 1
                t = t0 + trace * 10**9
                tid = f"{trace:032x}"
                q = centres[rng.integers(0, 8)] + rng.standard_normal(dim)
                names = [
                    "RunnableSequence",
                    "embeddings",
                    "retrieval",
                    "prompt",
                    "chat model",
                    "parser",
                    "format_docs",
                    "RunnablePassthrough",
                ]
                kinds = [
                    "CHAIN",
                    "EMBEDDING",
                    "RETRIEVER",
                    "PROMPT",
                    "LLM",
                    "CHAIN",
                    "CHAIN",
                    "CHAIN",
                ]
                if trace % 10 == 0:
                    names.append("feedback")
                    kinds.append("")
                for s, (name, kind) in enumerate(zip(names, kinds, strict=True)):
                    attrs = [kv.format("openinference.span.kind", kind)] if kind else []
                    if kind == "EMBEDDING":
                        attrs += [
                            kv.format("ragtel.embedding.role", "query"),
                            '{"key":"embedding.embeddings.0.embedding.vector","value":'
                            f'{{"arrayValue":{{"values":[{_vec(q)}]}}}}}}',
                            kv.format("embedding.embeddings.0.embedding.text", f"question {trace}"),
                        ]
                    elif kind == "LLM":
                        attrs += [
                            '{"key":"llm.token_count.total","value":{"intValue":"321"}}',
                            kv.format("llm.model_name", "gpt-4o-mini"),
                            kv.format("output.value", "An answer of some length " * 8),
                        ]
                    elif kind == "RETRIEVER":
                        attrs += [
                            kv.format(
                                f"retrieval.documents.{i}.document.content",
                                "retrieved passage text " * 10,
                            )
                            for i in range(4)
                        ]
                    elif name == "feedback":
                        attrs += [
                            kv.format("gen_ai.evaluation.name", "user_feedback"),
                            kv.format("gen_ai.evaluation.score.label", "thumbs_up"),
                            '{"key":"gen_ai.evaluation.score.value","value":{"doubleValue":1.0}}',
                        ]
                    parent = "" if s == 0 else f',"parentSpanId":"{trace:08x}00000000"'
                    parts.append(
                        f'{{"traceId":"{tid}","spanId":"{trace:08x}{s:08x}"{parent},'
                        f'"name":"{name}","kind":1,"startTimeUnixNano":"{t + s}",'
                        f'"endTimeUnixNano":"{t + s + 1000}",'
                        f'"attributes":[{",".join(attrs)}]}}'
                    )
                    written += 1
            out.write(res + ",".join(parts) + "]}]}]}\n")


def generate_knowledge_base(path: Path, documents: int, dim: int = 64) -> None:
    """A knowledge-base file of ``documents`` vectors around the same centres as the spans'."""
    rng = np.random.default_rng(1)
    centres = np.random.default_rng(0).standard_normal((8, dim))
    chunk = 100_000
    if path.suffix == ".npy":
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(documents, dim))
        for start in range(0, documents, chunk):
            n = min(chunk, documents - start)
            out[start : start + n] = centres[rng.integers(0, 8, n)] + rng.standard_normal((n, dim))
        out.flush()
        del out
        return
    with open(path, "w") as handle:
        for start in range(0, documents, chunk):
            n = min(chunk, documents - start)
            rows = centres[rng.integers(0, 8, n)] + rng.standard_normal((n, dim))
            for i, row in enumerate(rows):
                vector = ",".join(f"{x:.6f}" for x in row)
                text = f"passage {start + i} of the knowledge base"
                handle.write(f'{{"id":"doc-{start + i}","text":"{text}","vector":[{vector}]}}\n')


def bench_drift(spans: int, kb_documents: int = 0, kb_format: str = "npy") -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"spans-{spans}.jsonl"
    if not path.exists():
        start = time.perf_counter()
        generate(path, spans)
        print(f"generated {path} in {time.perf_counter() - start:.0f} s")
    options = ""
    if kb_documents:
        kb = CACHE / f"kb-{kb_documents}.{kb_format}"
        if not kb.exists():
            start = time.perf_counter()
            generate_knowledge_base(kb, kb_documents)
            print(f"generated {kb} in {time.perf_counter() - start:.0f} s")
        print(f"knowledge base: {kb.stat().st_size / 1e6:.0f} MB, {kb_documents:,} documents")
        options = f", '--knowledge-base', {str(kb)!r}"
    print(f"input: {path.stat().st_size / 1e6:.0f} MB")
    out = CACHE / "report"
    code = (
        "import resource, sys, time\n"
        "from ragtel.analysis.cli import main\n"
        "t = time.perf_counter()\n"
        f"rc = main(['drift', {str(path)!r}, '--out', {str(out)!r}, '--no-progress'{options}])\n"
        "print(f'elapsed {time.perf_counter() - t:.2f}')\n"
        "print(f'maxrss_kb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    print(result.stdout.strip())
    elapsed = float(result.stdout.split("elapsed ")[1].split()[0])
    rss = int(result.stdout.split("maxrss_kb ")[1].split()[0])
    print(f"ragtel drift: {spans / elapsed:,.0f} spans/s, peak RSS {rss / 1024:.0f} MiB")


def calibrate(seeds: int = 20) -> None:
    """The auto alarm's statistic on the synthetic streams; bench/gaps/drift.py has real ones."""
    from tests.synthetic import make_stream

    from ragtel.monitor._drift import ALARM_Z

    pre, post = [], []
    for seed in range(seeds):
        s = make_stream(seed=seed)
        m = EmbeddingMonitor(MonitorConfig(drift_threshold=None, seed=seed))
        m.observe_context(s.documents)
        values = []
        for q in s.queries:
            d = m.observe_query(q)
            m.wait_for_baseline()  # as if the next query came after the analysis finished
            values.append(np.nan if d is None or d.drift_score is None else d.drift_score)
        r = np.array(values)
        pre.append(np.nanmax(r[: s.change_at]))
        post.append(np.nanmax(r[s.change_at : s.change_at + 150]))
    print(f"drift score, no change (max over {seeds} streams): {max(pre):.2f}")
    print(f"drift score, peak within 150 queries of the change (min): {min(post):.2f}")
    print(f"auto limit: {ALARM_Z}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["monitor", "drift", "calibrate"])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--knowledge-base", type=int, default=0, metavar="DOCUMENTS")
    parser.add_argument("--kb-format", choices=["npy", "jsonl"], default="npy")
    parser.add_argument("--dim", type=int, default=1536, help="monitor: vector dimension")
    args = parser.parse_args()
    if args.what == "monitor":
        bench_monitor(dim=args.dim)
    elif args.what == "drift":
        bench_drift(args.spans, args.knowledge_base, args.kb_format)
    else:
        calibrate()


if __name__ == "__main__":
    main()
