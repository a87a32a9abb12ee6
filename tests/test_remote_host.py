"""RemoteHost against real sshd servers on 127.0.0.1 (tests/sshd.py), `MaxSessions 4`.

The Host protocol's calls (commands, signals, files) on two hosts logged in as two users with
two homes; host keys verified, keys only, every call time-limited; a lost helper or connection
comes back on the next call; many concurrent calls stay under sshd's channel cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.core.hosts_config import HostSpec
from engine.hosts.remote import HostUnreachable, RemoteHost
from tests.sshd import SshHosts, SshServer, free_port, keygen

pytestmark = pytest.mark.slow


@pytest.fixture
def first(ssh_hosts: SshHosts) -> RemoteHost:
    with RemoteHost(ssh_hosts.first.spec()) as host:
        yield host  # type: ignore[misc]


@pytest.fixture
def second(ssh_hosts: SshHosts) -> RemoteHost:
    with RemoteHost(ssh_hosts.second.spec()) as host:
        yield host  # type: ignore[misc]


def at_once(work: Callable[[int], None], threads: int) -> None:
    """`work(0)` … `work(threads - 1)`, each on its own thread; the first failure is raised."""
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads), timeout=60))


def test_each_host_runs_commands_as_its_own_user_in_its_own_home(ssh_hosts: SshHosts, first: RemoteHost,
                                                                   second: RemoteHost) -> None:
    for host, server in ((first, ssh_hosts.first), (second, ssh_hosts.second)):
        done = host.run(["sh", "-c", 'id -un; echo "$HOME"; pwd'], cwd=server.home)
        assert done.returncode == 0, done.stderr
        assert done.stdout.decode().split() == [server.user, str(server.home), str(server.home)]
        assert host.hello()["home"] == str(server.home)
    assert ssh_hosts.first.user != ssh_hosts.second.user


def test_run_feeds_stdin_reports_the_exit_code_and_keeps_the_streams_apart(first: RemoteHost) -> None:
    done = first.run(["sh", "-c", "cat; echo oops >&2; exit 3"], stdin=b"\x00bytes\xff")
    assert (done.returncode, done.stdout, done.stderr) == (3, b"\x00bytes\xff", b"oops\n")
    assert first.run(["cat"]).stdout == b""  # no stdin given: /dev/null, never the terminal


def test_env_sends_what_the_caller_changed_not_this_machines_environment(
        first: RemoteHost, ssh_hosts: SshHosts, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTUI_ONLY_HERE", "local")
    env = {**os.environ, "PTUI_ADDED": "yes"}
    del env["PTUI_ONLY_HERE"]
    done = first.run(["sh", "-c", 'echo "$HOME|$PTUI_ADDED|${PTUI_ONLY_HERE-unset}"'], env=env)
    assert done.stdout.decode().strip() == f"{ssh_hosts.first.home}|yes|unset"  # the host's HOME, not ours


def test_a_command_past_its_timeout_is_killed_with_its_group(first: RemoteHost, ssh_hosts: SshHosts) -> None:
    marker = ssh_hosts.first.home / "late"
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        first.run(["sh", "-c", f"(sleep 2; touch {marker}) & sleep 30"], timeout=0.5, group=True)
    assert time.monotonic() - start < 5
    time.sleep(2.5)
    assert not marker.exists()  # the background child went with the group


def test_which_signal_and_alive(first: RemoteHost) -> None:
    assert first.which("sh") is not None
    assert first.which("no-such-program-ptui") is None
    pid = int(first.run(["sh", "-c", "setsid sleep 60 >/dev/null 2>&1 & echo $!"]).stdout)
    assert first.alive(pid)
    assert first.signal(pid, signal.SIGKILL)
    assert not first.signal(2**22 + 7, signal.SIGTERM)  # beyond pid_max: gone
    assert not first.alive(2**22 + 7)


def test_files_round_trip_atomically_with_parents_created(second: RemoteHost, ssh_hosts: SshHosts) -> None:
    root = ssh_hosts.second.home / "files"
    target = root / "a" / "b" / "state.json"
    second.write_bytes(target, b"one")
    second.write_bytes(target, b"two")
    assert second.read_bytes(target) == b"two"
    assert target.stat().st_uid == (ssh_hosts.second.home.stat().st_uid)  # written as the host's user
    assert [n for n in second.listdir(target.parent) if n.startswith(".tmp")] == []  # temp+rename: no litter
    second.append_bytes(root / "log", b"ab")
    second.append_bytes(root / "log", b"cd")
    assert second.read_tail(root / "log", 0) == (b"abcd", 4)
    assert second.read_tail(root / "log", 3) == (b"d", 4)
    assert second.read_tail(root / "absent", 9) == (b"", 9)
    assert second.exists(target) and not second.exists(root / "absent")
    second.mkdir(root / "x" / "y")
    second.mkdir(root / "x" / "y")
    assert sorted(second.listdir(root)) == ["a", "log", "x"]
    second.chmod(root / "log", 0o600)
    assert (root / "log").stat().st_mode & 0o777 == 0o600
    second.remove(root / "log")
    second.remove(root / "log")  # missing is fine
    with pytest.raises(FileNotFoundError):
        second.read_bytes(root / "log")
    assert second.read_bytes("~/files/a/b/state.json") == b"two"  # ~ is the host user's home


def test_a_tail_past_the_end_answers_the_size_as_this_machine_does(second: RemoteHost, ssh_hosts: SshHosts,
                                                                     tmp_path: Path) -> None:
    """`size` (a change key for the session's git and hook files) and `tail` ask with an offset
    past the end; the host must answer the file's size there, as LocalHost does, or every file
    on a host reads as absent (its commits then seen only by the slow safety read)."""
    from engine.hosts.files import size, tail  # noqa: PLC0415
    from engine.hosts.host import LOCAL  # noqa: PLC0415

    there = ssh_hosts.second.home / "grown.jsonl"
    second.write_bytes(there, b"one\ntwo\n")
    here = tmp_path / "grown.jsonl"
    here.write_bytes(b"one\ntwo\n")
    assert second.read_tail(there, 100) == LOCAL.read_tail(here, 100) == (b"", 8)
    assert size(second, there) == size(LOCAL, here) == 8
    assert tail(second, there, 4) == tail(LOCAL, here, 4) == b"two\n"
    assert size(second, there.with_name("absent")) == -1


def test_a_look_answers_its_files_from_one_round_trip_as_the_host_would(
        second: RemoteHost, ssh_hosts: SshHosts, monkeypatch: pytest.MonkeyPatch) -> None:
    """The supervisor's look at a host's sessions: one call, then every read of those files (and
    of a worktree's git dir through its `.git` link) answered as the host answers it, a missing
    file still missing, a write seen, and another thread still asking the host itself."""
    root = ssh_hosts.second.home / "look"
    gitdir = root / "repo.git" / "worktrees" / "s1"
    second.write_bytes(gitdir / "index", b"I" * 10)
    second.write_bytes(gitdir / "HEAD", b"ref: refs/heads/parallel/s1\n")
    second.write_bytes(root / "s1" / ".git", f"gitdir: {gitdir}\n".encode())
    second.write_bytes(root / "s1.hook.jsonl", b'{"a": 1}\n')
    big = os.urandom(70_000)
    second.write_bytes(root / "big.bin", big)
    wanted = [root / "s1.exit", root / "s1", root / "s1" / ".git", root / "s1.hook.jsonl", root / "big.bin"]
    plain = {"exists": [second.exists(p) for p in wanted],
             "tail": second.read_tail(root / "s1.hook.jsonl", 3),
             "size": second.read_tail(gitdir / "index", 1 << 62),
             "link": second.read_bytes(root / "s1" / ".git")}
    calls: list[str] = []
    real = second._call  # a counter around the real call, not a stand-in
    monkeypatch.setattr(second, "_call", lambda op, **kw: (calls.append(op), real(op, **kw))[1])
    with second.looking(wanted, [root / "s1"]):
        assert calls == ["look"]
        assert [second.exists(p) for p in wanted] == plain["exists"]
        assert second.read_tail(root / "s1.hook.jsonl", 3) == plain["tail"]
        assert second.read_tail(gitdir / "index", 1 << 62) == plain["size"] == (b"", 10)
        assert second.read_bytes(root / "s1" / ".git") == plain["link"]
        assert second.exists(gitdir / "HEAD") and not second.exists(gitdir / "logs" / "HEAD")
        with pytest.raises(FileNotFoundError):
            second.read_bytes(root / "s1.exit")
        assert second.read_tail(root / "s1.exit", 5) == (b"", 5)
        assert calls == ["look"], "all of it from the one round trip"
        assert second.read_bytes(root / "big.bin") == big and calls[-1] == "read_bytes", "too big: asked"
        second.write_bytes(root / "s1.exit", b"0\n")
        assert second.read_bytes(root / "s1.exit") == b"0\n", "what this look wrote is read back"
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(second.exists, root / "s1").result() and calls[-1] == "exists"
    calls.clear()
    assert second.exists(root / "s1.exit") and calls == ["exists"], "after the look: the host again"


def test_several_tails_come_back_in_one_call(second: RemoteHost, ssh_hosts: SshHosts) -> None:
    root = ssh_hosts.second.home / "tails"
    second.write_bytes(root / "a.jsonl", b"one\ntwo\n")
    second.write_bytes(root / "b.jsonl", b"x")
    got = second.read_tails([(root / "a.jsonl", 4), (root / "missing", 7), (root / "b.jsonl", 0)])
    assert got == [(b"two\n", 8), (b"", 7), (b"x", 1)]
    assert got == [second.read_tail(p, o) for p, o in ((root / "a.jsonl", 4), (root / "missing", 7),
                                                       (root / "b.jsonl", 0))]


def test_many_concurrent_calls_stay_under_max_sessions_4(first: RemoteHost, ssh_hosts: SshHosts) -> None:
    """40 calls from 8 threads at once over a server that allows 4 channels per connection."""
    helper_pid = first.hello()["pid"]

    def work(i: int) -> None:
        for j in range(5):
            if j % 2:
                assert first.run(["echo", str(i)]).stdout == f"{i}\n".encode()
            else:
                first.write_bytes(ssh_hosts.first.home / "many" / f"{i}-{j}", b"x")

    at_once(work, 8)
    assert len(first.listdir(ssh_hosts.first.home / "many")) == 24
    assert first.hello()["pid"] == helper_pid  # one helper carried all of it


def test_file_copies_and_helper_calls_at_once_share_the_capped_channels(first: RemoteHost,
                                                                       ssh_hosts: SshHosts,
                                                                       tmp_path: Path) -> None:
    """Six SFTP copies and helper calls in parallel over MaxSessions 4: none is refused."""
    source = tmp_path / "blob"
    source.write_bytes(os.urandom(1 << 20))

    def copy(i: int) -> None:
        first.put_file(source, f"~/copies/{i}.bin")
        assert first.exists(f"~/copies/{i}.bin")

    at_once(copy, 6)
    back = tmp_path / "back"
    first.get_file("~/copies/5.bin", back)
    assert back.read_bytes() == source.read_bytes()
    assert first.read_bytes(ssh_hosts.first.home / "copies" / "0.bin") == source.read_bytes()


def test_a_large_file_round_trips_through_the_helper(first: RemoteHost) -> None:
    """A 12 MB answer is one line longer than asyncssh's receive window."""
    data = os.urandom(12 << 20)
    first.write_bytes("~/large", data)
    assert first.read_bytes("~/large") == data


def test_the_fixture_really_caps_channels_at_four(ssh_hosts: SshHosts) -> None:
    """The cap test above means something only if sshd refuses a fifth channel."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import asyncssh  # noqa: PLC0415

    async def open_five() -> int:
        server = ssh_hosts.first
        async with asyncssh.connect("127.0.0.1", port=server.port, username=server.user,
                                    client_keys=[str(server.identity)],
                                    known_hosts=str(server.known_hosts)) as conn:
            procs = []
            with contextlib.suppress(asyncssh.ChannelOpenError):
                for _ in range(5):
                    procs.append(await conn.create_process("sleep 5"))
            for proc in procs:
                proc.close()
            return len(procs)

    assert asyncio.run(open_five()) == 4


def test_an_unknown_host_key_is_refused_with_the_command_that_trusts_it(ssh_hosts: SshHosts,
                                                                         tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    server = ssh_hosts.first
    with RemoteHost(server.spec(known_hosts=str(empty)), connect_timeout=5) as host, \
            pytest.raises(HostUnreachable) as caught:
        host.exists("/")
    line = caught.value.one_line()
    assert "host key is not trusted" in line and "\n" not in line
    assert f"ssh-keyscan -p {server.port} 127.0.0.1 >> {empty}" in line
    assert empty.read_text() == ""  # never accepted on its own


def test_a_key_the_host_does_not_accept_fails_at_once_without_a_prompt(ssh_hosts: SshHosts,
                                                                        tmp_path: Path) -> None:
    keygen(tmp_path / "stranger")
    start = time.monotonic()
    spec = ssh_hosts.first.spec(identity_file=str(tmp_path / "stranger"))
    with RemoteHost(spec, connect_timeout=5) as host, \
            pytest.raises(HostUnreachable, match="no key was accepted"):
        host.exists("/")
    assert time.monotonic() - start < 5


def test_an_encrypted_identity_file_is_one_line_naming_ssh_add(ssh_hosts: SshHosts, tmp_path: Path) -> None:
    key = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret words", "-f", str(key)], check=True)
    with RemoteHost(ssh_hosts.first.spec(identity_file=str(key)), connect_timeout=5) as host, \
            pytest.raises(HostUnreachable) as caught:
        host.exists("/")
    assert "ssh-add" in caught.value.one_line() and str(key) in caught.value.one_line()


def test_a_host_that_is_down_is_one_line_each_call_and_backs_off(ssh_hosts: SshHosts) -> None:
    spec = ssh_hosts.first.spec(ssh=f"root@127.0.0.1:{free_port()}")
    with RemoteHost(spec, connect_timeout=2) as host:
        for _ in range(2):
            start = time.monotonic()
            with pytest.raises(HostUnreachable, match="cannot connect"):
                host.which("sh")
            assert time.monotonic() - start < 3


def test_a_lost_helper_comes_back_on_the_next_call(first: RemoteHost, ssh_hosts: SshHosts) -> None:
    old = first.hello()["pid"]
    with RemoteHost(ssh_hosts.first.spec()) as other:  # another connection ends the first one's helper
        assert other.signal(old, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while first.hello()["pid"] == old and time.monotonic() < deadline:
        with contextlib.suppress(HostUnreachable):
            first.exists("/")
    assert first.exists("/")
    assert first.hello()["pid"] != old


def test_a_dropped_connection_is_remade_by_the_next_call_even_a_file_copy(ssh_hosts: SshHosts,
                                                                         tmp_path: Path) -> None:
    """The connection itself dies (sshd's session process killed): the next call, here an
    SFTP copy, reconnects."""
    server: SshServer = ssh_hosts.second
    blob = tmp_path / "blob"
    blob.write_bytes(b"after the drop")
    with RemoteHost(server.spec()) as host:
        helper = host.hello()["pid"]
        parent = int(Path(f"/proc/{helper}/stat").read_text().split()[3])  # the sshd child of the session
        while Path(f"/proc/{parent}/comm").read_text().strip() != "sshd":
            parent = int(Path(f"/proc/{parent}/stat").read_text().split()[3])
        subprocess.run(["kill", "-9", str(parent)], check=True)
        deadline = time.monotonic() + 10
        answered = False
        while not answered and time.monotonic() < deadline:
            try:
                host.put_file(blob, "~/dropped/blob")
                answered = True
            except OSError:  # the call racing the drop may still fail, in one line
                time.sleep(0.2)
        assert answered
        assert host.hello()["pid"] != helper
        assert (server.home / "dropped" / "blob").read_bytes() == b"after the drop"


def test_a_call_that_outlives_its_limit_raises_instead_of_waiting(first: RemoteHost) -> None:
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        first.run(["sleep", "30"], timeout=1)
    assert time.monotonic() - start < 4


def test_reconnects_back_off_instead_of_hammering_a_host_that_is_down(tmp_path: Path) -> None:
    """A listener that drops every connection: calls in a tight loop for 3 s connect only a few
    times (0.5 s, 1 s, 2 s apart), and each call still ends in one line."""
    attempts = 0
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def drop_all() -> None:
        nonlocal attempts
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                conn, _ = listener.accept()
                attempts += 1
                conn.close()

    thread = threading.Thread(target=drop_all)
    thread.start()
    (tmp_path / "known_hosts").write_text("")
    spec = HostSpec(name="flaky", ssh=f"me@127.0.0.1:{listener.getsockname()[1]}",
                    known_hosts=str(tmp_path / "known_hosts"))
    calls = 0
    try:
        with RemoteHost(spec, connect_timeout=2) as host:
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                with pytest.raises(HostUnreachable):
                    host.exists("/")
                calls += 1
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert 2 <= attempts <= 5, attempts
    assert calls >= attempts


def test_exec_runs_the_command_on_the_host_through_the_system_ssh(ssh_hosts: SshHosts) -> None:
    """attach's path: this process becomes `ssh -t host -- argv` (here a child, so it can be read)."""
    spec = ssh_hosts.second.spec()
    argv = ["sh", "-c", 'id -un; echo "$0"', "a b"]
    code = ("from engine.core.hosts_config import HostSpec; from engine.hosts.remote import RemoteHost; "
            f"RemoteHost(HostSpec(**{dataclasses.asdict(spec)!r})).exec({argv!r})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=False,
                          stdin=subprocess.DEVNULL, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().split("\n")[:2] == [ssh_hosts.second.user, "a b"]  # quoting kept


def test_terminal_runs_the_command_on_the_host_and_returns_its_exit_and_stderr(second: RemoteHost,
                                                                                ssh_hosts: SshHosts) -> None:
    """The app's attach while it is suspended: `ssh -t host -- argv`, waited for, its stderr kept
    (what tmux complains of is shown to the person, not left on the screen)."""
    argv = ["sh", "-c", 'id -un >&2; echo "$0" >&2; exit 3', "a b"]
    done = second.terminal(argv)
    assert done.returncode == 3
    lines = done.stderr.decode().splitlines()
    assert ssh_hosts.second.user in lines and "a b" in lines  # quoting kept
