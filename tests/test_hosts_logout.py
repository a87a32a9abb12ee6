"""Whether a host's tmux server outlives the SSH login (engine.hosts.logout). systemd-logind
cannot run in the test container, so its answers are scripted here (a stand-in for `loginctl`,
the one thing mocked); the loopback hosts, which have no logind, are checked for real."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

import pytest

from engine.hosts import logout
from engine.hosts.logout import SCOPE, logout_policy, recent_policy
from engine.hosts.remote import RemoteHost
from tests.sshd import SshHosts


class Scripted:
    """A host whose `loginctl` answers as given."""

    def __init__(self, kills: str, linger: str, systemd_run: bool = True) -> None:
        self.answers = {"KillUserProcesses": kills, "Linger": linger, "-un": "dev"}
        self.programs = {"loginctl", "id", *(["systemd-run"] if systemd_run else [])}
        self.timeouts: list[float | None] = []

    def which(self, program: str) -> str | None:
        return f"/usr/bin/{program}" if program in self.programs else None

    def run(self, argv: Sequence[str], *, timeout: float | None = None) -> subprocess.CompletedProcess[bytes]:
        self.timeouts.append(timeout)
        key = next(a for a in argv if a in self.answers)
        return subprocess.CompletedProcess(list(argv), 0, f"{self.answers[key]}\n".encode(), b"")


def test_a_logind_that_kills_at_logout_needs_lingering() -> None:
    host = Scripted(kills="yes", linger="no")
    policy = logout_policy(host)
    assert host.timeouts and all(t is not None and t <= 30 for t in host.timeouts), "D-Bus can hang"
    assert not policy.survives
    assert "loginctl enable-linger" in policy.detail


def test_with_lingering_tmux_starts_outside_the_login() -> None:
    policy = logout_policy(Scripted(kills="yes", linger="yes"))
    assert policy.survives and policy.launcher == SCOPE
    assert not logout_policy(Scripted(kills="yes", linger="yes", systemd_run=False)).survives


def test_a_logind_that_keeps_processes_needs_nothing() -> None:
    policy = logout_policy(Scripted(kills="no", linger="no"))
    assert policy.survives and policy.launcher == ()


def test_placing_and_launching_ask_a_host_once_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    host = Scripted(kills="yes", linger="no")
    assert not recent_policy(host).survives
    asked = len(host.timeouts)
    host.answers["Linger"] = "yes"  # turned on meanwhile: not seen until the answer is old
    assert not recent_policy(host).survives and len(host.timeouts) == asked
    assert recent_policy(Scripted(kills="yes", linger="yes")).survives, "another host is asked itself"
    clock = logout.time.monotonic() + logout.REMEMBER_S + 1
    monkeypatch.setattr(logout.time, "monotonic", lambda: clock)
    assert recent_policy(host).survives and len(host.timeouts) > asked


@pytest.mark.slow
def test_the_loopback_hosts_have_no_running_logind(ssh_hosts: SshHosts) -> None:
    with RemoteHost(ssh_hosts.second.spec()) as host:
        policy = logout_policy(host)
    assert policy.survives and policy.launcher == ()
    assert "no systemd-logind" in policy.detail or "systemd-logind is not running" in policy.detail
