"""Which of the repo's files a task is about: three rankings fused into one.

A task names its files in three ways: by the words of their paths ("plugin caching" →
`plugins/cache/`), by the names they define (`class CacheStore`), and by the words in
them. Each signal ranks the files on its own; reciprocal rank fusion adds 1/(K + rank)
over the signals, so a file high in two rankings beats one top in a single one, and no
signal's raw scores need calibrating against another's. The index is per commit
(`engine.analysis.localize_index`); a query on a stored index takes milliseconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from engine.analysis.localize_index import FileIndex, open_index, paths_only, terms
from engine.analysis.named import named_files
from engine.core.errors import GitError

FUSION_K = 10
"""Small, so the first places of each signal count much more than the tail."""
TEXT_HITS = 100
COMMON = 200
"""A word in more than half the files (and more than this many) is skipped by the path and
symbol signals; BM25 weighs it down on its own."""
COVERAGE_FLOOR = 0.5
NAMED_WEIGHT = 2.0
"""A file the task names (a dotted path, a backticked identifier) outranks one matching its words."""
"""A file whose path and symbols match none of the task's words keeps half its fused score."""
_STOP = frozenset(re.findall(r"\S+", """
    a an the of for to in on at by with and or but from into onto our my this that these those
    it its is are be been was were when while if then than so as not no only also via per new some all
    any each every use using used add adds added adding implement implements implemented make makes allow
    allows support supports supported fix fixes fixed fixing improve improved update updated updates
    change changes changed remove removed removes handle handles handled ensure now can should would
    will do does don't doesn't instead better properly correctly issue bug case cases work works
    test tests testing doc docs documentation readme"""))
"""Words that say what to do, not where: tests and docs are found by their own rules."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Term:
    term: str
    """Stemmed, as the index holds it."""
    word: str
    """As the task wrote it, for the reasons people read."""
    weight: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Ranked:
    path: str
    rank: int
    score: float
    words: tuple[str, ...]
    """The task's words the file's path or symbols match."""
    symbols: tuple[str, ...]
    """A few names the file defines, those matching the task first."""
    text_rank: int | None = None
    focused: bool = False
    """Its path or symbols match the subject's head word ("authentication")."""
    named: bool = False
    """The task names it outright (a dotted path, its file name, an identifier it defines)."""
    defines: bool = False
    """A name it defines matches one of the task's words."""

    def reason(self) -> str:
        why = [f"rank {self.rank}"]
        if self.words:
            why.append("matches " + ", ".join(self.words))
        if self.text_rank is not None:
            why.append(f"text rank {self.text_rank}")
        return "; ".join(why)


def query_terms(text: str, focus: Iterable[str] = ()) -> list[Term]:
    """The task's content words, stemmed; words in `focus` (the subject's head) count double."""
    focused = {t for f in focus for t in terms(f)}
    out: dict[str, Term] = {}
    for word in re.findall(r"[A-Za-z][A-Za-z0-9_]*", text):
        if word.lower() in _STOP or len(word) < 2:
            continue
        for term in terms(word):
            if term.isdigit():
                continue  # "123" in a task rarely names a file, and prefixes of numbers match thousands
            weight = 2.0 if term in focused else 1.0
            if term not in out or out[term].weight < weight:
                out[term] = Term(term=term, word=word.lower(), weight=weight)
    for term in focused - set(out):
        out[term] = Term(term=term, word=term, weight=2.0)
    return list(out.values())


def index_for(root: Path, commit: str, files: Sequence[str]) -> FileIndex:
    """The stored index for a readable repo; names alone for a tree git cannot read."""
    if commit and root.is_dir():
        try:
            return open_index(root, commit)
        except GitError:
            pass
    return paths_only(files)


def rank(index: FileIndex, text: str, *, focus: Iterable[str] = (), limit: int = 50,
         within: Iterable[str] | None = None) -> list[Ranked]:
    """The files `text` is most likely about, best first; only files some signal found."""
    query = query_terms(text, focus)
    if not query:
        return []
    allowed = None if within is None else set(within)
    covered: dict[int, set[str]] = {}
    path_hits = _term_scores(index, "path", query, covered)
    symbol_hits = _term_scores(index, "symbol", query, covered)
    text_ranks = _text_ranks(index, query)
    fused: dict[int, float] = {}
    for ranking in (_ranks(path_hits), _ranks(symbol_hits), text_ranks):
        for doc, place in ranking.items():
            fused[doc] = fused.get(doc, 0.0) + 1.0 / (FUSION_K + place)
    weights = {q.term: q.weight for q in query}
    total = sum(weights.values())
    for doc in fused:  # a file matching more of the task's words beats one matching a single word
        share = sum(weights[t] for t in covered.get(doc, ())) / total
        fused[doc] *= COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * share
    named = named_files(index, text)
    named_set = set(named)
    for place, doc in enumerate(named, 1):  # what the task names outright comes first
        fused[doc] = fused.get(doc, 0.0) + NAMED_WEIGHT / (FUSION_K + place)
    order = sorted((d for d in fused if allowed is None or index.paths[d] in allowed),
                   key=lambda d: (-fused[d], index.paths[d]))
    return [_ranked(index, doc, place, fused[doc], query, text_ranks.get(doc), named=doc in named_set)
            for place, doc in enumerate(order[:limit], 1)]


