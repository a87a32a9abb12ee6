"""Git worktrees and branches for a run: naming, creating, inspecting, removing.

One worktree + branch `parallel/<slug>` per subtask, outside the repo by default so the
agents' edits never show up in the main checkout's `git status`. `git worktree add` runs
one at a time (concurrent adds race on `.git/worktrees` and the ref locks), with
`--no-checkout`; the checkouts, which only touch each worktree's own index and files, then
run in parallel (bench/setup.py: 8 worktrees of a 5,000-file repo, 2.45 s against 3.91 s).
A worktree with no index was never checked out (the checkout writes the index last): it is
never adopted as it is, and never counted as holding work for what it lacks. Reads never
write (`--no-optional-locks`). Every call is an argv list through `engine.hosts.gitcli`, on the
host the session lives on (its `.git` link and files are read there too).
"""

from __future__ import annotations

import os
import re
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine.core import faults
from engine.core.config import ParallelConfig
from engine.core.errors import EngineError, ExitCode, GitError
from engine.hosts.gitcli import git, git_tied, run_git, worktree_records
from engine.hosts.gitrepo import CommitInfo, DiffStat, RepoGit
from engine.hosts.host import Host
from engine.hosts.inflight import settle
from engine.hosts.own_work import own_work

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


def branch_exists(repo: Path, branch: str, *, host: Host) -> bool:
    out = git(repo, "rev-parse", "--verify", "-q", f"refs/heads/{branch}", ok_codes=(0, 1), host=host)
    return bool(out.strip())


def registered_worktrees(repo: Path, *, host: Host) -> dict[str, str]:
    """Path → branch (or '') for every worktree git knows (read NUL-separated: see
    `worktree_records`)."""
    return {r["worktree"]: r.get("branch", "").removeprefix("refs/heads/")
            for r in worktree_records(repo, host=host) if "worktree" in r}


@dataclass(slots=True)
class Present:
    """A repo's branches and the names in some folders, each looked at once (on an SSH host a
    look is a round trip), then kept current by whoever adds to them under the repo lock."""

    branches: set[str]
    names: dict[Path, set[str] | None]
    """Folder → its names (a dangling symlink too); None when it cannot be listed."""

    def holds(self, path: Path, host: Host) -> bool:
        names = self.names[path.parent] if path.parent in self.names else _names_in(path.parent, host)
        return path.name in names if names is not None else host.exists(path)

    def add(self, branch: str, path: Path) -> None:
        self.branches.add(branch)
        names = self.names.get(path.parent)
        if names is not None:
            names.add(path.name)


def present_in(repo: Path, folders: Sequence[Path], *, host: Host) -> Present:
    listed = git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/", host=host).split("\n")
    return Present(branches={ref.removeprefix("refs/heads/") for ref in listed if ref},
                   names={folder: _names_in(folder, host) for folder in set(folders)})


def check_free(repo: Path, wanted: Sequence[tuple[str, Path]], *, host: Host) -> list[str]:
    """Why each (branch, path) of `wanted` cannot be created fresh, in order ([] when all are
    free). Two looks however many there are (the branches, then each folder's names)."""
    present = present_in(repo, [path.parent for _, path in wanted], host=host)
    why: list[str] = []
    for branch, path in wanted:
        if branch in present.branches:
            why.append(f"branch {branch} already exists")
        elif present.holds(path, host):
            why.append(f"worktree path {path} already exists")
    return why


