"""LlamaIndex adapter: dispatcher spans and instrumentation events -> ragtel step records.

Modules: ``handlers`` (what LlamaIndex calls), ``tracker`` (dispatcher spans -> steps), ``events``
(prompts, generations, embeddings), ``streams`` (steps held open by streams), ``tree`` (the live
span tree), ``classify`` (which calls are steps), ``translate`` (LlamaIndex objects -> records).

LlamaIndex reports every decorated call to the span handlers of its root dispatcher (enter, exit,
drop, with the call's id and its parent's id) and emits typed events inside those calls. ragtel
listens to both:

- query engines, synthesizers, chat engines and node postprocessors become CHAIN spans, retrievers
  RETRIEVER spans and tools TOOL spans, from the dispatcher span itself (arguments at enter, result
  at exit);
- ``LLMPredictStartEvent`` opens a PROMPT span with the template actually used; it ends, with the
  rendered messages, when the model call it leads to starts;
- ``LLMChat*``/``LLMCompletion*`` events make one LLM span per generation: a model call made inside
  another call of the same generation (``achat`` -> ``chat`` -> ``complete`` in CustomLLM-based
  models) is part of the outer span, not a new one;
- ``EmbeddingStart``/``EmbeddingEnd`` events make one EMBEDDING span per request to the model (a
  ``get_text_embedding_batch`` call that takes several requests is grouped under a CHAIN span).

Every other dispatcher span is transparent: its children hang under the nearest ragtel span.
Parents come from LlamaIndex's own ``parent_id``, never from "the current span". LlamaIndex calls
the handler inline, in the caller's context, before and after the decorated function, so a step's
span is made current (``context.attach``) for the duration of the call and detached when it returns:
spans of other instrumentations (HTTP clients, vector database drivers) nest under the step.

A streaming call returns before the stream is consumed. Its LLM span stays open until the stream
ends, and so does every ragtel span above it whose call already returned (the query, the
synthesizer): they end together when the last token arrives, when the stream is closed or garbage
collected, or after ``stream_timeout`` seconds, whichever comes first. A streaming synthesizer only
calls the model once its generator is iterated, outside any LlamaIndex span (no parent id): such a
call is recognised by the generator's frame on the stack, and parented under the step that
returned the generator.

Compared with the LangChain adapter on the same pipeline, spans have the same names, kinds and
keys, except that LlamaIndex retrievers also give each document's score and the retriever's top_k
(LangChain's vector store retriever reports neither). Agent workflows (``Workflow.run``) get no
span of their own: ``run`` returns a future whose end is reported from another context.
"""

from ragtel.integrations.llamaindex.handlers import (
    RagtelEventHandler,
    RagtelSpanHandler,
    instrument,
    uninstrument,
)
from ragtel.integrations.llamaindex.streams import DEFAULT_STREAM_TIMEOUT, StreamTimeout

__all__ = [
    "DEFAULT_STREAM_TIMEOUT",
    "RagtelEventHandler",
    "RagtelSpanHandler",
    "StreamTimeout",
    "instrument",
    "uninstrument",
]
