"""The replay bench counts a plan's ownership the way the run's edit guard judges it: a planned
folder owns the files in it, and no more."""

from __future__ import annotations

from bench.localize import convention_hit
from bench.replay import Tally


def test_a_planned_folder_owns_the_new_fragment_and_nothing_outside_it() -> None:
    tally = Tally()
    touched = {"src/pkg/net.py", "tests/test_net.py", "changelog.d/1234.breaking.md"}
    tally.score(touched, {"src/pkg/net.py", "changelog.d/", "src/pkg/cache.py"}, parallelise=False)
    assert (tally.touched, tally.covered) == (3, 2)  # the fragment by the folder; the test is no one's
    assert (tally.planned, tally.planned_hit) == (3, 2)  # cache.py was planned for nothing
    assert (tally.tests, tally.tests_covered, tally.full) == (1, 0, 0)


def test_a_folder_named_like_a_file_owns_nothing_beside_it() -> None:
    tally = Tally()
    tally.score({"changelog.d.md", "src/a.py"}, {"changelog.d/", "src/a.py"}, parallelise=False)
    assert (tally.covered, tally.planned_hit, tally.full) == (1, 1, 0)


def test_a_planned_fragment_folder_is_where_the_commit_put_its_entry() -> None:
    touched = {"src/pkg/net.py", "changelog.d/1234.change.md"}
    assert convention_hit(("src/pkg/net.py", "changelog.d/"), touched, "changelog")
    assert not convention_hit(("src/pkg/net.py", "news/"), touched, "changelog")