def _names_in(folder: Path, host: Host) -> set[str] | None:
    """The names in `folder` (a dangling symlink too); empty when there is no such folder,
    None when it cannot be listed (each path is then asked about alone)."""
    try:
        return set(host.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return set()
    except OSError:
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


def adoptable(repo: Path, branch: str, path: Path, registered: dict[str, str] | None = None, *,
              host: Host, present: Present | None = None) -> str | None:
    """Why `--reuse` may not continue at `path`, or None: it must be free, or a worktree of
    this repo on `branch` (a folder of the user's is never taken over)."""
    registered = registered_worktrees(repo, host=host) if registered is None else registered
    if str(path) in registered:
        on = registered[str(path)]
        return None if on == branch else f"{path} is a worktree of {on or 'a detached HEAD'}, not {branch}"
    if (present or Present(branches=set(), names={})).holds(path, host):  # a dangling symlink too
        return f"{path} exists and is not a worktree of this repository"
    return None


def ensure_registered(repo: Path, branch: str, path: Path, base_sha: str,
                      registered: dict[str, str], *, host: Host, present: Present | None = None) -> bool:
    """Make `branch` (from `base_sha` if new) and its worktree at `path`, registered with
    `--no-checkout` (`finish_checkout` fills it); True when the worktree was there already.
    `registered` is `registered_worktrees(repo)` as of now; `present`, when given, what the
    repo and the folder hold (kept current here)."""
    on = registered.get(str(path))
    if on == branch and host.exists(path):
        return True
    if on == branch:
        git(repo, "worktree", "prune", host=host)  # its folder was deleted by hand: add it again
    elif why := adoptable(repo, branch, path, registered, host=host, present=present):
        raise GitError(why, hint="move it away, or remove it with `parallel-tui cleanup`")
    known = branch in present.branches if present is not None else branch_exists(repo, branch, host=host)
    if present is not None:
        present.add(branch, path)
    if not known:
        if host.name != "local":  # a round trip per git call there: branch and worktree (and parents) at once
            git(repo, "worktree", "add", "--no-checkout", "-b", branch, str(path), base_sha, host=host)
            faults.reached("branch")
            faults.reached("worktree")
            return False
        git(repo, "branch", branch, base_sha, host=host)
        faults.reached("branch")
    host.mkdir(path.parent)
    git(repo, "worktree", "add", "--no-checkout", str(path), branch, host=host)
    faults.reached("worktree")
    return False


def git_dir(worktree: Path, *, host: Host) -> Path | None:
    """The worktree's private git dir (`<repo>/.git/worktrees/<name>`), from its `.git` file."""
    try:
        text = host.read_bytes(worktree / ".git").decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("gitdir:"):
        return None
    found = Path(text[len("gitdir:"):].strip())
    return found if found.is_absolute() else (worktree / found).resolve()


def checkout_complete(worktree: Path, *, host: Host) -> bool:
    """Whether the checkout finished: git writes a worktree's index last, so no index means
    `--no-checkout` was never followed by a completed checkout."""
    gitdir = git_dir(worktree, host=host)
    return gitdir is not None and host.exists(gitdir / "index")


def finish_checkout(worktree: Path, wait_s: float = 2.0, *, host: Host) -> None:
    """Fill a worktree whose checkout never completed. A killed run's checkout may still be
    running (its git outlives it): it is let finish, or ended (`inflight.settle`). A checkout
    killed mid-way leaves its `index.lock`; once it has outlived `wait_s` it is stale and goes.
    The git is tied to this process on this machine: killed with it (Linux), it writes no files after."""
    gitdir = git_dir(worktree, host=host)
    if gitdir is None:
        raise GitError(f"{worktree} has no readable .git link", hint="remove it with `parallel-tui cleanup`")
    settle(worktree, gitdir, host=host)
    lock = gitdir / "index.lock"
    deadline = time.monotonic() + wait_s
    while host.exists(lock) and time.monotonic() < deadline:
        time.sleep(0.05)
    host.remove(lock)
    git_tied(worktree, "reset", "-q", "--hard", host=host)


def checkout_all(paths: Sequence[Path], workers: int, *, host: Host,
                 fresh: frozenset[Path] = frozenset()) -> dict[Path, float]:
    """Fill worktrees added with `--no-checkout`, in parallel; seconds per worktree. Those in
    `fresh` were added by this process just now: no earlier checkout can still run or have left
    its lock there, so git is asked straight away (on an SSH host, one round trip, not six)."""
    def one(path: Path) -> tuple[Path, float]:
        faults.reached("checkout")
        started = time.perf_counter()
        if path in fresh:
            git_tied(path, "reset", "-q", "--hard", host=host)
        else:
            finish_checkout(path, host=host)
        return path, time.perf_counter() - started

    if not paths:
        return {}
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - run only, not status's import

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(paths)))) as pool:
        return dict(pool.map(one, paths))


def copy_included(repo: Path, worktree: Path, *, host: Host) -> list[str]:
    """Copy the files `.worktreeinclude` names (globs, e.g. `.env`) that the checkout lacks,
    from the repo here to the worktree on its host (mode kept; other metadata not)."""
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
            if source.is_file() and ".git" not in rel.parts and not host.exists(target):
                host.write_bytes(target, source.read_bytes())
                host.chmod(target, source.stat().st_mode & 0o7777)
                copied.append(rel.as_posix())
    return copied


def _unsafe(pattern: str) -> bool:
    pure = PurePosixPath(pattern)
    return pure.is_absolute() or ".." in pure.parts


def run_setup(command: str, worktree: Path, timeout_s: float = 1800, *, host: Host) -> float:
    """Run the setup command (split into argv, no shell) in `worktree` on its host, in its own
    process group, ended whole on the timeout or an interrupt (engine.hosts.grouped); seconds taken."""
    from engine.hosts.grouped import run_grouped  # noqa: PLC0415 - tempfile: `check` reads worktrees, runs none

    argv = shlex.split(command)
    try:
        done = run_grouped(argv, cwd=worktree, timeout_s=timeout_s, host=host)
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


def activity(worktree: Path, base_sha: str, builds_on: Sequence[str] = (), *,
             host: Host) -> GitActivity | None:
    """Its own commits since base and files changed (committed or not); None if the worktree is
    gone. `builds_on` names the branches its work starts from (`engine.run.depends.builds_on_refs`):
    what they hold, and what a merge brought in, is not its own work (`engine.hosts.own_work`), so
    neither its counts nor the overlap radar take them."""
    if not checkout_complete(worktree, host=host):
        return None  # half-made: what it lacks is not a change (see `worktree_work`)
    try:
        own = own_work(worktree, base_sha, {"HEAD": "HEAD", **{ref: ref for ref in builds_on}},
                       {"HEAD": builds_on}, host=host).get("HEAD")
        dirty = git(worktree, "--no-optional-locks", "status", "--porcelain", "-z",
                    "--untracked-files=all", host=host).split("\0")
    except GitError:
        return None
    if own is None:
        return None  # no HEAD to count from
    files = set(own.files) | {e[3:] for e in dirty if len(e) > 3 and e[2] == " "}
    return GitActivity(commits=own.commits, files_changed=tuple(sorted(files)))


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


