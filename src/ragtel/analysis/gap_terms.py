"""Names for knowledge gaps: the terms a gap's questions use far more often than the rest.

A gap is a set of questions; what a person needs first is what they are about. Its examples
show one phrasing each, its terms show what they share. A term's weight is a contrast of two
shares, not a raw count: in a stream of "How do I ..." questions the common words are common
everywhere, and only the contrast with the other questions leaves the subject.

Each text counts a term once (a question that says "socket" three times is one witness), and
the contrast is the z-score of the log-odds ratio between the gap's questions and the others,
with both shares drawn towards the term's overall share by a prior of ``PRIOR_WEIGHT`` texts
(Monroe, Colaresi and Quinn 2008, "Fightin' Words"): a term seen twice in a small gap and
never elsewhere does not outrank one that most of a large gap uses.

Words are Unicode word runs, lower-cased, kept whole across ``.``, ``-`` and ``_`` so that
``urllib.request``, ``utf-8`` and ``is_dir`` stay one term. Chinese and Japanese, written without
spaces, are split into overlapping pairs of Han characters, which is what a tokenizer without a
dictionary can do for them, and pairs holding a Chinese function character are dropped; Japanese
katakana words stay whole and hiragana (grammar) is dropped. Korean writes spaces between words
and keeps whole words. Checked on real Japanese text by ``bench/gaps/names_ja.py``.

How well a name points at the missing topic is measured by ``bench/gaps/names.py`` on the
held-out runs of the gap evaluation (README, *What a gap is about*): against naming a gap by its
most frequent words, the contrast is more specific to the missing topic on ten of eleven
held-out collection and model pairs. ``PRIOR_WEIGHT`` was chosen there on the design
collections (1 to 1e5 tried; the ranking levels off from 100).

Where the knowledge base's texts are known, each term also says in how many of its documents
it occurs: a term the gap's questions share and the documents never use is the missing topic's
name.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PRIOR_WEIGHT = 100.0
# A term must appear in at least this many of the gap's texts, and in this share of them: a
# gap's name is what many of its questions share, not one question's rare word.
MIN_GAP_TEXTS = 2
MIN_GAP_SHARE = 0.1

# Han and kana (Korean writes spaces between words, so Hangul stays in whole words).
_CJK = "\u3040-\u30ff\u3100-\u312f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD_CHAR = rf"(?:(?![{_CJK}])\w)"
_TOKEN = re.compile(rf"[{_CJK}]+|{_WORD_CHAR}+(?:[.\-]{_WORD_CHAR}+)*")
_CJK_CHAR = re.compile(f"[{_CJK}]")
# Within a run of Chinese or Japanese: Han characters are split into pairs; katakana, in which
# Japanese writes borrowed words ("アーカイブ", archive), stays whole, since its pairs ("ーカ") mean
# nothing; hiragana is Japanese grammar and word endings, and is no term.
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_KATAKANA_RUN = re.compile("[\u30a0-\u30ff\u31f0-\u31ff]+")

# Function words of English, the language most questions here are asked in. The contrast
# already sinks words that are common everywhere; the list keeps them out of small gaps'
# names, where a few "the"s can happen to lean one way.
_ENGLISH_FUNCTION_WORDS = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
get got use using used want need way ways
don doesn didn isn aren wasn weren won wouldn shouldn couldn ll ve re
"""
STOPWORDS = frozenset(_ENGLISH_FUNCTION_WORDS.split())
# Function characters of Chinese: a character pair holding one mostly straddles a word boundary
# ("如何开启" gives "何开") or is grammar ("的包"), so such pairs are no terms.
STOP_CHARACTERS = frozenset("的了和或与及是在将把被以何如为之其该这那并也等吗呢么什怎哪个")


@dataclass(frozen=True, slots=True)
class GapTerm:
    """A term that names a knowledge gap.

    Attributes:
        term: the term, lower-cased.
        queries: the gap's queries whose text holds it.
        other_queries: the other queries (outside the gap) whose text holds it.
        documents: knowledge-base documents whose text holds it; None when no document text
            is known.
        score: how strongly the gap's queries favour it over the others (z-score of the
            log-odds ratio); larger is more distinctive.
    """

    term: str
    queries: int
    other_queries: int
    documents: int | None
    score: float


