"""Print one of the README's "Two commands", exactly as a newcomer would paste it.

    python3 scripts/ci/readme_commands.py 1   # the demo command
    python3 scripts/ci/readme_commands.py 2   # the test command

CI and the fresh-clone test run what this prints, so the README cannot drift from what works.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
_SECTION = re.compile(r"^## Two commands\n(.*?)(?=^## )", re.S | re.M)
_SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)


def readme_commands(text: str) -> list[str]:
    section = _SECTION.search(text)
    if section is None:
        raise ValueError("README.md has no '## Two commands' section")
    commands = [block.strip() for block in _SH_BLOCK.findall(section.group(1))]
    if len(commands) != 2:
        raise ValueError(f"'## Two commands' holds {len(commands)} sh blocks, expected 2")
    return commands


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in {"1", "2"}:
        print(__doc__, file=sys.stderr)
        return 2
    print(readme_commands(README.read_text(encoding="utf-8"))[int(argv[1]) - 1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
