"""Per-invoke overhead of tracing a RAG pipeline: ragtel against the alternatives.

One run measures one framework's demo pipeline (``--framework``), each variant in a fresh subprocess
(instrumentors patch the framework globally):

  none          no tracing at all
  floor         one bare span per framework run (LangChain callback run, LlamaIndex dispatcher
                span), parented by the framework's parent id, no attributes
  ragtel        ragtel.instrument(): both conventions, documents, templates, tokens
  openinference openinference-instrumentation-langchain / -llama-index (if installed)
  openllmetry   opentelemetry-instrumentation-langchain / -llamaindex (if installed)

All variants export through a BatchSpanProcessor into an exporter that drops the spans, so the
figures are the cost paid inside the user's request. Workloads:

  langchain   ``chain.invoke(q)``: retriever (k=4) | format -> ChatPromptTemplate -> fake chat
              model -> StrOutputParser
  llamaindex  ``engine.query(q)`` on ``ragtel.demo.llamaindex_app.build_query_engine()``: vector
              retriever (top_k=3) -> response synthesizer -> chat template -> extractive chat model

Two methods:

  --method instructions (default)  instructions per invoke counted by valgrind's callgrind
      (deterministic: the same figure on an idle or a busy machine); each variant runs twice
      with instrumentation switched on only around the measured loop, and the difference of
      the two counts divided by the difference of invokes removes start-up and warm-up.
  --method cpu   process CPU time per invoke (median of interleaved rounds); noisy on 2 cores.

    python bench/bench_overhead.py [--framework langchain|llamaindex]
        [--method instructions|cpu] [--jobs N] [--variants none,floor,ragtel] [--json FILE]
        [--ragtel-from build/compiled]

ragtel is imported from the source tree (pure Python) unless ``--ragtel-from`` names the compiled
build (``make compiled``). The JSON goes to bench/results/overhead.json (langchain) or
overhead-llamaindex.json (llamaindex), with ``-compiled`` before ``.json`` for the compiled build.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
VARIANTS = ("none", "floor", "ragtel", "openinference", "openllmetry")
FRAMEWORKS = ("langchain", "llamaindex")
QUESTION = "How do I download my invoice?"
DEFAULT_JSON = {
    "langchain": "bench/results/overhead.json",
    "llamaindex": "bench/results/overhead-llamaindex.json",
}
# (framework, variant) -> the module and class of the third-party instrumentor.
INSTRUMENTORS = {
    ("langchain", "openinference"): (
        "openinference.instrumentation.langchain",
        "LangChainInstrumentor",
    ),
    ("langchain", "openllmetry"): (
        "opentelemetry.instrumentation.langchain",
        "LangchainInstrumentor",
    ),
    ("llamaindex", "openinference"): (
        "openinference.instrumentation.llama_index",
        "LlamaIndexInstrumentor",
    ),
    ("llamaindex", "openllmetry"): (
        "opentelemetry.instrumentation.llamaindex",
        "LlamaIndexInstrumentor",
    ),
}


def _workload(framework: str, callbacks: list):  # type: ignore[no-untyped-def]
    """One invoke of the framework's demo pipeline, as a call without arguments."""
    if framework == "llamaindex":
        from ragtel.demo.llamaindex_app import build_query_engine

        return functools.partial(build_query_engine().query, QUESTION)
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from ragtel.demo.langchain_app import build_chain

    chain = build_chain(model=FakeListChatModel(responses=["An answer from the context."]), k=4)
    config = {"callbacks": callbacks} if callbacks else {}
    return functools.partial(chain.invoke, QUESTION, config=config)


def _provider():  # type: ignore[no-untyped-def]
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Drop(SpanExporter):
        def export(self, spans):  # type: ignore[no-untyped-def]
            return SpanExportResult.SUCCESS

    from ragtel.config import TraceConfig
    from ragtel.export import span_limits_for

    provider = TracerProvider(span_limits=span_limits_for(TraceConfig()))
    provider.add_span_processor(BatchSpanProcessor(Drop(), max_queue_size=1 << 16))
    return provider


def _langchain_floor(provider):  # type: ignore[no-untyped-def]
    from langchain_core.callbacks import BaseCallbackHandler
    from opentelemetry import trace

    tracer = provider.get_tracer("floor")

    class Floor(BaseCallbackHandler):
        run_inline = True

        def __init__(self) -> None:
            self.spans: dict = {}

        def _start(self, run_id, parent_run_id, name="run"):  # type: ignore[no-untyped-def]
            parent = self.spans.get(parent_run_id)
            ctx = trace.set_span_in_context(parent) if parent is not None else None
            self.spans[run_id] = tracer.start_span(name, context=ctx)

        def _end(self, run_id):  # type: ignore[no-untyped-def]
            span = self.spans.pop(run_id, None)
            if span is not None:
                span.end()

        def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, **kw):  # type: ignore[no-untyped-def]
            self._start(run_id, parent_run_id)

        def on_chain_end(self, outputs, *, run_id, **kw):  # type: ignore[no-untyped-def]
            self._end(run_id)

        def on_retriever_start(self, serialized, query, *, run_id, parent_run_id=None, **kw):  # type: ignore[no-untyped-def]
            self._start(run_id, parent_run_id)

        def on_retriever_end(self, documents, *, run_id, **kw):  # type: ignore[no-untyped-def]
            self._end(run_id)

        def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, **kw):  # type: ignore[no-untyped-def]
            self._start(run_id, parent_run_id)

        def on_llm_end(self, response, *, run_id, **kw):  # type: ignore[no-untyped-def]
            self._end(run_id)

    return Floor()


