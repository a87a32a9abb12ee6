"""Git worktrees and branches for a run: naming, creating, inspecting, removing.

One worktree + branch `parallel/<slug>` per subtask, outside the repo by default so the
agents' edits never show up in the main checkout's `git status`. `git worktree add` runs
one at a time (concurrent adds race on `.git/worktrees` and the ref locks), with
`--no-checkout`; the checkouts, which only touch each worktree's own index and files, then
run in parallel (bench/setup.py: 8 worktrees of a 5,000-file repo, 2.45 s against 3.91 s).
A worktree with no index was never checked out (the checkout writes the index last): it is
never adopted as it is, and never counted as holding work for what it lacks. Reads never
write (`--no-optional-locks`). Every call is an argv list through `engine.hosts.gitcli`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from engine.core import faults
from engine.core.config import ParallelConfig
from engine.core.errors import EngineError, ExitCode, GitError
from engine.hosts.gitcli import git, git_tied, run_git, worktree_records
from engine.hosts.gitrepo import CommitInfo, DiffStat, RepoGit
from engine.hosts.grouped import run_grouped
from engine.run.inflight import settle
from engine.run.own_work import own_work

if TYPE_CHECKING:
    from engine.run.journal import SessionRecord

BRANCH_PREFIX = "parallel/"
BACKUP_PREFIX = "refs/parallel-backup/"
INCLUDE_FILE = ".worktreeinclude"
_SLUG_BAD = re.compile(r"[^a-z0-9-]+")


class SetupFailed(EngineError):
    """The configured worktree setup command failed."""


class WorktreeFolderError(EngineError):
    """The folder the worktrees go in cannot be made or written."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True, slots=True, kw_only=True)
class GitActivity:
    """Progress only, never state: commits on the branch and files changed since base."""

    commits: int
    files_changed: tuple[str, ...]


def slugify(names: list[str]) -> list[str]:
    """Lowercase `[a-z0-9-]` slugs, unique within the list (`-2`, `-3` on clashes)."""
    out: list[str] = []
    for name in names:
        base = _SLUG_BAD.sub("-", name.lower()).strip("-")[:40].strip("-") or "task"
        slug, n = base, 1
        while slug in out:
            n += 1
            slug = f"{base}-{n}"
        out.append(slug)
    return out


def worktree_base(repo: Path, config: ParallelConfig) -> Path:
    if config.worktree_root:
        root = Path(config.worktree_root).expanduser()
        return root if root.is_absolute() else (repo / root).resolve()
    return repo.parent / f"{repo.name}.parallel"


def branch_exists(repo: Path, branch: str) -> bool:
    out = git(repo, "rev-parse", "--verify", "-q", f"refs/heads/{branch}", ok_codes=(0, 1))
    return bool(out.strip())


def registered_worktrees(repo: Path) -> dict[str, str]:
    """Path → branch (or '') for every worktree git knows (read NUL-separated: see
    `worktree_records`)."""
    return {r["worktree"]: r.get("branch", "").removeprefix("refs/heads/")
            for r in worktree_records(repo) if "worktree" in r}


def check_free(repo: Path, branch: str, path: Path) -> str | None:
    """Why `branch`/`path` cannot be created fresh, or None when both are free."""
    if branch_exists(repo, branch):
        return f"branch {branch} already exists"
    if path.exists():
        return f"worktree path {path} already exists"
    return None


def check_folder(base: Path) -> None:
    """Worktrees go in `base`: it must be (or become) a folder this user can write. Checked
    before anything is created, so a file in the way is one line, not a half-made run."""
    for path in (base, *base.parents):
        if not (path.exists() or path.is_symlink()):
            continue
        if not path.is_dir():
            raise WorktreeFolderError(f"cannot put worktrees in {base}: {path} is a file, not a folder",
                                      hint="move that file away, or set worktree_root to a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise WorktreeFolderError(f"cannot put worktrees in {base}: {path} is not writable",
                                      hint="make it writable, or set worktree_root to a folder you can write")
        return


