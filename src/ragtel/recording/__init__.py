"""The recording layer: step records in, spans out.

``recorder`` (``Recorder``: start a step of each kind), ``step`` (``Step``: budgeted writes, end),
``attributes/`` (what each step kind writes, per convention), ``budget`` (``SpanBudget``),
``text`` (the text policy every string goes through), ``secrets`` (credential patterns),
``encode`` (framework values -> attribute values), ``records`` (the neutral records adapters
build), ``current`` (making a step current; the embedding hand-off), ``runs``/``session``/
``feedback`` (which traces ragtel started; session stamping; feedback spans), ``monitor_hook``
(the shared embedding monitor), ``knowledge_base`` (the monitor's sample, exported).
"""

from ragtel.recording.recorder import Recorder, TracerProvider
from ragtel.recording.step import Step

__all__ = ["Recorder", "Step", "TracerProvider"]
