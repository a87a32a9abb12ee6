"""A run over SSH hosts (real sshd on 127.0.0.1, `tests/sshd.py`): sessions placed by free
slots, worktrees under each host's work root, windows in a tmux server there, followed by the
supervisor here, status naming each session's host. The hosts' sshd allow 4 sessions per
connection (`MaxSessions 4`): the engine's channels stay under it."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.claude.env import trust_on_host
from engine.core.hosts_config import HostSpec
from engine.hosts.gitcli import git, run_git
from engine.hosts.remote import RemoteHost
from engine.hosts.remote_repo import clone_of
from engine.run.lookup import remote_socket
from tests.conftest import RepoFactory
from tests.run_helpers import cli
from tests.sshd import SSHD, SshHosts, SshServer, free_port, path_without
from tests.test_run_faults import cli_process

pytestmark = [pytest.mark.slow, pytest.mark.tmux]

FOUR = {"README.md": "# demo\n", **{f"src/{n}.py": f"{n.upper()} = 1\n" for n in "abcd"}}
SETUP = {".gitignore": ".env\n.setup-ran\n", ".worktreeinclude": ".env\n"}


KEYS = ("name", "ssh", "identity_file", "known_hosts", "work_root", "max_sessions")


def _toml(spec: HostSpec) -> str:
    return "\n".join(["[[hosts]]", *(f"{key} = {json.dumps(getattr(spec, key))}" for key in KEYS), ""])


@pytest.fixture
def two_hosts(ssh_hosts: SshHosts, tmp_path: Path, tmux_socket: str) -> Iterator[dict[str, SshServer]]:
    """`first` (this user) and `second` (another user) in the user's config, 2 slots each, each
    with a work root of this test's own; their tmux servers are ended afterwards."""
    servers = {"first": ssh_hosts.first, "second": ssh_hosts.second}
    tag = tmp_path.name[-12:]
    specs = [s.spec(work_root=str(s.home / f"w-{tag}"), max_sessions=2) for s in servers.values()]
    config = Path(os.environ["PARALLEL_TUI_HOME"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    setup = 'worktree_setup_command = "touch .setup-ran"\n'
    config.write_text(setup + "".join(_toml(spec) for spec in specs))
    yield servers
    for spec in specs:
        with RemoteHost(spec) as host:
            host.run(["tmux", "-L", remote_socket(tmux_socket, spec.name), "kill-server"])


def test_a_demo_run_over_two_hosts_puts_two_sessions_on_each(
        two_hosts: dict[str, SshServer], repo_factory: RepoFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({**FOUR, **SETUP})
    (repo / ".env").write_text("TOKEN=local-only\n")  # untracked: `.worktreeinclude` copies it
    tasks = ",".join(f"src/{n}.py" for n in "abcd")
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--tasks", tasks, "--agent", "demo",
                         "--hosts", "first,second", "--yes", "--wait")
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
            assert host.read_bytes(worktree / ".env") == b"TOKEN=local-only\n", "`.worktreeinclude` there"
            assert host.exists(worktree / ".setup-ran"), "worktree_setup_command runs there"
    code, out, _ = cli(capsys, "status", "--repo", str(repo))
    assert "on first" in out and "on second" in out
    tips = [git(repo, "rev-parse", f"refs/heads/{s['branch']}").strip() for s in sessions]
    for tip, s in zip(tips, sessions, strict=True):
        assert git(repo, "log", "-1", "--format=%an", tip).strip() == "parallel-tui demo", s["branch"]
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--yes")
    assert code == 0, err + out
    assert all(run_git(repo, "merge-base", "--is-ancestor", tip, "HEAD").returncode == 0 for tip in tips), \
        "every host's branch came home with the agent's commit, and merge landed them all here"


def test_a_run_that_needs_more_slots_than_the_hosts_have_starts_nothing(
        two_hosts: dict[str, SshServer], repo_factory: RepoFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({**FOUR, "src/e.py": "E = 1\n"})
    tasks = ",".join(f"src/{n}.py" for n in "abcde")
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", tasks, "--agent", "demo", "--hosts",
                       "first,second,nowhere", "--yes")
    assert code != 0
    assert "host 'nowhere' is not configured" in err
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", tasks, "--agent", "demo", "--hosts",
                       "first,second", "--yes")
    assert code != 0
    assert "5 sessions need 5 slots, free: first 2, second 2; nothing was started" in err
    assert len(err.strip().splitlines()) <= 2, err
    code, out, _ = cli(capsys, "status", "--repo", str(repo), "--json")
    assert code != 0 and "no runs" in out + _


def test_hosts_that_are_down_or_lack_tmux_are_skipped_with_the_reason(
        ssh_hosts: SshHosts, two_hosts: dict[str, SshServer], repo_factory: RepoFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = Path(os.environ["PARALLEL_TUI_HOME"]) / "config.toml"
    down = ssh_hosts.first.spec(name="down", ssh=f"root@127.0.0.1:{free_port()}")
    notmux = ssh_hosts.notmux.spec(max_sessions=2)
    config.write_text(config.read_text() + _toml(down) + _toml(notmux))
    repo = repo_factory(FOUR)
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "src/a.py,src/b.py", "--agent",
                         "demo", "--hosts", "down,notmux,first", "--yes", "--wait")
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


def _states(capsys: pytest.CaptureFixture[str], repo: Path) -> dict[str, tuple[str, str, str]]:
    code, out, err = cli(capsys, "status", "--repo", str(repo), "--json")
    assert code == 0, err
    return {s["name"]: (s["host"], s["state"], s["problem"]) for s in json.loads(out)["sessions"]}


def _until(what: str, check: Callable[[], bool], timeout_s: float = 90.0,
           show: Callable[[], object] = lambda: "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"{what}: {show()}"
        time.sleep(0.3)


def test_a_lost_host_is_unreachable_then_lost_with_its_branches_kept(
        two_hosts: dict[str, SshServer], repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "8")
    repo = repo_factory({**FOUR, **SETUP})
    tasks = ",".join(f"src/{n}.py" for n in "abcd")
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--tasks", tasks, "--agent", "demo",
                         "--hosts", "first,second", "--yes")
    assert code == 0, err + out
    _until("every session works", lambda: all(s == "working" for _, s, _ in _states(capsys, repo).values()),
           timeout_s=30, show=lambda: _states(capsys, repo))
    lost = two_hosts["second"]
    lost.proc.terminate()  # its sshd, then every process of its user: the helper, tmux, the agents
    lost.proc.wait(10)
    subprocess.run(["pkill", "-KILL", "-u", lost.user], check=False)
    _until("the lost host's sessions read unreachable, never done or failed",
           lambda: all(s == "unreachable" for h, s, _ in _states(capsys, repo).values() if h == "second"))
    _until("the other host's sessions end done",
           lambda: all(s == "done" for h, s, _ in _states(capsys, repo).values() if h == "first"))
    lost.proc = subprocess.Popen([str(SSHD), "-D", "-f", str(lost.root / "sshd_config"), "-E",
                                  str(lost.root / "sshd.log")], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _until("the host answers again: its sessions are lost with their windows",
           lambda: all(s not in ("unreachable", "working") for h, s, _ in _states(capsys, repo).values()
                       if h == "second"))
    states = _states(capsys, repo)
    for name, (host, state, problem) in states.items():
        if host == "second":
            assert state not in ("done", "failed"), (name, state)
            assert "window" in problem, (name, problem)
            slug = name.replace("/", "-").replace(".", "-")
            assert git(repo, "rev-parse", "--verify", f"refs/heads/parallel/{slug}").strip(), \
                "its branch came home (nothing of it is deleted)"
    with RemoteHost(lost.spec()) as host:
        code, out, _ = cli(capsys, "status", "--repo", str(repo), "--json")
        for s in json.loads(out)["sessions"]:
            if s["host"] == "second":
                assert host.exists(Path(s["worktree"])), "its worktree is kept on the host"


def test_attach_to_a_session_on_a_host_is_ssh_then_tmux_attach(
        two_hosts: dict[str, SshServer], repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`attach` from a terminal outside tmux hands it to `ssh -t host tmux attach` (a real pty
    here); the remote pane's text shows, and ctrl+b d comes back with exit 0."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "60")
    monkeypatch.delenv("TMUX", raising=False)
    repo = repo_factory({**FOUR, **SETUP})
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "src/a.py", "--agent", "demo",
                         "--hosts", "second", "--yes")
    assert code == 0, err + out
    code, out, err = cli(capsys, "attach", "src/a.py", "--repo", str(repo), "--json")
    assert code == 0, err
    command = json.loads(out)["command"]
    assert command.startswith("ssh -t ") and "attach-session" in command, command
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI with a terminal, as a person runs it
        os.execvp(sys.executable, [sys.executable, "-c", "import sys; from engine.cli.main import main; "
                                   "sys.exit(main(sys.argv[1:]))", "attach", "src/a.py", "--repo", str(repo)])
    seen = b""
    deadline = time.monotonic() + 30
    while b"demo agent" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    assert b"demo agent" in seen, seen[-500:]
    status, deadline = None, time.monotonic() + 30
    while status is None and time.monotonic() < deadline:
        os.write(fd, b"\x02d")  # ctrl+b d: detach, ssh ends, the CLI exits (again if tmux was busy)
        for _ in range(20):
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = code
                break
            if select.select([fd], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):
                    os.read(fd, 65536)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)
    assert status is not None and os.waitstatus_to_exitcode(status) == 0, "ctrl+b d came back"


def test_claude_trust_is_written_into_the_hosts_own_config_only_where_the_repo_is_trusted_here(
        ssh_hosts: SshHosts, repo_factory: RepoFactory, tmp_path: Path) -> None:
    repo = repo_factory(FOUR)
    here = tmp_path / "claude.json"
    server = ssh_hosts.second
    with RemoteHost(server.spec()) as host:
        target = server.home / ".claude.json"
        host.remove(target)
        worktree = Path(f"{server.home}/w/worktrees/x/src-a-py")
        assert not trust_on_host(host, here, repo, [worktree]), "the repo is not trusted here: nothing"
        assert not host.exists(target)
        here.write_text(json.dumps({"projects": {str(repo): {"hasTrustDialogAccepted": True}}}))
        host.write_bytes(target, json.dumps({"oauthAccount": {"x": 1}}).encode())
        assert trust_on_host(host, here, repo, [worktree])
        written = json.loads(host.read_bytes(target))
        assert written["projects"][str(worktree)]["hasTrustDialogAccepted"] is True
        assert written["oauthAccount"] == {"x": 1}, "the host's own login is kept"
        assert "primaryApiKey" not in written and "customApiKeyResponses" not in written
        assert host.run(["stat", "-c", "%a", str(target)]).stdout.strip() == b"600"
        host.write_bytes(target, b"{not json")
        assert not trust_on_host(host, here, repo, [worktree])
        assert host.read_bytes(target) == b"{not json", "a file it cannot read is never overwritten"


def test_a_full_host_is_skipped_and_the_sessions_go_where_slots_are_free(
        two_hosts: dict[str, SshServer], repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "30")
    busy, repo = repo_factory(FOUR), repo_factory(FOUR)
    code, out, err = cli(capsys, "run", "--repo", str(busy), "--tasks", "src/a.py,src/b.py",
                         "--agent", "demo", "--hosts", "first", "--yes")
    assert code == 0, err + out
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "src/c.py,src/d.py",
                         "--agent", "demo", "--hosts", "first,second", "--yes")
    assert code == 0, err + out
    assert "skipped host first: full (2 of 2 sessions running)" in err
    assert "sessions on second (2)" in err


