"""A user's script, run as a child process by the fault suite: configure, instrument, invoke.

    python app.py INVOKES [PACE_SECONDS]

Configured entirely by the standard variables (``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_EXPORTER_OTLP_PROTOCOL``, ``RAGTEL_SHUTDOWN_TIMEOUT``, ...). Prints JSON lines on stdout:
``{"progress": n}`` every 50 invokes, ``{"done": epoch_seconds, "answers_ok": bool}`` after the
last invoke, and — from an exit hook that runs after ragtel's own — ``{"stats": ragtel.stats(),
"hooks_done": epoch_seconds}``.
"""

from __future__ import annotations

import atexit
import json
import sys
import time

from pipeline import ANSWER, CodepointEmbeddings, support_documents, vector_store_chain

import ragtel
from ragtel.langchain import TracedEmbeddings


def _emit(obj: object) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> None:
    invokes = int(sys.argv[1])
    pace = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    # Registered before configure(): exit hooks run last-in first-out, so this one runs after
    # ragtel's shutdown and sees its final counts.
    atexit.register(lambda: _emit({"stats": ragtel.stats(), "hooks_done": time.time()}))
    ragtel.configure("ragtel-faults-app")
    ragtel.instrument()
    chain = vector_store_chain(support_documents(), TracedEmbeddings(CodepointEmbeddings()))
    ok = True
    for i in range(1, invokes + 1):
        ok &= chain.invoke(f"When is invoice {i} issued?") == ANSWER
        if i % 50 == 0:
            _emit({"progress": i})
        if pace:
            time.sleep(pace)
    _emit({"done": time.time(), "answers_ok": ok})


if __name__ == "__main__":
    main()
