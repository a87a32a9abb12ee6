"""Plain `git` subprocess calls for bulk, read-only questions.

Analysis reads tens of thousands of paths; one `git` process per question is the floor the
benchmark measures against, and GitPython's object layer would only add to it. Every call
is an argv list (never a shell string) and every failure becomes a GitError with a fix.
"""

from __future__ import annotations

import os

from engine.core.errors import GitError
from engine.hosts.local import LOCAL

TYPE_CHECKING = False  # the cached `analyze --json` runs git through here: no typing, no pathlib
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from engine.hosts.host import Host
    from engine.hosts.local import Completed, Stream

_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def git(repo: Path | str, *args: str, ok_codes: Sequence[int] = (0,), host: Host = LOCAL,
        stdin: bytes | None = None) -> str:
    """Run `git -C repo args...` and return stdout as text (surrogate-escaped)."""
    out = git_bytes(repo, *args, ok_codes=ok_codes, host=host, stdin=stdin)
    return out.decode("utf-8", "surrogateescape")


def git_bytes(repo: Path | str, *args: str, ok_codes: Sequence[int] = (0,), host: Host = LOCAL,
              stdin: bytes | None = None) -> bytes:
    """Run git and return raw stdout; raise GitError with git's own message otherwise."""
    proc = run_git(repo, *args, host=host, stdin=stdin)
    if proc.returncode not in ok_codes:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit {proc.returncode}"
        raise GitError(f"git {args[0]} failed in {repo}: {detail}",
                       hint="check the repository state with `git status`")
    return proc.stdout


def run_git(repo: Path | str, *args: str, env: dict[str, str] | None = None,
            host: Host = LOCAL, stdin: bytes | None = None) -> Completed:
    """Run `git -C repo args...` whatever its exit code; only a git that cannot start raises.

    The one place a git process is started, so "git is not on PATH" is one GitError
    everywhere instead of a FileNotFoundError traceback from whichever call came first.
    `env` adds to the environment (e.g. GIT_INDEX_FILE); `stdin` is fed to it (`--stdin` forms).
    """
    argv, full_env = ["git", "-C", str(repo), *args], {**os.environ, **_GIT_ENV, **(env or {})}
    try:
        if stdin is None:  # a host (a test's, a remote one) need not take `stdin` for the rest
            return host.run(argv, env=full_env)
        return host.run(argv, env=full_env, stdin=stdin)
    except OSError as exc:
        raise _cannot_start(exc) from None


def git_tied(repo: Path | str, *args: str, host: Host) -> str:
    """`git` tied to this process on this machine: on Linux the kernel kills it when this
    process dies (PR_SET_PDEATHSIG), so a `run` killed mid-checkout leaves no git writing
    into a worktree that a cleanup is about to judge. Elsewhere (another OS, another host) it
    is a plain `git` on the host."""
    import subprocess  # noqa: PLC0415 - already loaded by `local`; named for the call

    from engine.hosts.local import LocalHost  # noqa: PLC0415 - see TYPE_CHECKING above

    if not isinstance(host, LocalHost):
        return git(repo, *args, host=host)
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], env={**os.environ, **_GIT_ENV},
                              stdin=subprocess.DEVNULL, capture_output=True, check=False,
                              preexec_fn=_death_tie())  # one C call in the child: nothing to deadlock on
    except OSError as exc:
        raise _cannot_start(exc) from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed in {repo}: {message[-1] if message else proc.returncode}",
                       hint="check the repository state with `git status`")
    return proc.stdout.decode("utf-8", "surrogateescape")


_tie: list[object] = []


def _death_tie() -> Callable[[], object] | None:
    """The child-side call that asks for SIGKILL when the parent dies; None off Linux."""
    import sys  # noqa: PLC0415

    if not sys.platform.startswith("linux"):
        return None
    if not _tie:
        import ctypes  # noqa: PLC0415 - only a checkout needs it

        prctl = ctypes.CDLL(None, use_errno=True).prctl
        _tie.append(lambda: prctl(1, 9, 0, 0, 0))  # PR_SET_PDEATHSIG, SIGKILL
    tie: Callable[[], object] = _tie[0]  # type: ignore[assignment]
    return tie


