"""A LlamaIndex RAG app traced by ragtel (offline: the demo's local embedding and LLM).

OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 python examples/llamaindex_rag.py
"""

from __future__ import annotations

import ragtel
from ragtel.demo.corpus import QUESTIONS
from ragtel.demo.llamaindex_app import build_query_engine


def main() -> None:
    ragtel.configure(service_name="llamaindex-rag-example")
    ragtel.instrument()
    engine = build_query_engine()
    for question in QUESTIONS:
        print(question, "->", engine.query(question))
    print("last trace id:", ragtel.last_trace_id())


if __name__ == "__main__":
    main()