def _term_scores(index: FileIndex, kind: str, query: Sequence[Term],
                 covered: dict[int, set[str]]) -> dict[int, float]:
    """Σ weight × idf of the query terms a file's path (or symbol) words hold, prefixes included
    ("auth" in a path answers "authentication")."""
    postings = index.postings(kind)
    total = max(1, len(index.paths))
    scores: dict[int, float] = {}
    for q in query:
        docs: set[int] = set()
        for term in _matching(q.term, postings):
            docs.update(postings[term])
        if not docs or len(docs) > max(COMMON, total // 2):
            continue  # in most files: says nothing about which, and costs a pass over them all
        idf = math.log(1 + total / len(docs))
        for doc in docs:
            scores[doc] = scores.get(doc, 0.0) + q.weight * idf * _name_bonus(index, kind, doc, q.term)
            covered.setdefault(doc, set()).add(q.term)
    return scores


def _matching(term: str, postings: dict[str, list[int]]) -> list[str]:
    if len(term) < 3:
        return [term] if term in postings else []
    return [t for t in postings if t == term or (len(t) >= 3 and (t.startswith(term) or term.startswith(t)))]


def _name_bonus(index: FileIndex, kind: str, doc: int, term: str) -> float:
    """A word in the file's own name says more than one in a folder above it."""
    if kind != "path":
        return 1.0
    own = _words(PurePosixPath(index.paths[doc]).stem)
    if own == {term}:
        return 2.0  # the file is named after the word (`completions.go` for "completions")
    return 1.5 if _hit(term, own) else 1.0


def _ranks(scores: dict[int, float]) -> dict[int, int]:
    order = sorted(scores, key=lambda d: -scores[d])
    return {doc: place for place, doc in enumerate(order, 1)}


def _text_ranks(index: FileIndex, query: Sequence[Term]) -> dict[int, int]:
    """BM25 places from the text index (tantivy), or none when the index has no text."""
    if index.text is None:
        return {}
    import tantivy  # noqa: PLC0415 - planning path only

    schema = index.text.schema
    parts = [(tantivy.Occur.Should,
              tantivy.Query.boost_query(tantivy.Query.term_query(schema, "body", q.term), q.weight))
             for q in query]
    hits = index.text.searcher().search(tantivy.Query.boolean_query(parts), TEXT_HITS).hits
    searcher = index.text.searcher()
    out: dict[int, int] = {}
    for place, (_score, address) in enumerate(hits, 1):
        doc = searcher.doc(address).get_first("doc")
        if isinstance(doc, int) and doc not in out:
            out[doc] = place
    return out


def _ranked(index: FileIndex, doc: int, place: int, score: float, query: Sequence[Term],
            text_rank: int | None, *, named: bool) -> Ranked:
    path_words = set(index.path_terms[doc])
    symbol_words = set(index.symbol_terms[doc])
    matched = [q for q in query if _hit(q.term, path_words) or _hit(q.term, symbol_words)]
    words = [q.word for q in matched]
    matching = [s for s in index.symbols[doc] if any(_hit(q.term, _words(s)) for q in query)]
    symbols = list(dict.fromkeys([*matching, *index.symbols[doc]]))[:3]
    return Ranked(path=index.paths[doc], rank=place, score=round(score, 4), words=tuple(words),
                  symbols=tuple(symbols), text_rank=text_rank,
                  focused=any(q.weight > 1 for q in matched), named=named,
                  defines=bool(matching))


@lru_cache(maxsize=65536)
def _words(name: str) -> frozenset[str]:
    """A symbol's or file name's stemmed words (names repeat across queries: cached)."""
    return frozenset(terms(name))


def _hit(term: str, words: AbstractSet[str]) -> bool:
    if term in words:
        return True
    return len(term) >= 3 and any(len(w) >= 3 and (w.startswith(term) or term.startswith(w))
                                  for w in words)


def path_token_rank(files: Sequence[str], text: str, limit: int = 50) -> list[str]:
    """The baseline the benchmark beats: files by how many task words their path holds (no
    stemming, no symbols, no text)."""
    words = {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 1}
    scored = []
    for path in files:
        tokens = set(re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", path).lower()))
        hits = len(words & tokens)
        if hits:
            scored.append((-hits, len(path), path))
    return [p for _, _, p in sorted(scored)[:limit]]