def adoptable(repo: Path, branch: str, path: Path, registered: dict[str, str] | None = None) -> str | None:
    """Why `--reuse` may not continue at `path`, or None: it must be free, or a worktree of
    this repo on `branch` (a folder of the user's is never taken over)."""
    registered = registered_worktrees(repo) if registered is None else registered
    if str(path) in registered:
        on = registered[str(path)]
        return None if on == branch else f"{path} is a worktree of {on or 'a detached HEAD'}, not {branch}"
    if path.exists() or path.is_symlink():
        return f"{path} exists and is not a worktree of this repository"
    return None


def ensure_registered(repo: Path, branch: str, path: Path, base_sha: str,
                      registered: dict[str, str]) -> bool:
    """Make `branch` (from `base_sha` if new) and its worktree at `path`, registered with
    `--no-checkout` (`finish_checkout` fills it); True when the worktree was there already.
    `registered` is `registered_worktrees(repo)` as of now."""
    on = registered.get(str(path))
    if on == branch and path.is_dir():
        return True
    if on == branch:
        git(repo, "worktree", "prune")  # its folder was deleted by hand: add it again
    elif why := adoptable(repo, branch, path, registered):
        raise GitError(why, hint="move it away, or remove it with `parallel-tui cleanup`")
    if not branch_exists(repo, branch):
        git(repo, "branch", branch, base_sha)
        faults.reached("branch")
    path.parent.mkdir(parents=True, exist_ok=True)
    git(repo, "worktree", "add", "--no-checkout", str(path), branch)
    faults.reached("worktree")
    return False


def git_dir(worktree: Path) -> Path | None:
    """The worktree's private git dir (`<repo>/.git/worktrees/<name>`), from its `.git` file."""
    try:
        text = (worktree / ".git").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("gitdir:"):
        return None
    found = Path(text[len("gitdir:"):].strip())
    return found if found.is_absolute() else (worktree / found).resolve()


def checkout_complete(worktree: Path) -> bool:
    """Whether the checkout finished: git writes a worktree's index last, so no index means
    `--no-checkout` was never followed by a completed checkout."""
    gitdir = git_dir(worktree)
    return gitdir is not None and (gitdir / "index").is_file()


def finish_checkout(worktree: Path, wait_s: float = 2.0) -> None:
    """Fill a worktree whose checkout never completed. A killed run's checkout may still be
    running (its git outlives it): it is let finish, or ended (`inflight.settle`). A checkout
    killed mid-way leaves its `index.lock`; once it has outlived `wait_s` it is stale and goes.
    The git is tied to this process: killed with it (Linux), it writes no files after."""
    gitdir = git_dir(worktree)
    if gitdir is None:
        raise GitError(f"{worktree} has no readable .git link", hint="remove it with `parallel-tui cleanup`")
    settle(worktree, gitdir)
    lock = gitdir / "index.lock"
    deadline = time.monotonic() + wait_s
    while lock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    lock.unlink(missing_ok=True)
    git_tied(worktree, "reset", "-q", "--hard")


def checkout_all(paths: Sequence[Path], workers: int) -> dict[Path, float]:
    """Fill worktrees added with `--no-checkout`, in parallel; seconds per worktree."""
    def one(path: Path) -> tuple[Path, float]:
        faults.reached("checkout")
        started = time.perf_counter()
        finish_checkout(path)
        return path, time.perf_counter() - started

    if not paths:
        return {}
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - run only, not status's import

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(paths)))) as pool:
        return dict(pool.map(one, paths))


