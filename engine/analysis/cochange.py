"""Conflict risk from history: files that change together, and files that change often.

Two subtasks can own disjoint files and still collide at merge time when their files are
coupled: the last few hundred commits that touched one mostly touched the other too, or a
file is hot (in a large share of recent commits), so whoever owns it races everyone else's
edits around it. The plan pipeline remembers the repo it analysed (`remember`), and the
conflict-risk rule asks `history_reasons` for the couplings between its subtasks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from pathlib import Path

from engine.core.errors import GitError
from engine.core.models import Subtask
from engine.hosts.gitcli import git

WINDOW = 300
"""Recent non-merge commits read."""
BULK = 40
"""A commit touching more files (a rename, a reformat) couples everything and says nothing."""
MIN_TOGETHER = 3
MIN_SHARE = 0.5
"""Coupled: changed together at least MIN_TOGETHER times, in at least half of the rarer file's commits."""
HOT_MIN_COMMITS = 5
HOT_SHARE = 0.2
MIN_WINDOW = 10
"""Too short a history says nothing about heat."""


@dataclass(frozen=True, slots=True)
class PastCommit:
    subject: str
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    commits: int
    changes: Counter[str]
    together: Counter[tuple[str, str]]
    """(a, b) with a < b → commits that changed both."""
    past: tuple[PastCommit, ...] = ()
    """The window's commits (newest first, bulk ones left out): their subjects and files."""
    _near: dict[str, Counter[str]] = field(default_factory=dict, compare=False, repr=False)

    def neighbours(self, path: str) -> Counter[str]:
        """Files changed together with `path` → in how many of the window's commits."""
        if not self._near and self.together:
            for (a, b), n in self.together.items():
                self._near.setdefault(a, Counter())[b] = n
                self._near.setdefault(b, Counter())[a] = n
        return self._near.get(path, Counter())

    def share(self, path: str, other: str) -> float:
        """The share of `path`'s commits that also changed `other` (how far one predicts the other)."""
        base = self.changes[path]
        return self.neighbours(path)[other] / base if base else 0.0

    def coupled(self, a: str, b: str) -> int:
        """How often `a` and `b` changed together, when that is most of the rarer one's changes."""
        both = self.together[(a, b) if a < b else (b, a)]
        rarer = min(self.changes[a], self.changes[b])
        return both if both >= MIN_TOGETHER and rarer and both / rarer >= MIN_SHARE else 0

    def hot(self, path: str) -> bool:
        n = self.changes[path]
        return self.commits >= MIN_WINDOW and n >= HOT_MIN_COMMITS and n / self.commits >= HOT_SHARE


_REPO: ContextVar[tuple[Path, str] | None] = ContextVar("cochange_repo", default=None)


def remember(root: Path, head: str) -> None:
    """The repo (and commit) the current plan is made for; validation reads its history."""
    _REPO.set((root, head))


@lru_cache(maxsize=8)
def read_history(root: Path, head: str, window: int = WINDOW) -> History:
    """Per-file and per-pair change counts over the last `window` commits before `head`, and
    each commit's subject and files."""
    log = git(root, "log", "--no-merges", "--name-only", "--format=%x01%s", "-n", str(window), head)
    changes: Counter[str] = Counter()
    together: Counter[tuple[str, str]] = Counter()
    past = []
    commits = 0
    for chunk in log.split("\x01")[1:]:
        subject, _, names = chunk.partition("\n")
        files = sorted({line for line in names.splitlines() if line.strip()})
        commits += 1
        if len(files) > BULK:
            continue
        changes.update(files)
        together.update(combinations(files, 2))
        past.append(PastCommit(subject=subject, files=tuple(files)))
    return History(commits=commits, changes=changes, together=together, past=tuple(past))


def history_reasons(subtasks: Sequence[Subtask]) -> list[str]:
    """Couplings between different subtasks' files and hot files, as risk reasons; none without
    a remembered repo, a readable history, or a second subtask."""
    repo = _REPO.get()
    if repo is None or len(subtasks) < 2:
        return []
    try:
        history = read_history(*repo)
    except GitError:
        return []
    return coupling_reasons(subtasks, history)


def coupling_reasons(subtasks: Sequence[Subtask], history: History) -> list[str]:
    owned = {s.name: [p for p in s.files_to_modify if p in history.changes] for s in subtasks}
    reasons = []
    for first, second in combinations(subtasks, 2):
        for a in owned[first.name]:
            for b in owned[second.name]:
                if n := history.coupled(a, b):
                    reasons.append(f"{a} ({first.name}) and {b} ({second.name}) changed together "
                                   f"in {n} of the last {history.commits} commits")
    for sub in subtasks:
        reasons += [f"{p} ({sub.name}) is hot: changed in {history.changes[p]} of the last "
                    f"{history.commits} commits" for p in owned[sub.name] if history.hot(p)]
    return reasons
