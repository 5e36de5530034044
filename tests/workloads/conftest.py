from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ragtel import _stats
from ragtel.llamaindex import RagtelSpanHandler
from ragtel.recording.monitor_hook import set_monitor
from tests.unit.conformance.check import check_spans
from tests.unit.conftest import Traced
from tests.workloads import li_kb


@pytest.fixture
def traced() -> Iterator[Traced]:
    _stats.reset()
    set_monitor(None)
    traced = Traced()
    yield traced
    # ragtel never raised into these pipelines, and never failed quietly inside either.
    assert _stats.snapshot().get("internal_errors", 0) == 0
    # Every span a workload made passes the GenAI registry's rules and OpenInference's names.
    assert sorted({str(v) for v in check_spans(traced.spans)}) == []


@pytest.fixture
def li_handler(traced: Traced) -> Iterator[RagtelSpanHandler]:
    """ragtel's LlamaIndex handlers on the root dispatcher, recording to ``traced``."""
    handler = RagtelSpanHandler(traced.provider, traced.config).attach()
    yield handler
    handler.detach()


@pytest.fixture(scope="module")
def li_index() -> Any:
    return li_kb.index()
