"""Git through GitPython's `Repo.git`, one `Repo` per operation.

GitPython's docs warn that a long-lived `Repo` leaks resources, and `import git` costs about
0.1 s, so it is imported here, lazily, and a `Repo` is opened for one check or merge and
closed after. Exit codes matter (merge-tree says "conflicts" with exit 1), so calls return
the code with raw bytes instead of raising on every non-zero exit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.errors import GitError


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