def _llamaindex_floor(provider):  # type: ignore[no-untyped-def]
    """Registered on the root dispatcher: every LlamaIndex component's calls reach it."""
    from llama_index.core.instrumentation import get_dispatcher
    from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
    from opentelemetry import trace

    tracer = provider.get_tracer("floor")

    class Floor(BaseSpanHandler):
        # The OTel span of each open dispatcher span, by its id, kept in the base's open_spans;
        # enter/exit/drop are overridden so none of the base's own span objects are made.
        def span_enter(self, id_, bound_args, instance=None, parent_id=None, tags=None, **kw):  # type: ignore[no-untyped-def]
            parent = self.open_spans.get(parent_id) if parent_id is not None else None
            ctx = trace.set_span_in_context(parent) if parent is not None else None
            self.open_spans[id_] = tracer.start_span("run", context=ctx)

        def span_exit(self, id_, bound_args, instance=None, result=None, **kw):  # type: ignore[no-untyped-def]
            span = self.open_spans.pop(id_, None)
            if span is not None:
                span.end()

        def span_drop(self, id_, bound_args, instance=None, err=None, **kw):  # type: ignore[no-untyped-def]
            self.span_exit(id_, bound_args)

        def new_span(self, *args, **kw):  # type: ignore[no-untyped-def]
            return None

        def prepare_to_exit_span(self, *args, **kw):  # type: ignore[no-untyped-def]
            return None

        def prepare_to_drop_span(self, *args, **kw):  # type: ignore[no-untyped-def]
            return None

    get_dispatcher().add_span_handler(Floor())


def _setup(framework: str, variant: str):  # type: ignore[no-untyped-def]
    """The provider, and one invoke of the pipeline traced by ``variant``."""
    provider = _provider()
    callbacks: list = []
    if variant == "floor":
        if framework == "llamaindex":
            _llamaindex_floor(provider)
        else:
            callbacks = [_langchain_floor(provider)]
    elif variant == "ragtel":
        import ragtel
        from ragtel.config import TraceConfig

        ragtel.instrument(provider, TraceConfig(monitor=False))
    elif variant in ("openinference", "openllmetry"):
        module, name = INSTRUMENTORS[framework, variant]
        getattr(importlib.import_module(module), name)().instrument(tracer_provider=provider)
    return provider, _workload(framework, callbacks)


def run_instrumented(framework: str, variant: str, invokes: int) -> None:
    """Inside callgrind: warm up uncounted, then count ``invokes`` invokes."""
    import gc
    import os

    provider, invoke = _setup(framework, variant)
    for _ in range(30):
        invoke()
    # Start-up objects (imports differ by variant: llama_index, jinja2...) move out of the
    # collector's reach; otherwise whether one full collection of them falls inside the counted
    # window decides the figure (it once moved the floor by 0.6 M instructions per invoke).
    gc.collect()
    gc.freeze()
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], capture_output=True, check=False)
    for _ in range(invokes):
        invoke()
    provider.force_flush()  # the export thread's work counts too
    subprocess.run(["callgrind_control", "-i", "off", pid], capture_output=True, check=False)


def count_instructions(framework: str, variant: str, invokes: int, ragtel_from: str) -> int:
    proc = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--framework",
            framework,
            "--variant",
            variant,
            "--invokes",
            str(invokes),
            "--method",
            "instructions",
            "--ragtel-from",
            ragtel_from,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1].strip())
    last = (proc.stderr.strip().splitlines() or ["?"])[-1]
    raise RuntimeError(f"{variant}: {last}")


