"""Real text collections for the knowledge-gap evaluation, built from packaged public text.

Each collection is a knowledge base split into topics (documents: prose paragraphs) and questions
about those topics, phrased as users ask them:

- ``perlfaq``: the Perl FAQ (perlfaq3-9 of Debian's ``perl-doc``). Topic = FAQ part; questions
  are the FAQ's own questions, documents the prose paragraphs of its answers.
- ``pyfaq``: the Python FAQ (``faq/*.rst`` of Debian's ``python3.11-doc``). Topic = FAQ file;
  questions are its headings, documents the answer paragraphs.
- ``pylib``: the Python Library Reference (same package). Topic = chapter (text processing,
  archiving, concurrency, ...); questions are templated from the first sentence of each
  function/method/class description ("Return the X" -> "How do I get the X?"), and that first
  paragraph is kept out of the knowledge base, so no question is a document's own text.
- ``pymod``: the same Library Reference at the grain of one library: topic = a module (from each
  chapter the module with the most questions), questions and documents made as for ``pylib``.
- ``pyans`` and ``pylibans``: ``pymod`` and ``pylib`` with each question's answer in the
  knowledge base: the rest of the description whose first sentence the question was made from.
- ``manans``: English manual pages of ten programs, every question answered in the knowledge
  base: see ``corpora_man.py``.
- ``zhman``: Chinese manual pages (Debian's ``manpages-zh``), one program per topic: see
  ``corpora_zh.py``.
- ``company``: the eight hand-written topics of ``bench/real_embeddings/texts.py`` (written for
  this project, not public; kept because the earlier figures were measured on it).

The Debian packages are fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` into
the cache folder; nothing is installed on the system.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from corpora_man import PACKAGES as MAN_PACKAGES

HERE = Path(__file__).resolve().parent
PACKAGES = ("perl-doc", "python3.11-doc", "manpages-zh", "manpages-ja", *MAN_PACKAGES)
MIN_WORDS = 8  # shorter paragraphs are headings, captions or code remnants, not knowledge
MAX_DOCS_PER_TOPIC = 120
MAX_QUESTIONS_PER_TOPIC = 60
# The Library Reference has twelve topics of long chapters; fewer per topic keeps its one-time
# embedding (numpy MiniLM on a shared 2-core machine) to minutes.
PYLIB_DOCS_PER_TOPIC = 60
PYLIB_QUESTIONS_PER_TOPIC = 40
PYMOD_MIN_QUESTIONS = 15


@dataclass(frozen=True)
class Collection:
    name: str
    topics: list[str]
    documents: list[str]
    document_topics: np.ndarray
    questions: list[str]
    question_topics: np.ndarray
    language: str = "en"


def unpacked(cache: Path) -> Path:
    """The root into which the Debian documentation packages are unpacked (fetched once)."""
    root = cache / "root"
    debs = cache / "debs"
    if (
        not (root / "usr/share/doc/python3.11/html/_sources").is_dir()
        or not list((root / "usr/share/perl").glob("*/pod/perlfaq4.pod"))
        or not (root / "usr/share/man/zh_CN").is_dir()
        or not (root / "usr/share/man/ja").is_dir()
        or not (root / "usr/share/man/man1/tar.1.gz").is_file()
    ):
        debs.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True)
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def _paragraphs(lines: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    block: list[str] = []
    for line in lines:
        if line.strip():
            block.append(line)
        elif block:
            out.append(block)
            block = []
    if block:
        out.append(block)
    return out


def _words(text: str) -> int:
    return len(text.split())


def _spread(items: list[str], limit: int) -> list[str]:
    """At most ``limit`` items, evenly spaced, so every part of a long source is represented."""
    if len(items) <= limit:
        return items
    index = np.linspace(0, len(items) - 1, limit).round().astype(int)
    return [items[i] for i in index]


# ---- Perl FAQ (POD) ---------------------------------------------------------------------------

_POD_CODES = re.compile(r"[A-Z]<<+\s+(.*?)\s+>>+|[A-Z]<([^<>]*)>")


def _pod_text(text: str) -> str:
    # Inner codes first (C<$x> inside L<...>), repeated until no code is left.
    previous = None
    while previous != text:
        previous = text
        text = _POD_CODES.sub(lambda m: (m.group(1) or m.group(2) or "").split("|")[-1], text)
    return " ".join(text.split())


PERLFAQ_TOPICS = {
    "perlfaq3": "programming tools",
    "perlfaq4": "data manipulation",
    "perlfaq5": "files and formats",
    "perlfaq6": "regular expressions",
    "perlfaq7": "general perl language issues",
    "perlfaq8": "system interaction",
    "perlfaq9": "web, email and networking",
}


def perlfaq(root: Path) -> Collection:
    pods = next((root / "usr/share/perl").glob("*/pod"))
    docs: list[tuple[str, int]] = []
    questions: list[tuple[str, int]] = []
    for topic, part in enumerate(PERLFAQ_TOPICS):
        lines = (pods / f"{part}.pod").read_text(encoding="utf-8").splitlines()
        in_answer = False
        topic_docs, topic_questions = [], []
        for block in _paragraphs(lines):
            first = block[0]
            if first.startswith("=head2 "):
                topic_questions.append(_pod_text(first[len("=head2 ") :]))
                in_answer = True
            elif first.startswith("=head1"):
                in_answer = False
            elif first.startswith((" ", "\t", "=", "X<")) or not in_answer:
                continue  # code, POD commands, index entries, preamble
            else:
                text = _pod_text(" ".join(block))
                if _words(text) >= MIN_WORDS and not text.startswith("(contributed by"):
                    topic_docs.append(text)
        docs += [(t, topic) for t in _spread(topic_docs, MAX_DOCS_PER_TOPIC)]
        questions += [(q, topic) for q in _spread(topic_questions, MAX_QUESTIONS_PER_TOPIC)]
    return _collection("perlfaq", list(PERLFAQ_TOPICS.values()), docs, questions)


# ---- reStructuredText (Python docs) ---------------------------------------------------------

_RST_ROLE = re.compile(r":[a-z:]+:`~?!?([^`<]*?)(?:\s*<[^`]*>)?`")
_RST_LINK = re.compile(r"`([^`<]+?)\s*<[^`]*>`_+")
_RST_MARKUP = re.compile(r"``|\*\*|(?<!\w)\*(?=\w)|(?<=\w)\*(?!\w)|`_?|\|")
_UNDERLINE = re.compile(r"^([=\-~^*#+\"'])\1{3,}\s*$")


def _rst_text(text: str) -> str:
    text = _RST_ROLE.sub(lambda m: m.group(1), text)
    text = _RST_LINK.sub(lambda m: m.group(1), text)
    text = _RST_MARKUP.sub("", text)
    return " ".join(text.split())


def _prose(block: list[str]) -> str | None:
    """The text of a prose paragraph, or None for code, directives, tables and lists of links."""
    first = block[0]
    if first.startswith((" ", "\t", "..", ">>>", "|", "+-", "==", ":")) or first.strip() == "::":
        return None
    text = _rst_text(" ".join(line.strip() for line in block))
    return text if _words(text) >= MIN_WORDS else None


PYFAQ_TOPICS = {
    "general": "general python faq",
    "programming": "programming faq",
    "design": "design and history faq",
    "library": "library and extension faq",
    "extending": "extending/embedding faq",
    "windows": "python on windows faq",
}


def pyfaq(root: Path) -> Collection:
    faq = root / "usr/share/doc/python3.11/html/_sources/faq"
    docs: list[tuple[str, int]] = []
    questions: list[tuple[str, int]] = []
    for topic, name in enumerate(PYFAQ_TOPICS):
        lines = (faq / f"{name}.rst.txt").read_text(encoding="utf-8").splitlines()
        topic_docs, topic_questions = [], []
        in_code = False
        for i, line in enumerate(lines):
            # A question is a heading underlined with '-'; the FAQ's categories use '='.
            if i + 1 < len(lines) and re.fullmatch(r"-{5,}\s*", lines[i + 1]) and line.strip():
                topic_questions.append(_rst_text(line.strip()))
        for block in _paragraphs(lines):
            if len(block) > 1 and _UNDERLINE.match(block[-1]):
                continue  # a heading
            if in_code and block[0].startswith((" ", "\t")):
                continue
            in_code = block[-1].rstrip().endswith("::")
            text = _prose(block)
            if text:
                topic_docs.append(text.rstrip(":") + ("." if text.endswith("::") else ""))
        docs += [(t, topic) for t in _spread(topic_docs, MAX_DOCS_PER_TOPIC)]
        questions += [(q, topic) for q in _spread(topic_questions, MAX_QUESTIONS_PER_TOPIC)]
    return _collection("pyfaq", list(PYFAQ_TOPICS.values()), docs, questions)


PYLIB_CHAPTERS = {
    "text": "text processing",
    "datatypes": "data types",
    "numeric": "numeric and mathematical modules",
    "functional": "functional programming modules",
    "filesys": "file and directory access",
    "persistence": "data persistence",
    "archiving": "data compression and archiving",
    "fileformats": "file formats",
    "crypto": "cryptographic services",
    "concurrency": "concurrent execution",
    "markup": "structured markup processing",
    "internet": "internet protocols and support",
}

_DIRECTIVE = re.compile(r"^(\s*)\.\. (function|method|class|classmethod|staticmethod)::")
# First words that do not start an imperative description ("The ...", "This ...").
_NOT_VERBS = {
    "the", "this", "a", "an", "if", "like", "in", "when", "for", "on", "note", "see", "same",
    "similar", "deprecated", "new", "changed", "alias", "as", "it", "these", "all",
    "abstract", "base", "exception", "raised", "subclass", "instances", "class", "method",
    "function", "constructor", "optional", "availability", "equivalent", "identical", "calling",
    "by", "unlike", "with", "each", "one", "two", "only", "called", "whether",
    "used", "read-only", "wrapper", "default", "return-value", "helper", "convenience",
}  # fmt: skip
_TEMPLATES = (
    "How do I {verb} {rest} in Python?",
    "Is there a way to {verb} {rest}?",
    "What should I use to {verb} {rest}?",
    "How can I {verb} {rest}?",
)


def _question(sentence: str, serial: int) -> str | None:
    """A user's question for an imperative description sentence, or None if it is not one."""
    words = sentence.rstrip(".").split(" ", 1)
    if len(words) < 2 or words[0].lower() in _NOT_VERBS or not words[0][:1].isupper():
        return None
    verb, rest = words[0].lower(), words[1]
    if not verb.isalpha() or _words(rest) < 3:
        return None
    if verb in ("return", "returns") and rest.lower().startswith(("true if ", "true when ")):
        verb, rest = "check", "whether " + rest.split(" ", 2)[2]
    elif verb in ("return", "returns"):
        verb = "get"
    elif verb.endswith("es") and verb[:-2].endswith(("ss", "sh", "ch", "x")):
        verb = verb[:-2]
    elif verb.endswith("s") and not verb.endswith("ss"):
        verb = verb[:-1]
    rest = rest[0].lower() + rest[1:] if rest[:2].isalpha() and not rest[:2].isupper() else rest
    return _TEMPLATES[serial % len(_TEMPLATES)].format(verb=verb, rest=rest)


