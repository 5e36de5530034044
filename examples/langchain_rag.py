"""A LangChain RAG app traced by ragtel.

Offline by default (the demo's local embedding and chat model). With OPENAI_API_KEY set and
`pip install langchain-openai`, it uses OpenAI's models instead: the traces look the same, with real
token counts.

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 python examples/langchain_rag.py
"""

from __future__ import annotations

import os

import ragtel
from ragtel.demo.corpus import QUESTIONS
from ragtel.demo.langchain_app import build_chain
from ragtel.demo.local_models import ExtractiveChatModel, HashEmbeddings
from ragtel.langchain import TracedEmbeddings


def models():  # type: ignore[no-untyped-def]
    if os.environ.get("OPENAI_API_KEY"):
        from langchain_openai import ChatOpenAI, OpenAIEmbeddings

        return OpenAIEmbeddings(model="text-embedding-3-small"), ChatOpenAI(model="gpt-4o-mini")
    return HashEmbeddings(), ExtractiveChatModel()


def main() -> None:
    ragtel.configure(service_name="langchain-rag-example")
    ragtel.instrument()
    embeddings, chat = models()
    chain = build_chain(embeddings=TracedEmbeddings(embeddings), model=chat)
    with ragtel.session(session_id="example-session", user_id="example-user") as session:
        for question in QUESTIONS:
            print(question, "->", chain.invoke(question))
    ragtel.record_feedback(session.trace_ids[0], score=1.0, label="thumbs_up")
    print("trace ids:", *session.trace_ids, sep="\n  ")


if __name__ == "__main__":
    main()
