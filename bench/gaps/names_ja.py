"""Gap names on real Japanese text: ``ragtel.analysis.gap_terms``'s tokenizer and stop characters
checked on Debian's ``manpages-ja``, with no embedding model (none for Japanese is at hand here,
so no gap is found: each topic's own questions are named, as ``names.py``'s *truth*).

    $RAGTEL_CACHE_DIR/gaps/venv/bin/python bench/gaps/names_ja.py [-v]

Topic = one program's manual page (ten programs of different domains). Questions are templated
from each option's description as ``corpora_zh.py`` does for Chinese: its first sentence, when it
ends in a verb of doing ("…を作成します" / "…を表示する"), becomes "…を作成するには？" ("How do I
create …?"). Descriptions that name another option, and questions found on two pages, are left
out. Each topic's questions are named against all the others, by the contrast ragtel uses and by
plain frequency; a term's specificity is the share of all questions holding it that are the
topic's (``names.py``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "src"))

from corpora import unpacked  # noqa: E402
from corpora_zh import _parse, _spread  # noqa: E402
from evaluate import cache_dir  # noqa: E402
from names import LIMIT, frequent, specificity  # noqa: E402

from ragtel.analysis.gap_terms import TermIndex, terms_of  # noqa: E402

PROGRAMS = {
    "tar": "archives",
    "find": "file search",
    "date": "date and time",
    "grep": "text search",
    "ps": "processes",
    "gzip": "compression",
    "make": "builds",
    "crontab": "scheduled jobs",
    "mount": "file systems",
    "iptables": "firewall",
}
MAX_QUESTIONS_PER_TOPIC = 40
MIN_QUESTIONS = 5
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _question(description: str) -> str | None:
    clause = re.split(r"[。．！]", description)[0].strip(" 、,:：")
    if re.search(r"(^|\s)--?[A-Za-z]", clause) or len(_JAPANESE.findall(clause)) < 6:
        return None
    for ending in ("します", "する"):
        if clause.endswith(ending) and len(clause) <= 60:
            return clause[: -len(ending)] + "するには？"
    return None


def questions(root: Path) -> tuple[list[str], np.ndarray]:
    pages = root / "usr/share/man/ja"
    asked: dict[str, list[str]] = {}
    for program in PROGRAMS:
        page = next(pages.glob(f"man[18]/{program}.[18].gz"))
        items, _ = _parse(page)
        asked[program] = list(dict.fromkeys(q for _, text in items if (q := _question(text))))
    seen: dict[str, int] = {}
    for found in asked.values():
        for q in found:
            seen[q] = seen.get(q, 0) + 1
    texts: list[str] = []
    topics: list[int] = []
    for topic, found in enumerate(asked.values()):
        kept = _spread([q for q in found if seen[q] == 1], MAX_QUESTIONS_PER_TOPIC)
        texts += kept
        topics += [topic] * len(kept)
    return texts, np.array(topics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    texts, topics = questions(unpacked(cache_dir()))
    holders: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        for t in terms_of(text):
            holders.setdefault(t, []).append(i)
    holder_rows = {t: np.array(v) for t, v in holders.items()}
    index = TermIndex(texts)
    scores: dict[str, list[float]] = {"ragtel": [], "frequent": []}
    for topic, (program, subject) in enumerate(PROGRAMS.items()):
        members = np.flatnonzero(topics == topic)
        if len(members) < MIN_QUESTIONS:
            print(f"  {program:<9} {subject:<15} {len(members)} questions: left out")
            continue
        held = topics == topic
        named = [t.term for t in index.name(members, LIMIT)]
        plain = frequent([texts[i] for i in members])
        for key, terms in (("ragtel", named), ("frequent", plain)):
            scores[key].append(float(np.mean(specificity(terms, holder_rows, held) or [0.0])))
        if args.verbose:
            print(f"  {program:<9} {subject:<15} {len(members):>3} questions, e.g. "
                  f"{texts[members[0]]}  ragtel: {', '.join(named)}  |  frequent: "
                  f"{', '.join(plain)}")  # fmt: skip
    print(f"manpages-ja: {len(scores['ragtel'])} topics, {len(texts)} questions; mean "
          f"specificity of the name: ragtel {np.mean(scores['ragtel']):.2f}, by frequency "
          f"{np.mean(scores['frequent']):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