def run_variant(framework: str, variant: str, invokes: int) -> float:
    """CPU microseconds per invoke, all threads of the process (inside the subprocess).

    CPU time, not wall time: it counts the executor threads LangChain runs branches on, and stays
    meaningful on a busy 2-core machine where wall time swings by tens of percent.
    """
    provider, invoke = _setup(framework, variant)
    for _ in range(200):
        invoke()
    start = time.process_time()
    for _ in range(invokes):
        invoke()
    elapsed = (time.process_time() - start) / invokes * 1e6
    provider.shutdown()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--framework", choices=FRAMEWORKS, default="langchain")
    parser.add_argument("--invokes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--method", choices=("instructions", "cpu"), default="instructions")
    parser.add_argument("--jobs", type=int, default=1, help="valgrind runs at once (instructions)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="counts per variant (instructions); the median is reported, the spread printed",
    )
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help="comma-separated subset to run, e.g. none,floor,ragtel (default: all)",
    )
    parser.add_argument(
        "--ragtel-from",
        default=str(SRC),
        help="where ragtel is imported from: the source tree (default, pure Python) or the "
        "compiled build (`make compiled`: build/compiled)",
    )
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="default: " + ", ".join(DEFAULT_JSON.values()))
    args = parser.parse_args()
    sys.path.insert(0, args.ragtel_from)
    if args.variant:
        if args.method == "instructions":
            run_instrumented(args.framework, args.variant, args.invokes)
        else:
            print(json.dumps(run_variant(args.framework, args.variant, args.invokes)))
        return 0
    import ragtel

    args.build = "compiled" if ragtel.compiled() else "pure"
    default_json = DEFAULT_JSON[args.framework]
    if args.build == "compiled":
        default_json = default_json.replace(".json", "-compiled.json")
    args.json = args.json or default_json
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown or "none" not in args.variants.split(","):
        parser.error(f"--variants: unknown {sorted(unknown)}, or 'none' missing (the baseline)")
    args.variants = [v for v in VARIANTS if v in args.variants.split(",")]
    print(f"framework: {args.framework}; ragtel: {args.build}, from {args.ragtel_from}")
    if args.method == "instructions":
        return _instructions_main(args)
    # Rounds interleave the variants so that a burst of load elsewhere hits all of them alike.
    rounds: dict[str, list[float]] = {v: [] for v in args.variants}
    for _ in range(args.rounds):
        for variant in args.variants:
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--framework",
                    args.framework,
                    "--variant",
                    variant,
                    "--invokes",
                    str(args.invokes),
                    "--method",
                    "cpu",
                    "--ragtel-from",
                    args.ragtel_from,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["?"])[-1]
                rounds.pop(variant, None)
                print(f"{variant:14s} skipped: {last}")
                continue
            if variant in rounds:
                rounds[variant].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    variants_run = [v for v in args.variants if rounds.get(v)]
    medians: dict[str, float] = {}
    for variant in variants_run:
        medians[variant] = statistics.median(rounds[variant])
        print(
            f"{variant:14s} {medians[variant]:8.0f} µs/invoke  (rounds: "
            + ", ".join(f"{r:.0f}" for r in rounds[variant])
            + ")"
        )
    return _summarize(
        args, medians, "cpu_us", "µs/invoke", 1.0,
        {"invokes": args.invokes, "rounds": args.rounds},
    )  # fmt: skip


def _instructions_main(args: argparse.Namespace) -> int:
    low, high = 40, 240  # a wide spread averages out young-generation collections
    repeats = range(max(1, args.repeat))
    # Valgrind runs may overlap (--jobs) when iterating; counts still shift with load (thread
    # scheduling: up to about 0.15 M per invoke), so figures to compare come from --jobs 1, quiet.
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = {
            (variant, n, r): pool.submit(
                count_instructions, args.framework, variant, n, args.ragtel_from
            )
            for r in repeats
            for variant in args.variants
            for n in (low, high)
        }
        per_invoke: dict[str, float] = {}
        counted: dict[str, list[float]] = {}
        for variant in args.variants:
            try:
                counts = [
                    (runs[variant, high, r].result() - runs[variant, low, r].result())
                    / (high - low)
                    for r in repeats
                ]
            except RuntimeError as error:
                print(f"{variant:14s} skipped: {error}")
                continue
            counted[variant] = counts
            per_invoke[variant] = statistics.median(counts)
            spread = (
                f"  ({min(counts) / 1e6:.3f}-{max(counts) / 1e6:.3f})" if len(counts) > 1 else ""
            )
            print(f"{variant:14s} {per_invoke[variant] / 1e6:8.3f} M instructions/invoke{spread}")
    extra: dict = {"method": "callgrind instructions per invoke"}
    if len(repeats) > 1:
        extra["repeat"] = len(repeats)
        extra["counts_per_invoke"] = counted
    return _summarize(args, per_invoke, "instructions", "M instructions/invoke", 1e6, extra)


def _summarize(
    args: argparse.Namespace,
    per_invoke: dict[str, float],
    key: str,
    unit: str,
    scale: float,
    extra: dict,
) -> int:
    """Print what each variant adds over no tracing and the ratios; write the JSON summary."""
    base = per_invoke["none"]
    added = {k: v - base for k, v in per_invoke.items() if k != "none"}
    print()
    for variant, cost in added.items():
        print(f"{variant:14s} adds {cost / scale:7.3f} {unit}")
    summary: dict = {
        "framework": args.framework,
        "ragtel_build": args.build,
        **extra,
        f"per_invoke_{key}": per_invoke,
        f"added_{key}": added,
    }
    _ratios(summary, added)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def _ratios(summary: dict, added: dict[str, float]) -> None:
    pairs = [("floor", "<= 1.6"), ("openllmetry", "<= 0.5"), ("openinference", "")]
    for other, target in pairs:
        if "ragtel" in added and other in added:
            ratio = added["ragtel"] / added[other]
            summary[f"ragtel_vs_{other}"] = ratio
            print(f"ragtel / {other:14s} = {ratio:.2f}  {('target ' + target) if target else ''}")


if __name__ == "__main__":
    sys.exit(main())
