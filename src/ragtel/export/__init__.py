"""Export: provider setup (``setup``), where spans go (``endpoints``), span limits (``limits``), the
processor and exporter wrappers (``processors``), the OTLP/JSON file exporter (``file_exporter``)
and the OTLP/JSON encoding it writes (``otlp_json``)."""

from ragtel.export.endpoints import otlp_exporter, resolve_protocol, validate_endpoint
from ragtel.export.file_exporter import OTLPFileExporter
from ragtel.export.limits import span_limits_for
from ragtel.export.processors import CountingBatchSpanProcessor, SizeLimitedExporter
from ragtel.export.setup import configure, current_provider

__all__ = [
    "CountingBatchSpanProcessor",
    "OTLPFileExporter",
    "SizeLimitedExporter",
    "configure",
    "current_provider",
    "otlp_exporter",
    "resolve_protocol",
    "span_limits_for",
    "validate_endpoint",
]
