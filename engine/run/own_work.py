"""A branch's own work: the commits and files that are its, not what it merged in.

A resolve merges the run's other branches (the target so far) into a branch, and a later
wave starts from its dependencies: those commits are theirs, and counting them again made the
board, merge review and the report disagree (and raised overlap warnings on files only the
other branch changed). All three count a branch by this one rule:

- its own commits: the non-merge commits since the base that no other branch holds (a branch
  that holds this one's tip merged this one in, and takes nothing from it);
- its own files: with nothing merged in, the diff from where it left the base to its tip (a
  file changed back is no change); else the files its own commits change.

Any number of branches cost two git processes (three when a tip is a ref, not a commit id):
one `rev-list --parents` of all of them, the graph walked here, and one `diff-tree --stdin`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from engine.hosts.gitcli import git
from engine.hosts.host import LOCAL, Host

_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
Diff = list[tuple[str, str]]
"""(status, path) pairs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnWork:
    commits: int
    files: tuple[str, ...]
    """Sorted."""
    deleted: int
    """Files the whole branch deletes, from where it left the base (what merging it deletes)."""


def own_work(cwd: Path, base: str, tips: Mapping[str, str], *, host: Host = LOCAL) -> dict[str, OwnWork]:
    """Each branch's own work since `base`, the others in `tips` (name → commit id, ref or
    `HEAD`) being the branches whose commits are not its. A tip git cannot find (a deleted
    branch) is left out of the answer and counts for no one."""
    shas = _resolve(cwd, tips, host)
    if not shas:
        return {}
    parents = _graph(cwd, base, set(shas.values()), host)
    reach = {name: _ancestors(sha, parents) for name, sha in shas.items()}
    plans = {name: _plan(name, shas, reach, parents) for name in shas}
    lines = [line for plan in plans.values() for line in plan.lines]
    diffs = iter(_diff_tree(cwd, lines, host))
    work: dict[str, OwnWork] = {}
    for name, plan in plans.items():
        results = [next(diffs) for _ in plan.lines]
        work[name] = plan.finish(results, partial(_three_dot, cwd, base, shas[name], host))
    return work


@dataclass(frozen=True, slots=True)
class _Plan:
    own: tuple[str, ...]
    whole: str
    """`<tip> <where it left the base>` for `diff-tree` (a commit and the parent to diff it
    against); '' when it left at several commits."""
    plain: bool
    """Nothing merged in: its own files are the whole diff's."""

    @property
    def lines(self) -> list[str]:
        return ([self.whole] if self.whole else []) + ([] if self.plain else list(self.own))

    def finish(self, results: list[Diff], three_dot: Callable[[], Diff]) -> OwnWork:
        whole = results[0] if self.whole else three_dot()
        mine = whole if self.plain else [entry for result in results[bool(self.whole):] for entry in result]
        return OwnWork(commits=len(self.own), files=tuple(sorted({path for _, path in mine})),
                       deleted=sum(1 for kind, _ in whole if kind == "D"))


def _plan(name: str, shas: Mapping[str, str], reach: Mapping[str, set[str]],
          parents: Mapping[str, tuple[str, ...]]) -> _Plan:
    tip, mine = shas[name], reach[name]
    others = [reach[o] for o in shas if o != name and tip not in reach[o]]
    own = tuple(c for c in mine if len(parents[c]) == 1 and not any(c in r for r in others))
    left_at = {p for c in mine for p in parents[c] if p not in parents}
    whole = f"{tip} {next(iter(left_at))}" if len(left_at) == 1 else (f"{tip} {tip}" if not mine else "")
    return _Plan(own=own, whole=whole, plain=len(own) == len(mine))


def _resolve(cwd: Path, tips: Mapping[str, str], host: Host) -> dict[str, str]:
    if all(_OBJECT_ID.fullmatch(t) for t in tips.values()):
        return dict(tips)
    out = git(cwd, "cat-file", "--batch-check=%(objectname) %(objecttype)", host=host,
              stdin="".join(f"{t}^{{commit}}\n" for t in tips.values()).encode())
    answers = [line.split() for line in out.splitlines()]
    return {name: a[0] for name, a in zip(tips, answers, strict=True) if len(a) == 2 and a[1] == "commit"}


def _graph(cwd: Path, base: str, tips: Iterable[str], host: Host) -> dict[str, tuple[str, ...]]:
    """Every commit since `base` on any tip → its parents."""
    out = git(cwd, "rev-list", "--parents", *tips, "--not", base, "--", host=host)
    return {ids[0]: tuple(ids[1:]) for ids in (line.split() for line in out.splitlines()) if ids}


def _ancestors(tip: str, parents: Mapping[str, tuple[str, ...]]) -> set[str]:
    seen: set[str] = set()
    todo = [tip] if tip in parents else []
    while todo:
        commit = todo.pop()
        if commit not in seen:
            seen.add(commit)
            todo.extend(p for p in parents[commit] if p in parents)
    return seen


def _diff_tree(cwd: Path, lines: list[str], host: Host) -> list[Diff]:
    """(status, path) of each line, in order: `<commit> <parent>` diffs parent → commit,
    `<commit>` diffs it against its own parent.
    Each line's output starts with a header (`--always`: also when its diff is empty)."""
    if not lines:
        return []
    out = git(cwd, "diff-tree", "--stdin", "--always", "-r", "-z", "--name-status", "--no-renames",
              host=host, stdin="".join(f"{line}\n" for line in lines).encode())
    results: list[Diff] = []
    fields = out.split("\0")
    i = 0
    while i < len(fields):
        field = fields[i]
        if _OBJECT_ID.fullmatch(field):  # the next line's header; a status is a letter or two
            results.append([])
            i += 1
        elif field and results:
            results[-1].append((field, fields[i + 1] if i + 1 < len(fields) else ""))
            i += 2
        else:
            i += 1
    return results


def _three_dot(cwd: Path, base: str, tip: str, host: Host) -> Diff:
    """The whole diff of a branch that left the base at several commits (it merged the base's
    branch in): from their merge base, as `git diff base...tip`."""
    fields = git(cwd, "diff", "--name-status", "-z", "--no-renames", f"{base}...{tip}", host=host).split("\0")
    return [(kind, path) for kind, path in zip(fields[::2], fields[1::2], strict=False) if path]
