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
import time
import weakref
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


IDENTITY_KEYS = r"^user\.(name|email)$"
READY_S = 60.0
_READY: weakref.WeakKeyDictionary[RemoteHost, dict[str, float]] = weakref.WeakKeyDictionary()
"""Per host object: each clone `ensure_clone` made sure of, and when (monotonic)."""


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
    """The host's bare clone of `repo`, made empty on first use, with the local git identity.
    Not asked again for READY_S: placing a run and creating it both need it, a second apart."""
    clone = clone_of(host, repo)
    ready = _READY.setdefault(host, {})
    if time.monotonic() - ready.get(clone.path, -READY_S) < READY_S:
        return clone
    if not host.exists(f"{clone.path}/HEAD"):
        _remote_git(host, None, "init", "-q", "--bare", clone.path)
    there = _remote_git(host, clone.path, "config", "--get-regexp", IDENTITY_KEYS, ok=(0, 1)).stdout
    here = run_git(repo, "config", "--get-regexp", IDENTITY_KEYS).stdout
    for key, value in _identity(here).items():  # commits on the host carry the user's own name
        if value and _identity(there).get(key) != value:
            _remote_git(host, clone.path, "config", key, value)
    ready[clone.path] = time.monotonic()
    return clone


def _identity(listed: bytes) -> dict[str, str]:
    """`git config --get-regexp` lines (`user.name Ann Lee`) as key → value (the last one wins,
    as git's own lookup does)."""
    pairs = (line.split(" ", 1) for line in listed.decode("utf-8", "replace").splitlines())
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """One branch brought back from a host: its tip there, and whether the branch here moved to it."""

    branch: str
    sha: str
    bundle_bytes: int = 0
    kept: str = ""
    """Why the branch here was left where it was ("" when it is at `sha` now)."""


def fetch_branch(host: RemoteHost, repo: Path, branch: str, base: str) -> Fetched | None:
    """Bring `refs/heads/<branch>` of the host's clone into the local repo under the same name:
    only the commits after `base` travel (a bundle made there, copied over SFTP, fetched here).
    The branch here is created, or moved forward; one that has commits the host's lacks, or is
    checked out here, is left as it is (`kept` says why). None when the host has no such branch."""
    clone = clone_of(host, repo)
    found = _remote_git(host, clone.path, "rev-parse", "--verify", "-q", f"refs/heads/{branch}^{{commit}}",
                        ok=(0, 1, 128))
    tip = found.stdout.decode("ascii", "replace").strip()
    if found.returncode != 0 or not tip:
        return None
    size = 0 if _have(repo, tip) else _bring(host, repo, clone, branch, base)
    return Fetched(branch=branch, sha=tip, bundle_bytes=size, kept=_point(repo, branch, tip))


def _have(repo: Path, sha: str) -> bool:
    return run_git(repo, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0


def _bring(host: RemoteHost, repo: Path, clone: RemoteClone, branch: str, base: str) -> int:
    """The branch's commits after `base` as a bundle, from the host into the local object store."""
    remote = f"{clone.path}/bundles/back-{_UNSAFE.sub('-', branch)}.bundle"
    host.mkdir(f"{clone.path}/bundles")
    _remote_git(host, clone.path, "bundle", "create", "-q", remote, f"refs/heads/{branch}", f"^{base}")
    try:
        with tempfile.TemporaryDirectory(prefix="ptui-bundle-") as folder:
            local = Path(folder) / "back.bundle"
            host.get_file(remote, local)
            git(repo, "fetch", "-q", "--no-tags", "--no-write-fetch-head", str(local), f"refs/heads/{branch}")
            return local.stat().st_size
    finally:
        host.remove(remote)


def _point(repo: Path, branch: str, tip: str) -> str:
    """Create or fast-forward `refs/heads/<branch>` here to `tip`; why not, or ""."""
    ref = f"refs/heads/{branch}"
    old = run_git(repo, "rev-parse", "--verify", "-q", ref).stdout.decode("ascii", "replace").strip()
    if old == tip:
        return ""
    if old and run_git(repo, "merge-base", "--is-ancestor", old, tip).returncode != 0:
        return f"{branch} here has commits the host's has not: kept; the host's tip is {tip[:10]}"
    if old and branch in _checked_out(repo):
        return f"{branch} is checked out here: kept; the host's tip is {tip[:10]}"
    git(repo, "update-ref", "-m", "parallel-tui: fetched from its host", ref, tip, old or "0" * 40)
    return ""


def _checked_out(repo: Path) -> set[str]:
    listed = run_git(repo, "worktree", "list", "--porcelain").stdout.decode("utf-8", "replace")
    return {line.removeprefix("branch refs/heads/") for line in listed.splitlines()
            if line.startswith("branch ")}


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
