"""Send what a new user's first hour makes over OTLP gRPC to 127.0.0.1:4317: both demos' questions
in a named session, feedback, a streamed answer from each framework and a failed run.

    python scripts/conformance/send_spans.py [on|off]     # content capture
"""

from __future__ import annotations

import contextlib
import sys

from langchain_core.runnables import RunnableLambda

import ragtel
from ragtel.config import TraceConfig
from ragtel.demo.corpus import QUESTIONS
from ragtel.demo.langchain_app import build_chain
from ragtel.demo.llamaindex_app import build_query_engine
from ragtel.demo.local_models import HashEmbeddings
from ragtel.langchain import TracedEmbeddings


class AnswerCheckFailed(RuntimeError):
    pass


def _fail(_: str) -> str:
    raise AnswerCheckFailed("the answer could not be checked")


def main(content: str) -> None:
    provider = ragtel.configure("ragtel-weaver", endpoint="http://127.0.0.1:4317", protocol="grpc")
    config = TraceConfig(monitor=False, capture_content=content != "off")
    ragtel.instrument(provider, config)
    chain = build_chain(embeddings=TracedEmbeddings(HashEmbeddings(), config=config))
    engine = build_query_engine()
    with ragtel.session(session_id="chat-1", user_id="u-1", metadata={"workflow_name": "support"}):
        for question in QUESTIONS:
            chain.invoke(question)
            engine.query(question)
    ragtel.record_feedback(ragtel.last_trace_id(), score=0.0, label="thumbs_down", comment="no")
    "".join(chain.stream(QUESTIONS[0]))
    "".join(build_query_engine(streaming=True).query(QUESTIONS[1]).response_gen)  # type: ignore[union-attr]
    with contextlib.suppress(AnswerCheckFailed):
        (chain | RunnableLambda(_fail)).invoke(QUESTIONS[2])
    ragtel.uninstrument()
    provider.force_flush()  # type: ignore[attr-defined]
    sent = {k: v for k, v in ragtel.stats().items() if k.startswith("spans_")}
    print(f"sent: {sent}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "on")
