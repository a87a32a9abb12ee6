"""The repo on an SSH host: a bare clone under the work root, fed by git bundles over SFTP.

Git data travels over the host's one SSH connection (no `git` over the system `ssh`, no
remote URL the host must reach): the commits the host lacks are packed here into a bundle
(`git pack-objects`, with the bases the host already has as prerequisites, so a second run
sends only what is new), copied over SFTP and fetched there into `refs/parallel-tui/bases/`.
Worktrees and their `parallel/<slug>` branches are then made on the host, from its clone.
Nothing here writes to the local repository: the bundle is built from objects, not refs.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import GitError
from engine.hosts.gitcli import git, run_git
from engine.hosts.local import LOCAL
from engine.hosts.remote import RemoteHost

BASES = "refs/parallel-tui/bases/"
"""Where the host's clone keeps each base commit it was sent (and what later bundles assume)."""
BUNDLE_REF = "refs/parallel-tui/bundle"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteClone:
    """A local repo's clone on one host."""

    host: str
    path: str
    """The bare clone on the host (`<work_root>/repos/<name>-<hash>.git`)."""
    worktrees: str
    """Where this repo's worktrees go on the host."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """What one sync moved: nothing when the host already had the commit."""

    bundle_bytes: int
    prerequisites: int


def repo_key(repo: Path) -> str:
    """`<name>-<hash>`: readable, and two repos of one name never share a clone."""
    real = os.path.realpath(repo)
    name = _UNSAFE.sub("-", Path(real).name).strip("-.") or "repo"
    return f"{name[:40]}-{hashlib.sha256(real.encode()).hexdigest()[:10]}"


def clone_of(host: RemoteHost, repo: Path) -> RemoteClone:
    root = host.absolute(host.spec.work_root).rstrip("/") or "/"
    key = repo_key(repo)
    return RemoteClone(host=host.name, path=f"{root}/repos/{key}.git", worktrees=f"{root}/worktrees/{key}")


def ensure_clone(host: RemoteHost, repo: Path) -> RemoteClone:
    """The host's bare clone of `repo`, made empty on first use, with the local git identity."""
    clone = clone_of(host, repo)
    if not host.exists(f"{clone.path}/HEAD"):
        _remote_git(host, None, "init", "-q", "--bare", clone.path)
    for key in ("user.name", "user.email"):  # commits on the host carry the user's own name
        value = git(repo, "config", "--default", "", key).strip()
        if value:
            _remote_git(host, clone.path, "config", key, value)
    return clone


def send_commit(host: RemoteHost, repo: Path, commit: str) -> Sent:
    """Make `commit` (and its history) present in the host's clone; only what it lacks is sent."""
    clone = ensure_clone(host, repo)
    sha = git(repo, "rev-parse", "--verify", f"{commit}^{{commit}}").strip()
    if _remote_git(host, clone.path, "cat-file", "-e", f"{sha}^{{commit}}", ok=(0, 1, 128)).returncode == 0:
        return Sent(bundle_bytes=0, prerequisites=0)
    have = _bases_we_share(host, repo, clone)
    with tempfile.TemporaryDirectory(prefix="ptui-bundle-") as folder:
        bundle = Path(folder) / "base.bundle"
        _write_bundle(repo, sha, have, bundle)
        remote = f"{clone.path}/bundles/{sha}.bundle"
        host.put_file(bundle, remote)
        size = bundle.stat().st_size
    try:
        _remote_git(host, clone.path, "fetch", "-q", "--no-tags", remote, f"{BUNDLE_REF}:{BASES}{sha}")
    finally:
        host.remove(remote)
    return Sent(bundle_bytes=size, prerequisites=len(have))


def add_worktree(host: RemoteHost, repo: Path, slug: str, base: str) -> str:
    """A worktree on the host with branch `parallel/<slug>` at `base`; its path there."""
    send_commit(host, repo, base)
    clone = clone_of(host, repo)
    sha = git(repo, "rev-parse", "--verify", f"{base}^{{commit}}").strip()
    path = f"{clone.worktrees}/{slug}"
    _remote_git(host, clone.path, "worktree", "add", "-q", "-b", f"parallel/{slug}", path, sha)
    return path


def _bases_we_share(host: RemoteHost, repo: Path, clone: RemoteClone) -> list[str]:
    """The host's bases this repo also has: the bundle's prerequisites."""
    listed = _remote_git(host, clone.path, "for-each-ref", "--format=%(objectname)", BASES).stdout
    shas = listed.decode("ascii", "replace").split()
    return [s for s in shas if run_git(repo, "cat-file", "-e", f"{s}^{{commit}}").returncode == 0]


def _write_bundle(repo: Path, sha: str, have: list[str], out: Path) -> None:
    """A v2 bundle (gitformat-bundle) of `sha` minus `have`: header lines, then a pack."""
    revs = "".join(f"{line}\n" for line in [sha, *(f"^{h}" for h in have)]).encode()
    # --thin, as `git bundle create` packs: the host's fetch completes deltas from what it has
    pack = LOCAL.run(["git", "-C", str(repo), "pack-objects", "--stdout", "--revs", "--thin",
                      "--delta-base-offset", "-q"], stdin=revs)
    if pack.returncode != 0:
        said = pack.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"git pack-objects failed in {repo}: {said}",
                       hint="check the repository with `git fsck`")
    prerequisites = "".join(f"-{h}\n" for h in have)
    header = f"# v2 git bundle\n{prerequisites}{sha} {BUNDLE_REF}\n\n"
    out.write_bytes(header.encode("ascii") + pack.stdout)


def _remote_git(host: RemoteHost, repo: str | None, *args: str, ok: tuple[int, ...] = (0,),
                ) -> subprocess.CompletedProcess[bytes]:
    argv = ["git", *(("-C", repo) if repo else ()), *args]
    done = host.run(argv, env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}, timeout=600)
    if done.returncode not in ok:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = said[-1] if said else f"exit {done.returncode}"
        raise GitError(f"on host {host.name}: `{shlex.join(argv)}` failed: {why}",
                       hint=f"run `parallel-tui hosts check {host.name}`, then look at the clone there")
    return done
