"""Git through GitPython, one `Repo` per operation: history and objects, and `Repo.git`.

History reads (which commits a branch has, their authors and summaries) go through
GitPython's object layer (`iter_commits`, `Commit`, read from one `cat-file --batch`);
porcelain whose exit code matters (merge-tree says "conflicts" with exit 1) goes through
`Repo.git` and returns the code with raw bytes instead of raising on every non-zero exit.
GitPython's docs warn that a long-lived `Repo` leaks resources, and `import git` costs about
0.1 s, so it is imported here, lazily, and a `Repo` is opened for one check, merge or report
and closed after. The hot, frequent reads (`status`, cached `analyze`) never come here: they
run plain `git` through `engine.hosts.gitcli` (bench/startup.py, bench/setup.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.errors import GitError


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitInfo:
    sha: str
    summary: str
    author: str
    committed_at: int
    """Seconds since the epoch."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffStat:
    """Lines added and removed between two commits; binary files count as changed, 0 lines."""

    files: tuple[str, ...]
    insertions: int
    deletions: int


@dataclass(frozen=True, slots=True)
class GitResult:
    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode("utf-8", "surrogateescape")


class RepoGit:
    """The git commands of one open repository, with git's own message on failure."""

    def __init__(self, repo: Any, path: Path) -> None:
        self._repo = repo
        self.path = path
        self._batch = threading.Lock()
        """One `cat-file --batch` serves every thread (`blob`): one question at a time."""

    def call(self, *args: str, ok: Sequence[int] = (0,), cwd: Path | None = None) -> GitResult:
        """Run `git args...`; raise GitError unless the exit code is in `ok`."""
        try:
            code, out, err = self._repo.git.execute(
                ["git", *(("-C", str(cwd)) if cwd else ()), *args], with_extended_output=True,
                with_exceptions=False, strip_newline_in_stdout=False, stdout_as_string=False)
        except OSError as exc:
            raise GitError(f"git could not run: {exc}", hint="install git (apt-get install git)") from None
        result = GitResult(code=int(code), out=bytes(out),
                           err=err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err))
        if result.code not in ok:
            lines = result.err.strip().splitlines()
            detail = lines[-1] if lines else f"exit {result.code}"
            raise GitError(f"git {args[0]} failed in {cwd or self.path}: {detail}",
                           hint="check the repository state with `git status`")
        return result

    def text(self, *args: str, cwd: Path | None = None) -> str:
        return self.call(*args, cwd=cwd).text.strip()

    def commits(self, since: str, until: str) -> tuple[CommitInfo, ...]:
        """Commits reachable from `until` and not from `since`, newest first."""
        import git  # noqa: PLC0415 — loaded by `open_repo` already

        try:
            return tuple(CommitInfo(sha=c.hexsha, summary=str(c.summary), author=str(c.author.name or ""),
                                    committed_at=int(c.committed_date))
                         for c in self._repo.iter_commits(f"{since}..{until}"))
        except (git.exc.GitCommandError, ValueError) as exc:
            raise GitError(f"cannot read the commits {since}..{until} in {self.path}: {exc}",
                           hint="check that both revisions exist (`git log`)") from None

    def diffstat(self, base: str, head: str) -> DiffStat:
        """What `head` changes against `base`, file by file summed (`git diff --numstat`)."""
        fields = self.call("diff", "--numstat", "-z", "--no-renames", base, head).text.split("\0")
        files, added, removed = [], 0, 0
        for entry in fields:
            parts = entry.split("\t", 2)
            if len(parts) != 3:
                continue
            files.append(parts[2])
            added += int(parts[0]) if parts[0].isdigit() else 0
            removed += int(parts[1]) if parts[1].isdigit() else 0
        return DiffStat(files=tuple(sorted(files)), insertions=added, deletions=removed)

    def heads(self) -> dict[str, str]:
        """Every branch (`refs/heads/…`, full name) → its commit, in one `for-each-ref`: a check
        resolves all its branches and the target from one read instead of a `rev-parse` each."""
        out = self.call("for-each-ref", "--format=%(objectname) %(refname)", "refs/heads").text
        return {ref: sha for sha, _, ref in (line.partition(" ") for line in out.splitlines()) if ref}

    def blob(self, spec: str) -> bytes | None:
        """The object `spec` names (`<tree>:<path>`), or None when it names nothing; read from
        the repo's one persistent `cat-file --batch` (GitPython's), not a `cat-file -p` each."""
        with self._batch:
            try:
                _sha, _kind, _size, data = self._repo.git.get_object_data(spec)
            except ValueError:  # `<spec> missing`
                return None
        return bytes(data)

    def sha(self, rev: str) -> str | None:
        """The commit `rev` names, or None when it names nothing."""
        out = self.call("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", ok=(0, 1)).text.strip()
        return out or None


@contextmanager
def open_repo(path: Path) -> Iterator[RepoGit]:
    """Open `path` for one operation; closed (and its cat-file processes ended) after."""
    try:
        import git  # noqa: PLC0415 — 0.1 s import, only on the merge path
    except ImportError:  # pragma: no cover — a declared dependency
        raise GitError("GitPython is not installed", hint="reinstall: make venv") from None
    try:
        repo = git.Repo(path)
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
        raise GitError(f"{path} is not a git repository", hint="pass --repo with a git checkout") from None
    with repo:
        yield RepoGit(repo, path)