def _module_texts(library: Path, module: str) -> tuple[list[str], list[str], list[str]]:
    """A Library Reference module's prose paragraphs, the first sentences of its
    function/method/class descriptions that a question can be made from (those descriptions'
    first paragraphs are left out of the prose), and per such sentence the rest of its
    paragraph ("" when under ``MIN_WORDS`` words)."""
    path = library / f"{module}.rst.txt"
    if not path.exists():
        return [], [], []
    lines = path.read_text(encoding="utf-8").splitlines()
    docs: list[str] = []
    sentences: list[str] = []
    rests: list[str] = []
    first_of_directive: set[int] = set()
    for i, line in enumerate(lines):
        if not _DIRECTIVE.match(line):
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip():  # signature continuation lines
            j += 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        body: list[str] = []
        while j < len(lines) and lines[j].strip():
            first_of_directive.add(j)
            body.append(lines[j].strip())
            j += 1
        if not body or body[0].startswith(("..", ":")):
            continue
        sentence, *rest = re.split(r"(?<=[a-z0-9)])\.\s", _rst_text(" ".join(body)) + " ",
                                   maxsplit=1)  # fmt: skip
        sentence = sentence.strip()
        if _question(sentence, 0):
            sentences.append(sentence)
            answer = " ".join(rest).strip()
            rests.append(answer if _words(answer) >= MIN_WORDS else "")
    in_code = False
    row = 0
    for block in _paragraphs(lines):
        start = lines.index(block[0], row)
        row = start + len(block)
        code_block = in_code and block[0].startswith((" ", "\t"))
        in_code = block[-1].rstrip().endswith("::")
        if code_block or start in first_of_directive:
            continue  # code, or a description a question was made from
        if len(block) > 1 and _UNDERLINE.match(block[-1]):
            continue
        text = _prose([line.strip() for line in block] if block[0][:3] == "   " and
                      not block[0].startswith("    ") else block)  # fmt: skip
        if text:
            docs.append(text)
    return docs, sentences, rests