def stream_git(repo: Path | str, *args: str, host: Host = LOCAL) -> Stream:
    """Start `git -C repo args...` with pipes to its stdin and stdout (stderr discarded), for a
    conversation read as it goes (`cat-file --batch`); the caller closes, kills and waits.
    Like `run_git`, a git that cannot start is a GitError."""
    try:
        return host.stream(["git", "-C", str(repo), *args], env={**os.environ, **_GIT_ENV})
    except OSError as exc:
        raise _cannot_start(exc) from None


def _cannot_start(exc: OSError) -> GitError:
    if isinstance(exc, FileNotFoundError):
        return GitError("git is not installed (no `git` on PATH)",
                        hint="install git (apt-get install git) or add it to PATH")
    return GitError(f"git cannot be started: {exc.strerror or exc}",
                    hint="check that the `git` on PATH is an executable git")


def resolve_repo(path: Path, *, need_commit: bool = True) -> Path:
    """The top level of the repo containing `path`, which must have a commit unless told otherwise."""
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.exists()
    except OSError as exc:  # a name too long, a loop of symlinks, a folder we may not enter
        raise GitError(f"{_short(path)} cannot be read ({exc.strerror or exc})",
                       hint="pass --repo with an existing directory") from None
    if not exists:
        raise GitError(f"{_short(path)} does not exist", hint="pass --repo with an existing directory")
    if not is_dir:
        raise GitError(f"{path} is not a directory", hint="pass --repo with a directory")
    # one git call: the top level, then HEAD's commit (exit 1, none printed, when it has none)
    proc = run_git(path, "rev-parse", "--show-toplevel", "--verify", "-q", "HEAD")
    out = proc.stdout.decode("utf-8", "surrogateescape").removesuffix("\n")
    if proc.returncode not in (0, 1) or not out:
        raise GitError(f"{path} is not inside a git repository",
                       hint="run `git init` there, or pass --repo with a git checkout")
    from pathlib import Path  # noqa: PLC0415 - see TYPE_CHECKING above

    top = Path(out.rpartition("\n")[0] if proc.returncode == 0 else out)
    if need_commit and proc.returncode != 0:
        raise GitError(f"{top} has no commits yet",
                       hint="commit something first (worktrees branch from HEAD)")
    return top


def toplevel_without_git(path: Path) -> Path | None:
    """`rev-parse --show-toplevel` without a git process, for verbs run often (`status`): the
    nearest folder up from `path` that holds a `.git`. None when git's environment could move
    it (GIT_DIR, GIT_WORK_TREE, GIT_CEILING_DIRECTORIES) or none is found: ask git then."""
    if any(os.environ.get(k) for k in ("GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES")):
        return None
    try:
        here = path.resolve()
        return next((p for p in (here, *here.parents) if (p / ".git").exists()), None)
    except OSError:
        return None


def _short(path: Path) -> str:
    """A path fit for one line: a 4,000-character name is cut in the middle."""
    text = str(path)
    return text if len(text) <= 200 else f"{text[:100]}…{text[-60:]}"


def has_repo(path: Path) -> bool:
    """Whether `path` is inside a git work tree with a commit (no error either way: without git, no)."""
    try:
        return path.is_dir() and has_commits(path)
    except GitError:
        return False


def has_commits(repo: Path) -> bool:
    return run_git(repo, "rev-parse", "--verify", "-q", "HEAD").returncode == 0


def head_sha(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def worktree_records(repo: Path | str, *, host: Host = LOCAL) -> list[dict[str, str]]:
    """`git worktree list --porcelain -z` as one dict per worktree (`worktree`, `HEAD`,
    `branch`, ...; a bare flag such as `detached` maps to ''), main checkout first.

    NUL-separated because a path may hold a newline: read line by line, such a worktree
    splits into two bogus ones and cleanup loses sight of it."""
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for field in git(repo, "worktree", "list", "--porcelain", "-z", host=host).split("\0"):
        if not field:
            if current:
                records.append(current)
            current = {}
            continue
        key, _, value = field.partition(" ")
        current[key] = value
    if current:
        records.append(current)
    return records


def tracked_files(repo: Path) -> list[str]:
    """Every tracked path, NUL-separated on the wire so odd names survive."""
    raw = git_bytes(repo, "ls-files", "-z")
    return [p.decode("utf-8", "surrogateescape") for p in raw.split(b"\0") if p]
