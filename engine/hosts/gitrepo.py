"""Git for one operation (a check, a merge, a report): porcelain, objects and history.

Porcelain whose exit code matters (merge-tree says "conflicts" with exit 1) runs plain `git`
on the host and returns the code with raw bytes instead of raising on every non-zero exit;
objects (conflict hunks) come from one persistent `cat-file --batch`. History reads (which
commits a branch has, their authors and summaries) go through GitPython's object layer
(`iter_commits`, `Commit`): `import git` costs about 0.1 s and opening a `Repo` two `git
version` calls, so it is imported and opened only for them (a whole-process `check` pays
neither: bench/check.py), and closed after. The hot, frequent reads (`status`, cached
`analyze`) never come here: they run plain `git` through `engine.hosts.gitcli`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.core.errors import GitError
from engine.hosts.gitcli import run_git, stream_git
from engine.hosts.local import LOCAL

if TYPE_CHECKING:
    from engine.hosts.host import Host
    from engine.hosts.local import Stream


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
    """The git commands of one open repository, with git's own message on failure. Porcelain
    runs plain `git` on the host (`gitcli.run_git`); GitPython's `Repo` (0.1 s to import, two
    `git version` calls to open) is opened only for what needs its object layer (`commits`)."""

    def __init__(self, repo: Any, path: Path, host: Host = LOCAL) -> None:
        self._repo = repo
        """GitPython's `Repo`, or None until `commits` needs it."""
        self.path = path
        self.host = host
        """The repo's own machine (GitPython reads it here): what its scratch worktrees use."""
        self._batch = threading.Lock()
        """One `cat-file --batch` serves every thread (`blob`): one question at a time."""
        self._cat: Stream | None = None

    def call(self, *args: str, ok: Sequence[int] = (0,), cwd: Path | None = None,
             stdin: bytes | None = None) -> GitResult:
        """Run `git args...` (fed `stdin`, if any); raise GitError unless the exit code is in `ok`."""
        proc = run_git(cwd or self.path, *args, host=self.host, stdin=stdin)
        result = GitResult(code=proc.returncode, out=proc.stdout, err=proc.stderr.decode("utf-8", "replace"))
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
        import git  # noqa: PLC0415 — see `_gitpython`

        try:
            return tuple(CommitInfo(sha=c.hexsha, summary=str(c.summary), author=str(c.author.name or ""),
                                    committed_at=int(c.committed_date))
                         for c in self._gitpython().iter_commits(f"{since}..{until}"))
        except (git.exc.GitCommandError, ValueError) as exc:
            raise GitError(f"cannot read the commits {since}..{until} in {self.path}: {exc}",
                           hint="check that both revisions exist (`git log`)") from None

    def diffstat(self, base: str, head: str, paths: Sequence[str] = ()) -> DiffStat:
        """What `head` changes against `base` (in `paths`, if any), file by file summed
        (`git diff --numstat`)."""
        out = self.call("diff", "--numstat", "-z", "--no-renames", base, head, "--", *paths).text
        fields = out.split("\0")
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
        one persistent `cat-file --batch`, not a `cat-file -p` each."""
        if "\n" in spec:  # the batch protocol is line-based: such a path is asked on its own
            result = self.call("cat-file", "-p", spec, ok=(0, 128))
            return result.out if result.code == 0 else None
        with self._batch:
            if self._cat is None:
                self._cat = stream_git(self.path, "cat-file", "--batch", host=self.host)
            assert self._cat.stdin is not None and self._cat.stdout is not None
            self._cat.stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
            self._cat.stdin.flush()
            header = self._cat.stdout.readline().split()
            if len(header) != 3:
                return None  # `<spec> missing`: nothing follows
            body = self._cat.stdout.read(int(header[2]))
            self._cat.stdout.read(1)
        return body

    def _gitpython(self) -> Any:
        if self._repo is None:
            import git  # noqa: PLC0415 — 0.1 s import, only for history reads

            try:
                self._repo = git.Repo(self.path)
            except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
                raise GitError(f"{self.path} is not a git repository",
                               hint="pass --repo with a git checkout") from None
        return self._repo

    def close(self) -> None:
        """End the `cat-file --batch` and GitPython's own processes."""
        if self._cat is not None:
            with contextlib.suppress(OSError):
                self._cat.kill()
            self._cat.wait()
            self._cat = None
        if self._repo is not None:
            self._repo.close()

    def sha(self, rev: str) -> str | None:
        """The commit `rev` names, or None when it names nothing."""
        out = self.call("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", ok=(0, 1)).text.strip()
        return out or None


@contextmanager
def open_repo(path: Path, host: Host = LOCAL) -> Iterator[RepoGit]:
    """Open `path` (a repository's top level, on this machine: GitPython reads it here) for one
    operation; closed (its git processes ended) after."""
    if not ((path / ".git").exists() or (path / "HEAD").is_file()):
        raise GitError(f"{path} is not a git repository", hint="pass --repo with a git checkout")
    g = RepoGit(None, path, host)
    try:
        yield g
    finally:
        g.close()