def _chapter_modules(library: Path, chapter: str) -> list[str]:
    index = (library / f"{chapter}.rst.txt").read_text(encoding="utf-8")
    return re.findall(r"^   ([a-z_][a-z0-9_.]*)\.rst\s*$", index, flags=re.M)


def pylib(root: Path) -> Collection:
    library = root / "usr/share/doc/python3.11/html/_sources/library"
    docs: list[tuple[str, int]] = []
    questions: list[tuple[str, int]] = []
    for topic, chapter in enumerate(PYLIB_CHAPTERS):
        topic_docs, topic_questions = [], []
        for module in _chapter_modules(library, chapter):
            module_docs, sentences, _ = _module_texts(library, module)
            topic_docs += module_docs
            # The template rotates over the whole chapter, not per module.
            topic_questions += [
                _question(s, len(topic_questions) + k) or "" for k, s in enumerate(sentences)
            ]
        docs += [(t, topic) for t in _spread(topic_docs, PYLIB_DOCS_PER_TOPIC)]
        questions += [(q, topic) for q in _spread(topic_questions, PYLIB_QUESTIONS_PER_TOPIC)]
    return _collection("pylib", list(PYLIB_CHAPTERS.values()), docs, questions)


def pymod(root: Path) -> Collection:
    """Topic = one Library Reference module: from every chapter, the module with the most
    questions (at least ``PYMOD_MIN_QUESTIONS``). Unlike ``pylib``'s chapters, which group
    related subjects, each topic is one library, as a knowledge base that lacks one library's
    documentation would be."""
    library = root / "usr/share/doc/python3.11/html/_sources/library"
    chosen: list[tuple[str, list[str], list[str], list[str]]] = []
    for chapter in PYLIB_CHAPTERS:
        texts = {m: _module_texts(library, m) for m in _chapter_modules(library, chapter)}
        module = max(texts, key=lambda m: len(texts[m][1]))
        if len(texts[module][1]) >= PYMOD_MIN_QUESTIONS:
            chosen.append((module, *texts[module]))
    docs: list[tuple[str, int]] = []
    questions: list[tuple[str, int]] = []
    for topic, (_, module_docs, sentences, _) in enumerate(chosen):
        asked = [_question(s, k) or "" for k, s in enumerate(sentences)]
        docs += [(t, topic) for t in _spread(module_docs, PYLIB_DOCS_PER_TOPIC)]
        questions += [(q, topic) for q in _spread(asked, PYLIB_QUESTIONS_PER_TOPIC)]
    return _collection("pymod", [m for m, *_ in chosen], docs, questions)