def worktree_work(worktree: Path, *, host: Host) -> str:
    """What removing `worktree` would lose: `nothing`, `changes` (uncommitted), or `unknown`
    (git cannot read it: unknown is never treated as nothing). A never-checked-out worktree
    is compared with its HEAD through a throwaway index: files it lacks are not work."""
    if not host.exists(worktree):
        return "nothing"
    gitdir = git_dir(worktree, host=host)
    if gitdir is None or not host.exists(gitdir):
        return "unknown"
    settle(worktree, gitdir, host=host)  # a dead run's checkout still writing: judge what it leaves
    if not host.exists(gitdir / "index"):
        lines = _status_against_head(worktree, gitdir, host)
        if lines is None:
            return "unknown"
        return "changes" if any(not ln.startswith(" D ") for ln in lines) else "nothing"
    try:
        out = git(worktree, "--no-optional-locks", "status", "--porcelain", "--untracked-files=all",
                  host=host)
    except GitError:
        return "unknown"
    return "changes" if out.strip() else "nothing"


def _status_against_head(worktree: Path, gitdir: Path, host: Host) -> list[str] | None:
    """Through a throwaway index in the worktree's private git dir, on its host."""
    import secrets  # noqa: PLC0415 - hmac, hashlib and random: `check` reads worktrees, makes none of these

    index = gitdir / f"ptui-index-{secrets.token_hex(4)}"
    try:
        env = {"GIT_INDEX_FILE": str(index)}
        lines: list[str] = []
        for args in (("read-tree", "HEAD"), ("--no-optional-locks", "status", "--porcelain",
                                             "--untracked-files=all")):
            proc = run_git(worktree, *args, env=env, host=host)
            if proc.returncode != 0:
                return None
            lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
        return [ln for ln in lines if ln]
    finally:
        host.remove(index)


def remove_worktree(repo: Path, path: Path, *, host: Host) -> bool:
    """Remove a worktree even when dirty or locked; prune if git lost track of it. True when
    it is gone: neither on disk nor listed by git (what a caller may announce)."""
    settle(path, git_dir(path, host=host), host=host)  # a dead run's git still writing would put files back
    if str(path) in registered_worktrees(repo, host=host):
        git(repo, "worktree", "remove", "--force", "--force", str(path), ok_codes=(0, 128), host=host)
    if host.exists(path):
        host.run(["rm", "-rf", "--", str(path)])
    git(repo, "worktree", "prune", host=host)
    return not (host.exists(path) or path.name in host.listdir(path.parent)) \
        and str(path) not in registered_worktrees(repo, host=host)


def branch_sha(repo: Path, branch: str, *, host: Host) -> str | None:
    out = git(repo, "rev-parse", "--verify", "-q", f"refs/heads/{branch}", ok_codes=(0, 1), host=host).strip()
    return out or None


def is_safe_to_delete(repo: Path, branch: str, base_ref: str, *, host: Host) -> bool:
    """Whether every commit of `branch` is in `base_ref` or on some remote-tracking ref."""
    sha = branch_sha(repo, branch, host=host)
    if sha is None:
        return True
    targets = [base_ref, *_remote_refs(repo, host)]
    for target in targets:
        code = run_git(repo, "merge-base", "--is-ancestor", sha, target, host=host).returncode
        if code == 0:
            return True
    return False


def _remote_refs(repo: Path, host: Host) -> list[str]:
    out = git(repo, "for-each-ref", "--format=%(refname)", "refs/remotes", host=host)
    return [r for r in out.splitlines() if r]


def backup_and_delete_branch(repo: Path, branch: str, run_id: str, *, host: Host) -> str:
    """Keep `refs/parallel-backup/<run>/<branch>` then delete the branch; return the ref."""
    sha = branch_sha(repo, branch, host=host)
    ref = f"{BACKUP_PREFIX}{run_id}/{branch}"
    if sha:
        git(repo, "update-ref", ref, sha, host=host)
        _delete_at(repo, branch, sha, host)
    return ref


def delete_branch(repo: Path, branch: str, *, host: Host) -> None:
    if (sha := branch_sha(repo, branch, host=host)) is not None:
        _delete_at(repo, branch, sha, host)


def _delete_at(repo: Path, branch: str, sha: str, host: Host) -> None:
    """Delete the branch only if it still points at `sha` (git checks atomically): a commit
    made after we looked makes this fail instead of vanishing."""
    git(repo, "update-ref", "-d", f"refs/heads/{branch}", sha, host=host)