def terms_of(text: str) -> set[str]:
    """The distinct terms of ``text`` (see the module docstring)."""
    out: set[str] = set()
    for token in _TOKEN.findall(text.casefold()):
        if not _is_cjk(token[0]):
            if len(token) > 1 and not token.isdigit() and token not in STOPWORDS:
                out.add(token)
            continue
        for run in _KATAKANA_RUN.findall(token):
            if len(run) > 1:
                out.add(run)
        for run in _HAN_RUN.findall(token):
            if len(run) == 1:
                if run not in STOP_CHARACTERS:
                    out.add(run)
            else:
                pairs = (run[i : i + 2] for i in range(len(run) - 1))
                out.update(p for p in pairs if not (set(p) & STOP_CHARACTERS))
    return out


def _is_cjk(char: str) -> bool:
    return _CJK_CHAR.match(char) is not None


def _count(term_sets: Iterable[set[str]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for terms in term_sets:
        counts.update(terms)
    return counts


class TermIndex:
    """The terms of a set of query texts, counted once, so that each gap among them is named
    by contrast with the rest without reading every text again.

    ``texts`` holds None where a query's text was not captured: such a query counts nowhere.
    ``document_texts`` (the knowledge base, or a sample of it) only annotates each term with
    its document count.
    """

    def __init__(
        self, texts: Sequence[str | None], document_texts: Iterable[str] | None = None
    ) -> None:
        self._sets = [None if t is None else terms_of(t) for t in texts]
        self._total = _count(s for s in self._sets if s is not None)
        self._texts = sum(s is not None for s in self._sets)
        self._documents = None if document_texts is None else _count(map(terms_of, document_texts))

    def name(self, members: Iterable[int], limit: int = 5) -> list[GapTerm]:
        """The ``limit`` terms that most distinguish the texts at ``members`` from the rest,
        best first; nothing when none of them has text."""
        member_sets = [s for i in members if (s := self._sets[i]) is not None]
        n_gap = len(member_sets)
        if n_gap == 0:
            return []
        gap_counts = _count(member_sets)
        n_all = self._texts
        n_other = n_all - n_gap
        need = max(MIN_GAP_TEXTS, math.ceil(MIN_GAP_SHARE * n_gap))
        scored: dict[str, float] = {}
        for term, in_gap in gap_counts.items():
            in_other = self._total[term] - in_gap
            if in_gap < need or in_gap + in_other == n_all:
                continue  # too rare in the gap, or in every text (names nothing; infinite odds)
            prior = PRIOR_WEIGHT * (in_gap + in_other) / n_all
            # Log-odds of a text holding the term, in the gap and outside it, each smoothed by
            # the prior; the variance is the usual large-sample one of a log-odds difference.
            gap_odds = (in_gap + prior) / (n_gap - in_gap + PRIOR_WEIGHT - prior)
            other_odds = (in_other + prior) / (n_other - in_other + PRIOR_WEIGHT - prior)
            variance = 1.0 / (in_gap + prior) + 1.0 / (in_other + prior)
            score = math.log(gap_odds / other_odds) / math.sqrt(variance)
            if score > 0:
                scored[term] = score
        ranked = sorted(scored, key=lambda term: (-scored[term], term))
        return [
            GapTerm(
                term=term,
                queries=gap_counts[term],
                other_queries=self._total[term] - gap_counts[term],
                documents=None if self._documents is None else self._documents.get(term, 0),
                score=scored[term],
            )
            for term in _without_parts(ranked, limit)
        ]


def _without_parts(ranked: list[str], limit: int) -> list[str]:
    """The first ``limit`` terms, skipping a Han character pair that overlaps one already
    chosen (a Chinese word of three characters gives two pairs; the name needs one of them).
    Katakana words are whole words, never pairs, and are kept."""
    chosen: list[str] = []
    pairs: list[str] = []
    for term in ranked:
        if len(chosen) == limit:
            break
        if len(term) == 2 and _HAN_RUN.fullmatch(term):
            if any(p[0] == term[1] or p[1] == term[0] for p in pairs):
                continue
            pairs.append(term)
        chosen.append(term)
    return chosen
