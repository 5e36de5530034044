"""``ragtel demo --scenario drift`` sent to the real Jaeger: the drift shows where it was sent.

The in-process monitor measures each query's drift and flags the query where it crosses the
threshold; both must be on the spans Jaeger gives back, not only in the process that made them.
The run records the GenAI set alone (``RAGTEL_CONVENTIONS=genai``, the README's choice for
Jaeger): its vectors travel packed (``ragtel.vectors``), and ``ragtel drift`` reads them back
from Jaeger as it reads the float arrays of the other sets.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from backends import Jaeger, flatten_spans, poll
from ragtel_pipeline import unique_service

from ragtel.cli import main

QUERIES = 400  # the scenario's default: half on-topic, then 40% off-topic
CROSSED = "ragtel.drift.threshold_crossed"


def test_drift_scenario_shows_its_drift_in_jaeger(
    jaeger: Jaeger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGTEL_CONVENTIONS", "genai")
    service = unique_service("demo-drift")
    start = time.time() - 5
    code = main(["demo", "--scenario", "drift", "--quiet", "--service-name", service,
                 "--endpoint", jaeger.otlp_grpc_endpoint, "--protocol", "grpc"])  # fmt: skip
    assert code == 0, "ragtel demo reported spans that did not arrive"

    def queries() -> list[dict] | None:
        doc = jaeger.query_traces(service, start=start, num_traces=2 * QUERIES)
        found = [
            s for s in flatten_spans(doc) if s["attributes"].get("ragtel.embedding.role") == "query"
        ]
        return found if len(found) >= QUERIES else None

    spans = sorted(poll(queries, 60, interval=1, what=f"{QUERIES} query spans"),
                   key=lambda s: s["start_ns"])  # fmt: skip
    assert len(spans) == QUERIES
    drift = [s["attributes"].get("ragtel.monitor.drift") for s in spans]
    assert sum(d is not None for d in drift) >= QUERIES // 2, "drift measured on the spans"
    crossings = [i for i, s in enumerate(spans) if any(e["name"] == CROSSED for e in s["events"])]
    assert len(crossings) == 1 and crossings[0] > QUERIES // 2, crossings
    (event,) = [e for e in spans[crossings[0]]["events"] if e["name"] == CROSSED]
    assert event["attributes"]["ragtel.monitor.drift"] == pytest.approx(drift[crossings[0]])
    before = [d for d in drift[QUERIES // 4 : QUERIES // 2] if d is not None]
    after = [d for d in drift[3 * QUERIES // 4 :] if d is not None]
    assert min(after) > max(before), (max(before), min(after))

    # The packed vectors come back through Jaeger whole: ragtel drift finds every query.
    out = tmp_path / "report"
    source = f"jaeger+{jaeger.query_url}"
    assert main(["drift", source, "--service", service, "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    counts = summary["counts"]
    assert counts["queries"] == QUERIES
    assert counts["documents"] > 0
    # The texts come back too: the gap is named by the missing topic, which no document uses.
    assert summary["gaps"], "no gap found from Jaeger"
    name = summary["gaps"][0]["terms"][0]
    assert name["term"] == "database", summary["gaps"][0]["terms"]
    assert name["knowledge_base_documents"] == 0