def copy_included(repo: Path, worktree: Path) -> list[str]:
    """Copy the files `.worktreeinclude` names (globs, e.g. `.env`) that the checkout lacks."""
    spec = repo / INCLUDE_FILE
    if not spec.is_file():
        return []
    copied = []
    for raw in spec.read_text(encoding="utf-8").splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#") or _unsafe(pattern):
            continue
        for source in sorted(repo.glob(pattern.lstrip("/"))):
            rel = source.relative_to(repo)
            target = worktree / rel
            if source.is_file() and ".git" not in rel.parts and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
                copied.append(rel.as_posix())
    return copied


def _unsafe(pattern: str) -> bool:
    pure = PurePosixPath(pattern)
    return pure.is_absolute() or ".." in pure.parts


def run_setup(command: str, worktree: Path, timeout_s: float = 1800) -> float:
    """Run the setup command (split into argv, no shell) in `worktree`, in its own process
    group, ended whole on the timeout or an interrupt (engine.hosts.grouped); seconds taken."""
    argv = shlex.split(command)
    try:
        done = run_grouped(argv, cwd=worktree, timeout_s=timeout_s)
    except OSError as exc:
        raise SetupFailed(f"setup command {command!r} could not run in {worktree}: {exc}",
                          hint="fix worktree_setup_command in .parallel-tui.toml") from None
    if done.timed_out:
        raise SetupFailed(f"setup command {command!r} did not finish within {timeout_s:g}s in {worktree} "
                          "(it and everything it started were ended)",
                          hint="raise worktree_setup_timeout, or make the command faster; "
                               "then `parallel-tui run --resume`")
    if done.code != 0:
        tail = done.output.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise SetupFailed(f"setup command {command!r} exited {done.code} in {worktree}: {tail[0]}",
                          hint="fix worktree_setup_command, then continue with `parallel-tui run --resume`")
    return done.seconds


def activity(worktree: Path, base_sha: str, builds_on: Sequence[str] = ()) -> GitActivity | None:
    """Its own commits since base and files changed (committed or not); None if the worktree is
    gone. `builds_on` names the branches its work starts from (`builds_on_refs`): what they
    hold, and what a merge brought in, is not its own work (`engine.run.own_work`), so neither
    its counts nor the overlap radar take them."""
    if not checkout_complete(worktree):
        return None  # half-made: what it lacks is not a change (see `worktree_work`)
    try:
        own = own_work(worktree, base_sha, {"HEAD": "HEAD", **{ref: ref for ref in builds_on}},
                       {"HEAD": builds_on}).get("HEAD")
        dirty = git(worktree, "--no-optional-locks", "status", "--porcelain", "-z",
                    "--untracked-files=all").split("\0")
    except GitError:
        return None
    if own is None:
        return None  # no HEAD to count from
    files = set(own.files) | {e[3:] for e in dirty if len(e) > 3 and e[2] == " "}
    return GitActivity(commits=own.commits, files_changed=tuple(sorted(files)))


def depends_of(sessions: Sequence[SessionRecord]) -> dict[str, tuple[str, ...]]:
    """Branch → the branches its subtask builds on (the plan's `depends_on`): the merge order
    follows them, and their commits are not the branch's own work."""
    branch_of = {s.name: s.branch for s in sessions}
    return {s.branch: tuple(branch_of[d] for d in s.depends_on if d in branch_of) for s in sessions
            if s.depends_on}


def builds_on_refs(sessions: Sequence[SessionRecord], record: SessionRecord) -> tuple[str, ...]:
    """`depends_of` for one session, as refs."""
    return tuple(f"refs/heads/{b}" for b in depends_of(sessions).get(record.branch, ()))


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchHistory:
    """A session's branch since the run's base: its commits, and what they change together."""

    commits: tuple[CommitInfo, ...]
    stat: DiffStat


def branch_history(g: RepoGit, base_sha: str, branch: str) -> BranchHistory | None:
    """Read through GitPython (the report, a review): not for `status`, which polls and must
    not pay its import (`activity` stays plain git). None when the branch is gone."""
    ref = f"refs/heads/{branch}"
    if not base_sha or g.sha(ref) is None:
        return None
    return BranchHistory(commits=g.commits(base_sha, ref), stat=g.diffstat(base_sha, ref))


