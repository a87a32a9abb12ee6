"""Past commits like the task vote for the files they changed (`engine.analysis.similar`)."""

from __future__ import annotations

from engine.analysis.cochange import PastCommit
from engine.analysis.localize import query_terms
from engine.analysis.similar import votes

PAST = (
    PastCommit("Fix the breadcrumbs of hidden pages", ("theme/breadcrumbs.html", "nav.py")),
    PastCommit("Speed up the page cache", ("cache.py",)),
    PastCommit("Reformat every page", tuple(f"pages/p{i}.md" for i in range(16))),
    *(PastCommit(f"Tidy the page builder {i}", ("builder.py",)) for i in range(6)),
)


def query(text: str) -> list[tuple[str, float]]:
    return [(t.term, t.weight) for t in query_terms(text)]


def test_a_rare_shared_word_outvotes_a_common_one() -> None:
    found = votes(PAST, query("Show hidden pages in the breadcrumbs"))
    assert set(list(found)[:2]) == {"nav.py", "theme/breadcrumbs.html"}
    assert found["theme/breadcrumbs.html"] == 1.0
    assert found["builder.py"] < 0.5


def test_a_broad_commit_spreads_its_vote_thin() -> None:
    """"Reformat every page" shares the rarer word, but sixteen files split its vote."""
    found = votes(PAST, query("Reformat the page cache"))
    assert found["cache.py"] == 1.0
    assert 0 < found["pages/p0.md"] < 0.5


def test_no_shared_word_no_votes() -> None:
    assert not votes(PAST, query("Add a websocket transport"))
    assert not votes((), query("Show hidden pages"))
