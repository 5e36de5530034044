"""ragtel: OpenTelemetry traces of RAG pipelines, and drift monitoring of their embeddings.

import ragtel
ragtel.configure(service_name="support-bot")   # OTLP, from the OTEL_* variables
ragtel.instrument()                             # every LangChain / LlamaIndex run traced
"""

from ragtel._build import compiled
from ragtel._stats import snapshot as stats
from ragtel._version import __version__
from ragtel.config import TraceConfig
from ragtel.export.file_exporter import OTLPFileExporter
from ragtel.export.setup import configure
from ragtel.instrument import instrument, uninstrument
from ragtel.recording.feedback import record_feedback
from ragtel.recording.monitor_hook import observe_knowledge_base
from ragtel.recording.runs import last_trace_id
from ragtel.recording.session import session

__all__ = [
    "OTLPFileExporter",
    "TraceConfig",
    "__version__",
    "compiled",
    "configure",
    "instrument",
    "last_trace_id",
    "observe_knowledge_base",
    "record_feedback",
    "session",
    "stats",
    "uninstrument",
]
