"""A Chinese collection for the gap evaluation: Debian's ``manpages-zh`` (simplified Chinese).

Topic = one program's manual page (ten programs of different domains). Questions are templated
from each option's description: its first clause, as "如何<clause>？" ("How do I <clause>?"),
e.g. "以 ISO 8601 格式输出日期/时间" -> "如何以 ISO 8601 格式输出日期/时间？". Clauses that are
conditions or cross-references rather than actions (starting with 如果, 等价, 参见, ...), that
name another option, or that occur in more than one page ("显示帮助信息") are skipped, and an
option's own description is kept out of the knowledge base, so no question is a document's
text. Documents are the page's other paragraphs with at least 15 Chinese characters.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np

PROGRAMS = {
    "tar": "archives",
    "psql": "PostgreSQL client",
    "find": "file search",
    "rpm": "package manager",
    "stty": "terminal settings",
    "minicom": "serial terminal",
    "msmtp": "mail sending",
    "date": "date and time",
    "tcpdump": "packet capture",
    "iptables": "firewall",
}
MAX_DOCS_PER_TOPIC = 60
MAX_QUESTIONS_PER_TOPIC = 40
_HAN = re.compile(r"[\u4e00-\u9fff]")
_NOT_AN_ACTION = ("如果", "若", "当", "等价", "与", "同", "这", "该", "此", "-", "在", "和",
                  "用于", "参见", "见", "对于", "如", "默认", "缺省", "使用", "注意")  # fmt: skip
_BREAKS = (".SH", ".SS", ".PP", ".LP", ".P", ".IP", ".TP", ".HP")
_FONTS = (".B", ".I", ".BR", ".BI", ".IR", ".RB", ".RI", ".IB")


def _clean(line: str) -> str:
    line = re.sub(r"\\f[BIRP]|\\f\(..|\\&", "", line).replace("\\-", "-")
    return line.replace("\\(em", "—").replace("\\e", "\\").replace('"', "").strip()


def _parse(page: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """A man page's tagged items (option, description) and its untagged paragraphs."""
    items: list[tuple[str, str]] = []
    paragraphs: list[str] = []
    body: list[str] = []
    tag: str | None = None
    expect_tag = False

    def flush() -> None:
        nonlocal body, tag
        text = " ".join(body).strip()
        if text:
            if tag is not None:
                items.append((tag, text))
            else:
                paragraphs.append(text)
        body, tag = [], None

    with gzip.open(page, "rt", errors="replace") as source:
        lines = source.read().splitlines()
    for raw in lines:
        if raw.startswith('.\\"'):
            continue
        if raw.startswith("."):
            macro = raw.split()[0]
            rest = _clean(raw[len(macro) :])
            if macro in _BREAKS:
                flush()
                expect_tag = macro == ".TP"
                if macro == ".IP" and rest:
                    tag = rest
                continue
            if macro not in _FONTS:
                continue
            line = rest
        else:
            line = _clean(raw)
        if expect_tag:
            tag, expect_tag = line, False
        elif line:
            body.append(line)
    flush()
    return items, paragraphs


def _clause(description: str) -> str | None:
    clause = re.split(r"[。；;！]|\. ", description)[0].strip(" ，,:：")
    if clause.startswith(_NOT_AN_ACTION) or re.search(r"(^|\s)--?[A-Za-z]", clause):
        return None
    if len(_HAN.findall(clause)) < 6 or len(clause) > 50:
        return None
    return clause


def _spread(items: list[str], limit: int) -> list[str]:
    if len(items) <= limit:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, limit).round().astype(int)]


def zhman(root: Path):  # type: ignore[no-untyped-def]
    from corpora import _collection

    pages = root / "usr/share/man/zh_CN"
    parsed = {}
    for program in PROGRAMS:
        page = next(pages.glob(f"man[18]/{program}.[18].gz"))
        items, paragraphs = _parse(page)
        asked = [(f"如何{c}？", text) for _, text in items if (c := _clause(text))]
        parsed[program] = (items, paragraphs, asked)
    seen: dict[str, int] = {}
    for _, _, asked in parsed.values():
        for question, _ in asked:
            seen[question] = seen.get(question, 0) + 1
    docs: list[tuple[str, int]] = []
    questions: list[tuple[str, int]] = []
    for topic, (items, paragraphs, asked) in enumerate(parsed.values()):
        kept = [(q, text) for q, text in asked if seen[q] == 1]
        used = {text for _, text in kept}
        texts = paragraphs + [text for _, text in items if text not in used]
        texts = [t for t in texts if len(_HAN.findall(t)) >= 15]
        docs += [(t, topic) for t in _spread(texts, MAX_DOCS_PER_TOPIC)]
        picked = _spread([q for q, _ in kept], MAX_QUESTIONS_PER_TOPIC)
        questions += [(q, topic) for q in picked]
    return _collection("zhman", list(PROGRAMS.values()), docs, questions, language="zh")
