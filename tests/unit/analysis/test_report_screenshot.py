"""report.html rendered by headless Chromium shows its plots.

Skipped when Chromium is missing, except under CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "monitor" / "screenshot_report.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("screenshot_report", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_renders_with_visible_plots(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    script = _load_script()
    if script.find_chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required in CI: apt-get install -y chromium")
        pytest.skip("chromium not installed")
    html = script.make_sample_report(tmp_path / "report")
    png = script.screenshot(html, tmp_path / "shot.png", size="1300,2600")
    from matplotlib import image

    pixels = image.imread(str(png))
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1200
    # Plots are colourful; a page of text and tables is not. Rows holding strongly saturated
    # pixels must form at least three separate bands: the map, the drift and the distance plot.
    rgb = pixels[..., :3]
    saturation = rgb.max(axis=2) - rgb.min(axis=2)
    rows = np.flatnonzero((saturation > 0.25).sum(axis=1) > 5)
    assert len(rows) > 0, "no plot colours visible in the screenshot"
    bands = 1 + int((np.diff(rows) > 40).sum())
    assert bands >= 3, f"expected three plots, saw {bands} coloured band(s)"
