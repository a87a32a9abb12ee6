"""`[[hosts]]` in the user's config: typed when loaded, refused in one line, never from a repo.

A host's `ssh` reaches an SSH client's command line, so anything that could read as an option
or carry a second word is refused before it gets there.
"""

from __future__ import annotations

import pytest

from engine.core.config import load_config, user_config_path
from engine.core.errors import ExitCode
from engine.core.hosts_config import HostSpec, SshTarget, ssh_target, with_local
from tests.conftest import RepoFactory
from tests.run_helpers import cli


def user_config(text: str) -> None:
    user_config_path().parent.mkdir(parents=True, exist_ok=True)
    user_config_path().write_text(text)


def test_hosts_load_typed_with_their_defaults() -> None:
    user_config('[[hosts]]\nname = "a"\nssh = "dev@build1.example.com:2222"\nmax_sessions = 3\n'
                '[[hosts]]\nname = "b"\nssh = "buildbox"\nidentity_file = "~/.ssh/id_b"\n'
                'known_hosts = "~/kh"\nwork_root = "/srv/ptui"\n'
                '[[hosts]]\nname = "local"\nmax_sessions = 6\n')
    hosts = load_config().hosts
    assert hosts == (
        HostSpec(name="a", ssh="dev@build1.example.com:2222", max_sessions=3),
        HostSpec(name="b", ssh="buildbox", identity_file="~/.ssh/id_b", known_hosts="~/kh",
                 work_root="/srv/ptui"),
        HostSpec(name="local", max_sessions=6))
    assert hosts[0].work_root == "~/.parallel-tui" and hosts[0].max_sessions == 3
    assert hosts[2].is_local and not hosts[0].is_local
    assert load_config().hosts == hosts  # stable across loads
    assert [(h.name, h.max_sessions) for h in with_local(hosts, 8)] == [("local", 6), ("a", 3), ("b", 2)]
    user_config_path().unlink()
    assert load_config().hosts == ()
    assert with_local((), 8) == (HostSpec(name="local", max_sessions=8),)


@pytest.mark.parametrize(("ssh", "target"), [
    ("dev@build1.example.com:2222", SshTarget("build1.example.com", "dev", 2222)),
    ("buildbox", SshTarget("buildbox", None, None)),
    ("root@10.0.0.5", SshTarget("10.0.0.5", "root", None)),
    ("[::1]:2200", SshTarget("::1", None, 2200)),
    ("me@[fe80::1]", SshTarget("fe80::1", "me", None)),
])
def test_ssh_targets_split_into_user_host_and_port(ssh: str, target: SshTarget) -> None:
    assert ssh_target(ssh) == target


BAD = [
    ('[[hosts]]\nname = "a"\nssh = "-oProxyCommand=touch /tmp/x"', "is not user@host[:port]"),
    ('[[hosts]]\nname = "a"\nssh = "dev@host extra"', "is not user@host[:port]"),
    ('[[hosts]]\nname = "a"\nssh = "dev@host:70000"', "is not user@host[:port]"),
    ('[[hosts]]\nname = "a"\nssh = "dev@@host"', "is not user@host[:port]"),
    ('[[hosts]]\nname = "a"', "has no ssh"),
    ('[[hosts]]\nname = "a"\nssh = "h"\nport = 22', "unknown key 'port'"),
    ('[[hosts]]\nname = "a b"\nssh = "h"', "is not a host name"),
    ('[[hosts]]\nssh = "h"', "is not a host name"),
    ('[[hosts]]\nname = "a"\nssh = 5', "ssh=5 is not a string"),
    ('[[hosts]]\nname = "a"\nssh = "h"\nmax_sessions = 0', "max_sessions=0"),
    ('[[hosts]]\nname = "a"\nssh = "h"\nmax_sessions = 2.5', "max_sessions=2.5"),
    ('[[hosts]]\nname = "a"\nssh = "h"\nmax_sessions = true', "max_sessions=True"),
    ('[[hosts]]\nname = "a"\nssh = "h"\nwork_root = " "', "work_root is empty"),
    ('[[hosts]]\nname = "a"\nssh = "h"\n[[hosts]]\nname = "a"\nssh = "g"', "two hosts"),
    ('[[hosts]]\nname = "local"\nssh = "h"', "local is this machine"),
    ('hosts = "a"', "not a list of tables"),
    ("hosts = [1]", "is not a table"),
]


@pytest.mark.parametrize(("toml", "says"), BAD)
def test_a_bad_host_is_refused_in_one_line_naming_it(toml: str, says: str, repo_factory: RepoFactory,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    user_config(toml + "\n")
    repo = repo_factory({"a.py": "1\n"})
    code, _, err = cli(capsys, "analyze", "--repo", str(repo))
    assert code == ExitCode.CONFIG, err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    assert says in err, err
    assert str(user_config_path()) in err


def test_a_repos_config_may_not_add_hosts(repo_factory: RepoFactory,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    hosts = '[[hosts]]\nname = "x"\nssh = "evil@attacker"\n'
    repo = repo_factory({"a.py": "1\n", ".parallel-tui.toml": hosts})
    code, _, err = cli(capsys, "hosts", "check", "--repo", str(repo))
    assert code == ExitCode.CONFIG
    assert "lists hosts, which only the user's own config may" in err and err.count("\n") == 1
