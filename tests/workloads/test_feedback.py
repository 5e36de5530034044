"""Feedback on a run made through ``ragtel.instrument(tracer_provider=...)`` lands in that run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import ragtel
from tests.unit.conftest import Traced
from tests.workloads import lc_kb
from tests.workloads.spans import attrs, one_run
from tests.workloads.test_langchain_classic import retrieval_chain


@pytest.fixture
def instrumented(traced: Traced) -> Iterator[Traced]:
    ragtel.instrument(tracer_provider=traced.provider, config=traced.config)
    yield traced
    ragtel.uninstrument()


def test_feedback_goes_to_the_instrumented_provider(instrumented: Traced) -> None:
    chain = retrieval_chain(lc_kb.store(instrumented))
    chain.invoke({"input": "How do I download my invoice?"})
    ragtel.record_feedback(ragtel.last_trace_id(), score=0.0, label="thumbs_down", comment="wrong")
    run = one_run(instrumented.spans)
    (feedback,) = [s for s in run.spans if s.name == "feedback"]
    assert run.parent(feedback) is run.root
    assert attrs(feedback)["gen_ai.evaluation.score.label"] == "thumbs_down"
    assert attrs(feedback)["gen_ai.evaluation.score.value"] == 0.0