@pytest.mark.parametrize("phase", ["checkout", "window"])
def test_a_run_on_a_host_killed_while_creating_resumes_there(
        phase: str, two_hosts: dict[str, SshServer], repo_factory: RepoFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    """kill -9 of `run` half-way through making a host's sessions; `run --resume` finishes them
    on that host from the journal, and the sessions end done."""
    repo = repo_factory({**FOUR, **SETUP})
    proc = cli_process(f"{phase}:1:kill", "run", "--repo", str(repo), "--tasks", "src/a.py,src/b.py",
                       "--agent", "demo", "--hosts", "second", "--yes")
    assert proc.returncode == -9, proc.stderr
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--resume", "--yes", "--wait")
    assert code == 0, err + out
    states = _states(capsys, repo)
    assert [(h, s) for h, s, _ in states.values()] == [("second", "done")] * 2, states


def test_cleanup_keeps_what_is_on_a_host_that_does_not_answer(
        two_hosts: dict[str, SshServer], repo_factory: RepoFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({**FOUR, **SETUP})
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "src/a.py", "--agent", "demo",
                         "--hosts", "second", "--yes", "--wait")
    assert code == 0, err + out
    lost = two_hosts["second"]
    lost.proc.terminate()
    lost.proc.wait(10)
    try:
        code, out, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
        assert "host second does not answer: nothing there is touched" in out + err
        assert git(repo, "rev-parse", "--verify", "refs/heads/parallel/src-a-py").strip(), "its branch stays"
    finally:
        lost.proc = subprocess.Popen([str(SSHD), "-D", "-f", str(lost.root / "sshd_config"), "-E",
                                      str(lost.root / "sshd.log")], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _until("its sshd listens again", lambda: _listens(lost.port), timeout_s=10)
    code, out, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    assert code == 0, err + out
    with RemoteHost(lost.spec()) as host:
        code, out, _ = cli(capsys, "status", "--repo", str(repo), "--json")
        assert not host.exists(Path(json.loads(out)["sessions"][0]["worktree"])), "removed once it answers"


def _listens(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_no_api_key_reaches_a_host(
        two_hosts: dict[str, SshServer], repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, tmux_socket: str) -> None:
    """A key in this process's environment stays here: not in the host's tmux server, the
    agent's environment or argv, nor in any file the run wrote under the host's work root."""
    secret = "sk-ant-test-" + "k" * 40
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "30")
    repo = repo_factory(FOUR)
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "src/a.py", "--agent", "demo",
                         "--hosts", "second", "--yes")
    assert code == 0, err + out
    server = two_hosts["second"]
    with RemoteHost(server.spec()) as host:
        sock = remote_socket(tmux_socket, "second")
        env = host.run(["tmux", "-L", sock, "show-environment", "-g"]).stdout
        pids = host.run(["tmux", "-L", sock, "list-panes", "-a", "-F", "#{pane_pid}"]).stdout.split()
        assert pids and secret.encode() not in env
        for pid in pids:
            for what in ("environ", "cmdline"):
                assert secret.encode() not in Path(f"/proc/{int(pid)}/{what}").read_bytes(), what
        found = host.run(["grep", "-rl", secret, str(server.home)]).stdout
        assert found == b"", found


def test_a_strict_sandbox_skips_a_host_without_bubblewrap_and_socat(
        ssh_hosts: SshHosts, two_hosts: dict[str, SshServer], repo_factory: RepoFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = Path(os.environ["PARALLEL_TUI_HOME"]) / "config.toml"
    bare = ssh_hosts.farm.root / "home-nosandbox"
    bare.mkdir(exist_ok=True)
    if not any(s.name == "nosandbox" for s in ssh_hosts.farm.servers):
        ssh_hosts.farm.start("nosandbox", user=ssh_hosts.first.user, home=bare,
                             path_env=path_without(ssh_hosts.farm.root, "bwrap", "socat"))
    server = next(s for s in ssh_hosts.farm.servers if s.name == "nosandbox")
    config.write_text('sandbox = "strict"\n' + config.read_text() + _toml(server.spec(max_sessions=2)))
    repo = repo_factory(FOUR)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "src/a.py",
                       "--agent", "claude-headless", "--hosts", "nosandbox", "--yes")
    assert code != 0
    assert "nosandbox skipped: lacks" in err and "bwrap, socat" in err, err


def test_a_branch_here_with_its_own_commits_is_never_moved_by_a_fetch(
        two_hosts: dict[str, SshServer], repo_factory: RepoFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({**FOUR, **SETUP})
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "src/a.py", "--agent", "demo",
                         "--hosts", "first", "--yes", "--wait")
    assert code == 0, err + out
    branch = "refs/heads/parallel/src-a-py"
    (repo / "mine.txt").write_text("a commit made here\n")  # on the branch here, not on the host
    git(repo, "update-index", "--add", "mine.txt")
    tree = git(repo, "write-tree").strip()
    git(repo, "reset", "-q")
    mine = git(repo, "commit-tree", tree, "-p", branch, "-m", "mine").strip()
    git(repo, "update-ref", branch, mine)
    code, out, err = cli(capsys, "status", "--repo", str(repo), "--json")
    worktree = json.loads(out)["sessions"][0]["worktree"]
    with RemoteHost(two_hosts["first"].spec()) as host:
        host.write_bytes(Path(worktree) / "theirs.txt", b"a commit made there\n")
        host.run(["git", "-C", worktree, "add", "theirs.txt"])
        host.run(["git", "-C", worktree, "-c", "user.name=t", "-c", "user.email=t@invalid",
                  "commit", "-qm", "x"])
    code, out, err = cli(capsys, "hosts", "fetch", "--repo", str(repo))
    assert code != 0, out
    assert "has commits the host's has not: kept" in out, out
    assert git(repo, "rev-parse", branch).strip() == mine, "the branch here still holds its own commit"
