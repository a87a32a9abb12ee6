"""The repo on an SSH host (real sshd, another user): a bare clone under the work root, fed by
bundles over SFTP, and worktrees with `parallel/<slug>` branches made there."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from engine.hosts.gitcli import git
from engine.hosts.remote import RemoteHost
from engine.hosts.remote_repo import BASES, add_worktree, clone_of, send_commit
from tests.conftest import RepoFactory
from tests.sshd import SshHosts

pytestmark = pytest.mark.slow


def commit(repo: Path, name: str, text: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"add {name}")
    return git(repo, "rev-parse", "HEAD").strip()


def test_the_base_reaches_the_host_once_then_only_what_is_new(ssh_hosts: SshHosts,
                                                              repo_factory: RepoFactory) -> None:
    noise = "".join(f"{hashlib.sha256(str(i).encode()).hexdigest()}\n" for i in range(3000))
    repo = repo_factory({"a.txt": noise, "b.py": "x = 2\n"})
    server = ssh_hosts.second
    with RemoteHost(server.spec(work_root=str(server.home / "w1"))) as host:
        first = git(repo, "rev-parse", "HEAD").strip()
        sent = send_commit(host, repo, first)
        assert sent.bundle_bytes > 0 and sent.prerequisites == 0
        clone = clone_of(host, repo)
        assert clone.path.startswith(str(server.home / "w1" / "repos"))
        assert host.run(["git", "-C", clone.path, "cat-file", "-e", f"{first}^{{commit}}"]).returncode == 0
        assert send_commit(host, repo, first).bundle_bytes == 0  # already there: nothing sent
        second = commit(repo, "c.py", "y = 3\n")
        again = send_commit(host, repo, second)
        assert again.prerequisites == 1
        assert 0 < again.bundle_bytes < sent.bundle_bytes / 2  # the new commit, not the history
        refs = host.run(["git", "-C", clone.path, "for-each-ref", "--format=%(objectname)", BASES]).stdout
        assert sorted(refs.decode().split()) == sorted([first, second])
        assert host.listdir(f"{clone.path}/bundles") == []  # each bundle is removed once fetched
        owner = Path(clone.path).stat().st_uid
        assert owner == server.home.stat().st_uid  # made by the host's user


def test_a_worktree_and_branch_are_made_on_the_host(ssh_hosts: SshHosts, repo_factory: RepoFactory) -> None:
    repo = repo_factory({"src/app.py": "def main():\n    return 1\n"})
    git(repo, "config", "user.name", "Local Person")
    git(repo, "config", "user.email", "local@example.invalid")
    base = git(repo, "rev-parse", "HEAD").strip()
    server = ssh_hosts.second
    with RemoteHost(server.spec(work_root="~/w2")) as host:
        path = add_worktree(host, repo, "fix-auth", base)
        assert path.endswith("/fix-auth") and host.read_bytes(f"{path}/src/app.py") == (
            repo / "src/app.py").read_bytes()
        branch = host.run(["git", "-C", path, "symbolic-ref", "--short", "HEAD"]).stdout.decode().strip()
        assert branch == "parallel/fix-auth"
        assert host.run(["git", "-C", path, "rev-parse", "HEAD"]).stdout.decode().strip() == base
        made = host.run(["sh", "-c", "echo 2 > new.txt && git add new.txt && git commit -qm remote && "
                         "git log -1 --format=%an"], cwd=Path(path))
        assert made.returncode == 0, made.stderr
        assert made.stdout.decode().strip() == "Local Person"  # the user's identity, set in the clone
    assert (server.home / "w2" / "worktrees").is_dir()
    assert git(repo, "branch", "--list", "parallel/*") == ""  # nothing was written locally
