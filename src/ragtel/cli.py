"""The ``ragtel`` command: ``ragtel demo`` and ``ragtel drift``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ragtel._version import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ragtel", description="OpenTelemetry traces and embedding drift for RAG pipelines."
    )
    parser.add_argument("--version", action="version", version=f"ragtel {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="run the built-in offline RAG pipeline and export its traces",
        description="Runs a small offline RAG pipeline (local embedding and chat model, no "
        "network), exports its spans over OTLP (--endpoint or OTEL_EXPORTER_OTLP_ENDPOINT) or, "
        "with neither, to an OTLP JSON-lines file, and prints each trace as a tree.",
    )
    demo.add_argument("--framework", choices=("langchain", "llamaindex"), default="langchain")
    demo.add_argument("--endpoint", help="OTLP endpoint, e.g. http://127.0.0.1:4317")
    demo.add_argument("--protocol", choices=("grpc", "http/protobuf"), help="OTLP protocol")
    demo.add_argument(
        "--out",
        default="ragtel-traces.jsonl",
        help="JSON-lines file when no endpoint is set (default: %(default)s)",
    )
    demo.add_argument(
        "--scenario",
        choices=("basic", "drift"),
        default="basic",
        help="drift: a query stream that drifts to a topic the corpus lacks",
    )
    demo.add_argument("--queries", type=int, default=400, help="queries in the drift scenario")
    demo.add_argument("--quiet", action="store_true", help="do not print the trace trees")
    demo.add_argument("--service-name", default="ragtel-demo")
    demo.set_defaults(func=_run_demo)

    try:
        from ragtel.analysis.cli import add_drift_parser
    except ImportError:
        pass
    else:
        add_drift_parser(commands)
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from ragtel.demo.run import DemoOptions, run_demo

    return run_demo(
        DemoOptions(
            framework=args.framework,
            endpoint=args.endpoint,
            protocol=args.protocol,
            out=args.out,
            scenario=args.scenario,
            queries=args.queries,
            print_trees=not args.quiet,
            service_name=args.service_name,
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValueError as error:  # configuration errors: a clear message, no traceback
        parser.exit(2, f"ragtel: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