def worktree_work(worktree: Path) -> str:
    """What removing `worktree` would lose: `nothing`, `changes` (uncommitted), or `unknown`
    (git cannot read it: unknown is never treated as nothing). A never-checked-out worktree
    is compared with its HEAD through a throwaway index: files it lacks are not work."""
    if not worktree.exists():
        return "nothing"
    gitdir = git_dir(worktree)
    if gitdir is None or not gitdir.is_dir():
        return "unknown"
    settle(worktree, gitdir)  # a dead run's checkout still writing: judge what it leaves
    if not (gitdir / "index").is_file():
        lines = _status_against_head(worktree)
        if lines is None:
            return "unknown"
        return "changes" if any(not ln.startswith(" D ") for ln in lines) else "nothing"
    try:
        out = git(worktree, "--no-optional-locks", "status", "--porcelain", "--untracked-files=all")
    except GitError:
        return "unknown"
    return "changes" if out.strip() else "nothing"


def _status_against_head(worktree: Path) -> list[str] | None:
    with tempfile.TemporaryDirectory(prefix="ptui-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        lines: list[str] = []
        for args in (("read-tree", "HEAD"), ("--no-optional-locks", "status", "--porcelain",
                                             "--untracked-files=all")):
            proc = run_git(worktree, *args, env=env)
            if proc.returncode != 0:
                return None
            lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
        return [ln for ln in lines if ln]


def remove_worktree(repo: Path, path: Path) -> bool:
    """Remove a worktree even when dirty or locked; prune if git lost track of it. True when
    it is gone: neither on disk nor listed by git (what a caller may announce)."""
    settle(path, git_dir(path))  # a dead run's git still writing would put files back
    if str(path) in registered_worktrees(repo):
        git(repo, "worktree", "remove", "--force", "--force", str(path), ok_codes=(0, 128))
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
    git(repo, "worktree", "prune")
    return not (path.exists() or path.is_symlink()) and str(path) not in registered_worktrees(repo)


def branch_sha(repo: Path, branch: str) -> str | None:
    out = git(repo, "rev-parse", "--verify", "-q", f"refs/heads/{branch}", ok_codes=(0, 1)).strip()
    return out or None


def is_safe_to_delete(repo: Path, branch: str, base_ref: str) -> bool:
    """Whether every commit of `branch` is in `base_ref` or on some remote-tracking ref."""
    sha = branch_sha(repo, branch)
    if sha is None:
        return True
    targets = [base_ref, *_remote_refs(repo)]
    for target in targets:
        code = run_git(repo, "merge-base", "--is-ancestor", sha, target).returncode
        if code == 0:
            return True
    return False


def _remote_refs(repo: Path) -> list[str]:
    out = git(repo, "for-each-ref", "--format=%(refname)", "refs/remotes")
    return [r for r in out.splitlines() if r]


def backup_and_delete_branch(repo: Path, branch: str, run_id: str) -> str:
    """Keep `refs/parallel-backup/<run>/<branch>` then delete the branch; return the ref."""
    sha = branch_sha(repo, branch)
    ref = f"{BACKUP_PREFIX}{run_id}/{branch}"
    if sha:
        git(repo, "update-ref", ref, sha)
        _delete_at(repo, branch, sha)
    return ref


def delete_branch(repo: Path, branch: str) -> None:
    if (sha := branch_sha(repo, branch)) is not None:
        _delete_at(repo, branch, sha)


def _delete_at(repo: Path, branch: str, sha: str) -> None:
    """Delete the branch only if it still points at `sha` (git checks atomically): a commit
    made after we looked makes this fail instead of vanishing."""
    git(repo, "update-ref", "-d", f"refs/heads/{branch}", sha)
