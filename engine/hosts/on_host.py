"""Where a run's pieces go on each host: the repo git works in, the worktrees, the sessions' files.

On this machine they are where they always were (the repo itself, `worktree_base`, the state
folder's `runs/<id>`). On an SSH host everything lives under its `work_root`: the repo's bare
clone (`engine.hosts.remote_repo`), its worktrees next to it, and `runs/<id>` for the prompts,
hook, stream and ownership files, since a session's files live where the session does. Paths
there are the host's own (its home is not this one's), so they are strings made absolute on
the host, never resolved here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.config import ParallelConfig, state_dir
from engine.hosts.registry import LOCAL_NAME
from engine.hosts.worktrees import worktree_base

if TYPE_CHECKING:
    from engine.hosts.host import Host
    from engine.hosts.remote import RemoteHost


def is_remote(host: Host) -> bool:
    return host.name != LOCAL_NAME


def _remote(host: Host) -> RemoteHost:
    from engine.hosts.remote import RemoteHost  # noqa: PLC0415 - asyncio and ssh only for a remote host

    if not isinstance(host, RemoteHost):
        raise TypeError(f"host {host.name!r} is not an SSH host")
    return host


def repo_on(host: Host, repo: Path) -> Path:
    """The repository git runs in on `host`: the repo itself here, its bare clone there."""
    if not is_remote(host):
        return repo
    from engine.hosts.remote_repo import clone_of  # noqa: PLC0415

    return Path(clone_of(_remote(host), repo).path)


def worktrees_on(host: Host, repo: Path, config: ParallelConfig) -> Path:
    """The folder the run's worktrees go in on `host`."""
    if not is_remote(host):
        return worktree_base(repo, config)
    from engine.hosts.remote_repo import clone_of  # noqa: PLC0415

    return Path(clone_of(_remote(host), repo).worktrees)


def run_files_on(host: Host, run_id: str) -> Path:
    """The folder of a run's session files (prompts, hooks, streams, ownership) on `host`."""
    if not is_remote(host):
        return state_dir() / "runs" / run_id
    return Path(root_on(host)) / "runs" / run_id


def root_on(host: Host) -> str:
    """The host's work root, absolute there."""
    remote = _remote(host)
    return remote.absolute(remote.spec.work_root).rstrip("/") or "/"


def home_on(host: Host) -> str:
    """The home folder of the user the tool logs in as on `host` (this one's here)."""
    return str(Path.home()) if not is_remote(host) else _remote(host).absolute("~")


def prepare_repo(host: Host, repo: Path, base_sha: str) -> None:
    """Make `base_sha` present in the host's clone (a bundle of only what it lacks); nothing here."""
    if is_remote(host):
        from engine.hosts.remote_repo import send_commit  # noqa: PLC0415

        send_commit(_remote(host), repo, base_sha)


def terminal_argv(host: Host, argv: list[str]) -> list[str]:
    """`argv` run with this terminal on `host`: itself here, `ssh -t … <argv>` to an SSH host
    (attach: the same round trip as a local window, inside a popup or in place)."""
    if not is_remote(host):
        return argv
    import shlex  # noqa: PLC0415

    from engine.hosts.ssh_cli import ssh_argv  # noqa: PLC0415

    return [*ssh_argv(_remote(host).spec, tty=True), shlex.join(argv)]


def ensure_repo(host: Host, repo: Path) -> None:
    """The host's clone exists (empty at first), so git can answer what is taken there."""
    if is_remote(host):
        from engine.hosts.remote_repo import ensure_clone  # noqa: PLC0415

        ensure_clone(_remote(host), repo)
