"""A run over SSH hosts (real sshd on 127.0.0.1, `tests/sshd.py`): sessions placed by free
slots, worktrees under each host's work root, windows in a tmux server there, followed by the
supervisor here, status naming each session's host. The hosts' sshd allow 4 sessions per
connection (`MaxSessions 4`): the engine's channels stay under it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.core.hosts_config import HostSpec
from engine.hosts.gitcli import git, run_git
from engine.hosts.remote import RemoteHost
from engine.hosts.remote_repo import clone_of
from engine.run.lookup import remote_socket
from tests.conftest import RepoFactory
from tests.run_helpers import cli
from tests.sshd import SshHosts, SshServer, free_port

pytestmark = [pytest.mark.slow, pytest.mark.tmux]

FOUR = {"README.md": "# demo\n", **{f"src/{n}.py": f"{n.upper()} = 1\n" for n in "abcd"}}
SETUP = {".gitignore": ".env\n.setup-ran\n", ".worktreeinclude": ".env\n"}


def _toml(spec: HostSpec) -> str:
    return "\n".join(
        [
            "[[hosts]]",
            *(
                f"{key} = {json.dumps(getattr(spec, key))}"
                for key in ("name", "ssh", "identity_file", "known_hosts", "work_root", "max_sessions")
            ),
            "",
        ]
    )


@pytest.fixture
def two_hosts(ssh_hosts: SshHosts, tmp_path: Path, tmux_socket: str) -> Iterator[dict[str, SshServer]]:
    """`first` (this user) and `second` (another user) in the user's config, 2 slots each, each
    with a work root of this test's own; their tmux servers are ended afterwards."""
    servers = {"first": ssh_hosts.first, "second": ssh_hosts.second}
    tag = tmp_path.name[-12:]
    specs = [s.spec(work_root=str(s.home / f"w-{tag}"), max_sessions=2) for s in servers.values()]
    config = Path(os.environ["PARALLEL_TUI_HOME"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        'worktree_setup_command = "touch .setup-ran"\n' + "".join(_toml(spec) for spec in specs)
    )
    yield servers
    for spec in specs:
        with RemoteHost(spec) as host:
            host.run(["tmux", "-L", remote_socket(tmux_socket, spec.name), "kill-server"])


@pytest.mark.skip(reason="the demo agent on another user's host needs the shipped kit (being merged)")
def test_a_demo_run_over_two_hosts_puts_two_sessions_on_each(
    two_hosts: dict[str, SshServer], repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repo_factory({**FOUR, **SETUP})
    (repo / ".env").write_text("TOKEN=local-only\n")  # untracked: `.worktreeinclude` copies it
    tasks = ",".join(f"src/{n}.py" for n in "abcd")
    code, out, err = cli(
        capsys,
        "run",
        "--repo",
        str(repo),
        "--tasks",
        tasks,
        "--agent",
        "demo",
        "--hosts",
        "first,second",
        "--yes",
        "--wait",
    )
    assert code == 0, err + out
    assert "sessions on first (2), second (2)" in err
    code, out, err = cli(capsys, "status", "--repo", str(repo), "--json")
    assert code == 0, err
    sessions = json.loads(out)["sessions"]
    assert sorted(s["host"] for s in sessions) == ["first", "first", "second", "second"]
    for s in sessions:
        home = two_hosts[s["host"]].home
        assert s["worktree"].startswith(f"{home}/w-"), "each worktree is under its host's work root"
        assert s["state"] == "done", s
        assert s["commits"] == 1, s
        with RemoteHost(two_hosts[s["host"]].spec()) as host:
            worktree = Path(s["worktree"])
            assert host.read_bytes(worktree / ".env") == b"TOKEN=local-only\n", (
                ".worktreeinclude applies there"
            )
            assert host.exists(worktree / ".setup-ran"), "worktree_setup_command runs there"
    code, out, _ = cli(capsys, "status", "--repo", str(repo))
    assert "on first" in out and "on second" in out


def test_a_run_that_needs_more_slots_than_the_hosts_have_starts_nothing(
    two_hosts: dict[str, SshServer], repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repo_factory({**FOUR, "src/e.py": "E = 1\n"})
    tasks = ",".join(f"src/{n}.py" for n in "abcde")
    code, _, err = cli(
        capsys,
        "run",
        "--repo",
        str(repo),
        "--tasks",
        tasks,
        "--agent",
        "demo",
        "--hosts",
        "first,second,nowhere",
        "--yes",
    )
    assert code != 0
    assert "host 'nowhere' is not configured" in err
    code, _, err = cli(
        capsys,
        "run",
        "--repo",
        str(repo),
        "--tasks",
        tasks,
        "--agent",
        "demo",
        "--hosts",
        "first,second",
        "--yes",
    )
    assert code != 0
    assert "5 sessions need 5 slots, free: first 2, second 2; nothing was started" in err
    assert len(err.strip().splitlines()) <= 2, err
    code, out, _ = cli(capsys, "status", "--repo", str(repo), "--json")
    assert code != 0 and "no runs" in out + _


def test_hosts_that_are_down_or_lack_tmux_are_skipped_with_the_reason(
    ssh_hosts: SshHosts,
    two_hosts: dict[str, SshServer],
    repo_factory: RepoFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = Path(os.environ["PARALLEL_TUI_HOME"]) / "config.toml"
    down = ssh_hosts.first.spec(name="down", ssh=f"root@127.0.0.1:{free_port()}")
    notmux = ssh_hosts.notmux.spec(max_sessions=2)
    config.write_text(config.read_text() + _toml(down) + _toml(notmux))
    repo = repo_factory(FOUR)
    code, out, err = cli(
        capsys,
        "run",
        "--repo",
        str(repo),
        "--tasks",
        "src/a.py,src/b.py",
        "--agent",
        "demo",
        "--hosts",
        "down,notmux,first",
        "--yes",
        "--wait",
    )
    assert code == 0, err + out
    assert "sessions on first (2)" in err
    assert "skipped host down: down (" in err
    assert "skipped host notmux: lacks tmux" in err


def test_branches_come_home_and_merge_lands_them(
        two_hosts: dict[str, SshServer], repo_factory: RepoFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({**FOUR, **SETUP})  # the setup command's file is ignored: nothing uncommitted
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "src/a.py,src/b.py",
                         "--agent", "demo", "--hosts", "first", "--yes", "--wait")
    assert code == 0, err + out
    assert "parallel/src-a-py fetched from first" in err
    tips = []
    for slug in ("src-a-py", "src-b-py"):
        branch = f"refs/heads/parallel/{slug}"
        log = git(repo, "log", "--format=%an %s", f"main..{branch}").strip()
        assert log.startswith("parallel-tui demo"), f"the agent's commit is here on {branch}: {log!r}"
        tips.append(git(repo, "rev-parse", branch).strip())
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--yes")
    assert code == 0, err + out
    merged = err + out
    for tip in tips:
        assert run_git(repo, "merge-base", "--is-ancestor", tip, "HEAD").returncode == 0, "merged here"
    code, out, _ = cli(capsys, "status", "--repo", str(repo), "--json")
    with RemoteHost(two_hosts["first"].spec()) as host:
        for s in json.loads(out)["sessions"]:
            assert not host.exists(Path(s["worktree"])), merged
        clone = clone_of(host, repo).path
        left = host.run(["git", "-C", clone, "for-each-ref", "refs/heads/parallel/"]).stdout
        assert left == b"", "the host's branches went once their commits were here"
