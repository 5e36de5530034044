"""The suite's results do not depend on the order its tests run in: a test that configures ragtel
with a cap of one document, and one that expects the default cap from a handler given no config,
pass in either order in one process (tests/conftest.py gives each test the configuration it
started with)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIGURES = (
    "tests/unit/recording/test_records_in.py::test_a_recorder_given_nothing_follows_configure"
)
EXPECTS_DEFAULTS = (
    "tests/unit/integrations/langchain/test_handler.py"
    "::test_user_provider_with_default_limits_loses_nothing_silently"
)


@pytest.mark.parametrize(
    "order",
    [(CONFIGURES, EXPECTS_DEFAULTS), (EXPECTS_DEFAULTS, CONFIGURES)],
    ids=["configure_first", "defaults_first"],
)
def test_configure_in_one_test_does_not_reach_the_next(order: tuple[str, str]) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", *order],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    # Both ran, in the order given (the configuring test is parametrized twice).
    ran = [line.split(" ")[0] for line in run.stdout.splitlines() if " PASSED" in line]
    assert len(ran) == 3 and ran[0].startswith(order[0]) and ran[-1].startswith(order[1]), ran
