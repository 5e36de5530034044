"""Render a ragtel drift report.html in headless Chromium and save a PNG screenshot.

    python scripts/monitor/screenshot_report.py [REPORT_HTML] [--out PNG] [--size 1300,2600]

Without REPORT_HTML, generates the synthetic ground-truth stream, runs ``ragtel drift`` on it
into .cache/monitor/screenshot-report/ and renders that. Needs /usr/bin/chromium
(Debian: ``apt-get update && apt-get install -y chromium``). The browser gets a fresh profile and
every background-network feature off; the report itself references nothing outside the file.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / ".cache" / "screenshots" / "drift-report.png"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
)  # fmt: skip


def find_chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def make_sample_report(out_dir: Path) -> Path:
    """Run ``ragtel drift`` on the synthetic ground-truth stream; return report.html."""
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))  # tests.synthetic
    from tests.synthetic import make_stream, write_otlp_jsonl

    from ragtel.analysis.cli import main

    out_dir.mkdir(parents=True, exist_ok=True)
    source = out_dir / "spans.jsonl"
    write_otlp_jsonl(make_stream(seed=0), str(source))
    main(["drift", str(source), "--out", str(out_dir), "--no-progress"])
    return out_dir / "report.html"


def screenshot(html: Path, png: Path, size: str = "1300,2600", timeout: float = 120) -> Path:
    """Render ``html`` to ``png``; raises RuntimeError when Chromium is missing or fails."""
    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("chromium not found: apt-get update && apt-get install -y chromium")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ragtel-chromium-") as profile:
        command = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={size}",
            html.resolve().as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                check=False)  # fmt: skip
    if result.returncode != 0 or not png.exists():
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return png


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", type=Path, help="report.html (default: generate)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--size", default="1300,2600", help="window size WIDTH,HEIGHT")
    args = parser.parse_args()
    html = args.report or make_sample_report(ROOT / ".cache" / "monitor" / "screenshot-report")
    print(screenshot(html, args.out, args.size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
