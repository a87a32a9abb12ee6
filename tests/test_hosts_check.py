"""`parallel-tui hosts check` on real sshd hosts (MaxSessions 4): what each has and lacks.

Both ways in are reported (the system `ssh -o BatchMode=yes` and the engine's asyncssh +
helper); a host without tmux cannot run sessions and says so; an unknown host key is one
line naming ssh-keyscan; an alias from ~/.ssh/config works as `ssh`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.core.config import user_config_path
from engine.core.errors import ExitCode
from engine.core.hosts_config import HostSpec
from engine.hosts.remote import HostUnreachable, RemoteHost
from tests.run_helpers import cli
from tests.sshd import SshHosts, SshServer, path_without

pytestmark = pytest.mark.slow
CLAUDE = sorted(Path(__file__).resolve().parent.parent.glob(".tools/claude-*/node_modules/.bin/claude"))


def write_hosts(*specs: HostSpec) -> None:
    lines = []
    for spec in specs:
        lines += ["[[hosts]]", f"name = {json.dumps(spec.name)}", f"ssh = {json.dumps(spec.ssh)}"]
        lines += [f"{k} = {json.dumps(getattr(spec, k))}"
                  for k in ("identity_file", "known_hosts", "work_root") if getattr(spec, k)]
    user_config_path().parent.mkdir(parents=True, exist_ok=True)
    user_config_path().write_text("\n".join(lines) + "\n")


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, dict[str, object]], str]:
    code, out, err = cli(capsys, "hosts", "check", "--json", *argv)
    return code, {r["host"]: r for r in json.loads(out)}, err


def probes(report: dict[str, object]) -> dict[str, dict[str, object]]:
    rows = report["probes"]
    assert isinstance(rows, list)
    return {p["name"]: p for p in rows}


def test_both_hosts_have_what_sessions_need_but_the_agent(ssh_hosts: SshHosts,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    write_hosts(ssh_hosts.first.spec(), ssh_hosts.second.spec())
    code, reports, err = check(capsys, "--agent", "git")  # git stands in for an agent both hosts have
    assert set(reports) == {"local", "first", "second"}, err
    for name, server in (("first", ssh_hosts.first), ("second", ssh_hosts.second)):
        got = probes(reports[name])
        assert got["ssh"]["ok"] is True, got["ssh"]
        assert got["connection"]["ok"] is True and str(server.home) in str(got["connection"]["detail"])
        for program in ("python3", "git", "tmux", "bwrap", "socat"):
            assert got[program]["ok"] is True, got[program]
        assert got["room"]["ok"] is True and str(server.home) in str(got["room"]["detail"])
        assert reports[name]["usable"] is True
    code, reports, _ = check(capsys, "second")  # the default agent, claude: not on these hosts
    assert list(reports) == ["second"]
    assert code == ExitCode.FAILURE
    assert reports["second"]["lacks"] == ["claude"]
    assert probes(reports["second"])["claude login"]["ok"] is None


def test_a_host_without_tmux_cannot_run_sessions_and_says_so(ssh_hosts: SshHosts,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    write_hosts(ssh_hosts.notmux.spec())
    code, out, _ = cli(capsys, "hosts", "check", "notmux", "--agent", "git")
    assert code == ExitCode.FAILURE
    assert out.splitlines()[0] == f"notmux ({ssh_hosts.notmux.ssh}): cannot run sessions: lacks tmux"
    assert any(line.split()[:2] == ["LACK", "tmux"] and "non-interactive SSH login" in line
               for line in out.splitlines())


@pytest.mark.skipif(not CLAUDE, reason="the pinned Claude Code CLI is not in .tools (make claude-cli)")
def test_the_agents_login_is_what_claude_auth_status_says_on_the_host(
        ssh_hosts: SshHosts, capsys: pytest.CaptureFixture[str]) -> None:
    server = ssh_hosts.notmux
    link = Path(server.path_env) / "claude"
    link.symlink_to(CLAUDE[-1])
    credentials = server.home / ".claude" / ".credentials.json"
    try:
        write_hosts(server.spec())
        _, reports, _ = check(capsys, "notmux")
        assert probes(reports["notmux"])["claude login"]["ok"] is False
        credentials.parent.mkdir(exist_ok=True)
        credentials.write_text(json.dumps({"claudeAiOauth": {
            "accessToken": "sk-ant-oat01-test", "refreshToken": "r", "expiresAt": 9_999_999_999_999,
            "scopes": ["user:inference"], "subscriptionType": "pro"}}))
        _, reports, _ = check(capsys, "notmux")
        got = probes(reports["notmux"])
        assert got["claude"]["ok"] is True
        assert got["claude login"] == {"name": "claude login", "ok": True, "need": "sessions",
                                       "detail": "logged in (claude.ai)"}
        assert reports["notmux"]["lacks"] == ["tmux"]
    finally:
        link.unlink()
        credentials.unlink(missing_ok=True)


def test_a_host_without_python3_logs_in_but_cannot_run_the_helper(ssh_hosts: SshHosts,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    farm = ssh_hosts.farm
    home = farm.root / "home-nopython"
    home.mkdir()
    server = farm.start("nopython", user=ssh_hosts.first.user, home=home, max_sessions=4,
                        path_env=path_without(farm.root, "python"))
    write_hosts(server.spec())
    code, reports, _ = check(capsys, "nopython")
    got = probes(reports["nopython"])
    assert code == ExitCode.FAILURE
    assert got["connection"]["ok"] is True
    assert got["python3"]["ok"] is False and "helper did not start" in str(got["python3"]["detail"])
    assert reports["nopython"]["lacks"] == ["python3"]


def test_an_unknown_host_key_is_refused_both_ways_with_the_trusting_command(
        ssh_hosts: SshHosts, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    server = ssh_hosts.first
    write_hosts(server.spec(known_hosts=str(empty)))
    code, reports, _ = check(capsys, "first")
    got = probes(reports["first"])
    assert code == ExitCode.FAILURE
    assert got["ssh"]["ok"] is False and "Host key verification failed" in str(got["ssh"]["detail"])
    assert got["connection"]["ok"] is False
    assert f"ssh-keyscan -p {server.port} 127.0.0.1 >> {empty}" in str(got["connection"]["detail"])
    assert "git" not in got  # nothing is claimed about a host that was not reached
    assert empty.read_text() == ""


def test_an_alias_from_the_users_ssh_config_reaches_the_host(ssh_hosts: SshHosts, isolated_env: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    server: SshServer = ssh_hosts.second
    ssh_dir = isolated_env / ".ssh"
    ssh_dir.mkdir(mode=0o700)
    (ssh_dir / "config").write_text(
        f"Host buildbox\n  HostName 127.0.0.1\n  Port {server.port}\n  User {server.user}\n"
        f"  IdentityFile {server.identity}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {server.known_hosts}\n")
    write_hosts(HostSpec(name="box", ssh="buildbox", work_root="~/work"))
    code, reports, _ = check(capsys, "box", "--agent", "git")
    got = probes(reports["box"])
    assert got["ssh"]["ok"] is True, got["ssh"]
    assert got["connection"]["ok"] is True, got["connection"]
    assert str(server.home) in str(got["connection"]["detail"])
    assert code == 0


def test_a_host_name_not_in_the_config_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "hosts", "check", "nowhere")
    assert code == ExitCode.USAGE
    assert err.count("\n") == 1 and "no host named 'nowhere'" in err and "use one of: local" in err


def test_a_connection_lost_while_the_helper_starts_is_an_unreachable_host(
        ssh_hosts: SshHosts) -> None:
    """The host drops the connection before the helper says hello (its sshd killed, as when a
    host goes down while the supervisor starts): an OSError the supervisor backs off from, not
    asyncssh's own exception, which killed the supervisor."""
    farm = ssh_hosts.farm
    home = farm.root / "home-dropper"
    home.mkdir()
    path = path_without(farm.root, "python", "pydoc")
    fake = Path(path) / "python3"
    fake.write_text("#!/bin/sh\nkill -9 $PPID\nsleep 5\n")
    fake.chmod(0o755)
    server = farm.start("dropper", user=ssh_hosts.first.user, home=home, max_sessions=4, path_env=path)
    with RemoteHost(server.spec()) as host, pytest.raises(HostUnreachable) as lost:
        host.which("tmux")
    assert "host dropper" in str(lost.value)