Answered = tuple[str, list[str], list[tuple[str, str]]]  # topic, prose, (sentence, answer)


def _answered(library: Path, modules: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The modules' prose and their (first sentence, rest of the paragraph) pairs that have an
    answer (see ``_module_texts``)."""
    prose: list[str] = []
    pairs: list[tuple[str, str]] = []
    for module in modules:
        docs, sentences, rests = _module_texts(library, module)
        prose += docs
        pairs += [(q, a) for q, a in zip(sentences, rests, strict=True) if a]
    return prose, pairs


def _answered_collection(name: str, topics: list[Answered]) -> Collection:
    """Per topic: up to ``PYLIB_QUESTIONS_PER_TOPIC`` answered questions, evenly spread, their
    answers as documents, and the topic's prose up to ``PYLIB_DOCS_PER_TOPIC`` documents."""
    docs: list[tuple[str, int]] = []
    questions: list[tuple[str, int]] = []
    for topic, (_, prose, answered) in enumerate(topics):
        index = np.linspace(0, len(answered) - 1, min(len(answered), PYLIB_QUESTIONS_PER_TOPIC))
        pairs = [answered[i] for i in index.round().astype(int)]
        questions += [(_question(q, k) or "", topic) for k, (q, _) in enumerate(pairs)]
        docs += [(a, topic) for _, a in pairs]
        docs += [(t, topic) for t in _spread(prose, PYLIB_DOCS_PER_TOPIC - len(pairs))]
    return _collection(name, [t for t, _, _ in topics], docs, questions)


def pyans(root: Path) -> Collection:
    """``pymod`` with every question's answer in the knowledge base, as in a RAG system that
    indexed the documentation it is asked about. A question is made, as there, from the first
    sentence of a description; the rest of that description's first paragraph (at least
    ``MIN_WORDS`` words, else the description asks nothing here) is its topic's document, with
    the module's other prose. The sentence itself stays out, so no question is a document's own
    text. Topic = a module: from every chapter the module with the most such questions (at
    least ``PYMOD_MIN_QUESTIONS``). Held out, a module takes its answers with it."""
    library = root / "usr/share/doc/python3.11/html/_sources/library"
    chosen: list[Answered] = []
    for chapter in PYLIB_CHAPTERS:
        by_module = [(m, *_answered(library, [m])) for m in _chapter_modules(library, chapter)]
        best = max(by_module, key=lambda t: len(t[2]), default=None)
        if best is not None and len(best[2]) >= PYMOD_MIN_QUESTIONS:
            chosen.append(best)
    return _answered_collection("pyans", chosen)


def pylibans(root: Path) -> Collection:
    """``pylib`` (topic = chapter) with every question's answer in the knowledge base, made as
    for ``pyans``."""
    library = root / "usr/share/doc/python3.11/html/_sources/library"
    topics = [(name, *_answered(library, _chapter_modules(library, chapter)))
              for chapter, name in PYLIB_CHAPTERS.items()]  # fmt: skip
    return _answered_collection("pylibans", topics)


def company() -> Collection:
    sys.path.insert(0, str(HERE.parent / "real_embeddings"))
    from texts import TOPICS

    docs = [(p, t) for t, name in enumerate(TOPICS) for p in TOPICS[name]["passages"]]
    questions = [(q, t) for t, name in enumerate(TOPICS) for q in TOPICS[name]["questions"]]
    return _collection("company", list(TOPICS), docs, questions)


def _collection(
    name: str,
    topics: list[str],
    docs: list[tuple[str, int]],
    questions: list[tuple[str, int]],
    language: str = "en",
) -> Collection:
    # The same text twice (a repeated boilerplate paragraph) would be its own nearest neighbour.
    docs = list(dict.fromkeys(docs))
    questions = list(dict.fromkeys(questions))
    return Collection(
        name=name,
        topics=topics,
        documents=[t for t, _ in docs],
        document_topics=np.array([k for _, k in docs], dtype=np.int16),
        questions=[q for q, _ in questions],
        question_topics=np.array([k for _, k in questions], dtype=np.int16),
        language=language,
    )


def load_all(cache: Path) -> list[Collection]:
    root = unpacked(cache)
    from corpora_man import manans
    from corpora_zh import zhman

    return [perlfaq(root), pyfaq(root), pylib(root), pymod(root), pyans(root), pylibans(root),
            manans(root), company(), zhman(root)]  # fmt: skip
