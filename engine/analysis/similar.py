"""Files the repo's past commits about the same thing changed: a change's second and third file.

A task's words find the file it is about; the files that change with it are often named by
nothing in the task ("Fix the nav for hidden pages" changes the theme's template, its
stylesheet and the page model). The repo's history has done this kind of change before: the
past commits whose subjects share the task's words (weighed by BM25 over the subjects, so a
word every commit uses counts for little) changed the files a change like this one changes.
Each of the most similar commits votes for its files, a broad commit's vote spread thin.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

from engine.analysis.cochange import PastCommit
from engine.analysis.localize_index import terms

TOP = 20
"""The most similar past commits that vote."""
K1 = 1.2
B = 0.75


@lru_cache(maxsize=4096)
def _terms(subject: str) -> tuple[str, ...]:
    """A subject's words, stemmed as the localize index stems the task's."""
    return tuple(terms(subject))


def most_like(past: Sequence[PastCommit], query: Iterable[tuple[str, float]],
              top: int = TOP) -> list[tuple[float, PastCommit]]:
    """The `top` past commits whose subjects are most like the query (`(term, weight)` pairs),
    with their BM25 scores, best first; only commits sharing a word with it and changing a file."""
    wanted = dict(query)
    if not past or not wanted:
        return []
    subjects = [_terms(c.subject) for c in past]
    df: Counter[str] = Counter(t for s in subjects for t in set(s))
    mean = sum(map(len, subjects)) / len(past) or 1.0
    idf = {t: math.log(1 + (len(past) - df[t] + 0.5) / (df[t] + 0.5)) for t in wanted if df[t]}
    scored = []
    for c, words in zip(past, subjects, strict=True):
        if not c.files or not idf.keys() & set(words):
            continue
        tf = Counter(words)
        score = sum(wanted[t] * idf[t] * tf[t] * (K1 + 1) / (tf[t] + K1 * (1 - B + B * len(words) / mean))
                    for t in idf if tf[t])
        scored.append((score, c))
    scored.sort(key=lambda s: -s[0])
    return scored[:top]


def votes(past: Sequence[PastCommit], query: Iterable[tuple[str, float]], top: int = TOP) -> dict[str, float]:
    """Each file → its share of the votes of the `top` past commits most like the query, best
    first; the best-voted file has 1.0. Empty when no subject shares a word."""
    out: dict[str, float] = {}
    for score, c in most_like(past, query, top):
        for path in c.files:
            out[path] = out.get(path, 0.0) + score / math.sqrt(len(c.files))
    best = max(out.values(), default=0.0)
    return {p: round(v / best, 4) for p, v in sorted(out.items(), key=lambda i: -i[1])} if best else {}
