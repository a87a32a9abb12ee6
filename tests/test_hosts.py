"""The host seam: git and tmux calls go through the `Host` they are given, and the local host
runs, finds and signals real processes."""

from __future__ import annotations

import ast
import signal
import subprocess
import sys
import time
from pathlib import Path

import libtmux
import pytest

from engine.core.errors import ConfigError
from engine.hosts.gitcli import git, head_sha, stream_git
from engine.hosts.host import LOCAL, Host
from engine.hosts.registry import Hosts
from engine.hosts.tmux_sessions import Tmux
from tests.conftest import RepoFactory
from tests.recording_host import RecordingHost
from tests.run_helpers import FILES


def test_git_runs_on_the_host_it_is_given(repo_factory: RepoFactory) -> None:
    repo = repo_factory(FILES)
    host = RecordingHost()
    sha = git(repo, "rev-parse", "HEAD", host=host).strip()
    assert sha == head_sha(repo)
    assert host.calls == [["git", "-C", str(repo), "rev-parse", "HEAD"]]


@pytest.mark.tmux
def test_tmux_runs_on_the_host_it_is_given_on_its_own_server(tmux_socket: str, tmp_path: Path) -> None:
    recorder = RecordingHost()
    host: Host = recorder
    tmux = Tmux(tmux_socket, "ptui-hosts", host=host)
    tmux.ensure_session(tmp_path, 1000)
    window = tmux.new_window("w", tmp_path, ["sleep", "30"])
    panes = tmux.panes()
    assert panes[window].window_name == "w"
    pid = panes[window].pid
    assert pid is not None and host.alive(pid)
    assert recorder.calls and all(c[1:3] == ["-L", tmux_socket] for c in recorder.calls)
    assert {c[3] for c in recorder.calls} >= {"new-session", "new-window", "list-panes"}


@pytest.mark.tmux
def test_tmux_output_is_split_as_libtmux_splits_it(tmux_socket: str, tmp_path: Path) -> None:
    """The lines `status` parses are the ones libtmux gave before: no trailing empty line,
    stderr without blanks, odd bytes replaced, not fatal."""
    tmux = Tmux(tmux_socket, "ptui-split", host=LOCAL)
    tmux.ensure_session(tmp_path, 1000)
    server = libtmux.Server(socket_name=tmux_socket)
    for args in (("display-message", "-p", "a\tb\n\nc"), ("list-windows", "-a"),
                 ("kill-window", "-t", "@999"), ("display-message", "-p", "caf\u00e9")):
        ours, theirs = tmux.run(*args), server.cmd(*args)
        assert (ours.returncode, ours.stdout, ours.stderr) == \
            (theirs.returncode, theirs.stdout, theirs.stderr), args


def test_local_host_runs_finds_and_signals_processes(tmp_path: Path) -> None:
    done = LOCAL.run([sys.executable, "-c", "import os; print(os.getcwd())"], cwd=tmp_path)
    assert (done.returncode, done.stdout.decode().strip()) == (0, str(tmp_path))
    assert LOCAL.which("git") and LOCAL.which("no-such-program-ptui") is None
    with pytest.raises(subprocess.TimeoutExpired):
        LOCAL.run(["sleep", "5"], timeout=0.2)
    child = ("from engine.hosts.host import LOCAL; "
             "print(LOCAL.run(['sh', '-c', 'read line && echo got $line'], timeout=10).returncode)")
    typed = subprocess.run([sys.executable, "-c", child], input=b"a key meant for the app\n",
                           capture_output=True, check=True)
    assert typed.stdout.strip() != b"0", "a command run on the host never reads its caller's input"
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert LOCAL.alive(child.pid)
        assert LOCAL.signal(child.pid, signal.SIGTERM)
        child.wait(timeout=5)
        assert not LOCAL.alive(child.pid)
        assert not LOCAL.signal(child.pid, signal.SIGTERM), "a process that is gone is False, not an error"
    finally:
        child.kill()
        child.wait()


def test_a_streamed_git_conversation_runs_on_the_host_it_is_given(repo_factory: RepoFactory) -> None:
    repo = repo_factory(FILES)
    host = RecordingHost()
    proc = stream_git(repo, "cat-file", "--batch", host=host)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"HEAD\n")
    proc.stdin.close()
    assert proc.stdout.read().split(b"\n")[0].split()[1:2] == [b"commit"]
    proc.stdout.close()
    assert proc.wait(timeout=10) == 0
    assert host.calls == [["git", "-C", str(repo), "cat-file", "--batch"]]


def test_local_host_reads_writes_and_tails_files(tmp_path: Path) -> None:
    """The file half of the protocol, as a remote host must mirror it: absent files are
    FileNotFoundError (read), (b"", offset) (tail), [] (listdir), fine (remove)."""
    host: Host = LOCAL
    assert host.name == "local"
    target = tmp_path / "a" / "b" / "f.jsonl"
    with pytest.raises(FileNotFoundError):
        host.read_bytes(target)
    assert host.read_tail(target, 7) == (b"", 7)
    assert host.listdir(tmp_path / "a") == [] and not host.exists(target)
    host.write_bytes(target, b"one\n")
    assert host.read_bytes(target) == b"one\n" and host.exists(target)
    assert host.listdir(tmp_path / "a" / "b") == ["f.jsonl"], "no temp file is left beside it"
    host.append_bytes(target, b"two\n")
    data, offset = host.read_tail(target, 0)
    assert (data, offset) == (b"one\ntwo\n", 8)
    assert host.read_tail(target, offset) == (b"", 8)
    host.append_bytes(target, b"three\n")
    assert host.read_tail(target, offset) == (b"three\n", 14)
    host.write_bytes(target, b"new\n")
    assert host.read_tail(target, 14) == (b"", 4), "a shorter file says so: the offset went back"
    host.mkdir(tmp_path / "x" / "y")
    host.mkdir(tmp_path / "x" / "y")
    assert host.listdir(tmp_path / "x") == ["y"]
    host.chmod(target, 0o600)
    assert target.stat().st_mode & 0o777 == 0o600
    host.remove(target)
    host.remove(target)
    assert not host.exists(target)


def test_an_atomic_write_never_shows_half_a_file(tmp_path: Path) -> None:
    """A reader racing the writer sees the old whole file or the new whole file."""
    target = tmp_path / "f"
    LOCAL.write_bytes(target, b"a" * 100_000)
    code = ("import sys; from pathlib import Path; from engine.hosts.host import LOCAL\n"
            "for i in range(200): LOCAL.write_bytes(Path(sys.argv[1]), (b'ab'[i % 2:i % 2 + 1]) * 100_000)")
    writer = subprocess.Popen([sys.executable, "-c", code, str(target)],
                              cwd=Path(__file__).resolve().parent.parent)
    seen = set()
    while writer.poll() is None:
        data = LOCAL.read_bytes(target)
        seen.add((len(data), len(set(data))))
    assert writer.wait() == 0
    assert seen <= {(100_000, 1)}, seen


def test_local_host_execs_in_place_of_the_process() -> None:
    code = ("from engine.hosts.host import LOCAL\n"
            "LOCAL.exec(['sh', '-c', 'echo replaced; exit 3'])\nprint('not replaced')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    assert (done.returncode, done.stdout) == (3, "replaced\n")


ENGINE = Path(__file__).resolve().parent.parent / "engine"
PROCESS_CALLS = {"subprocess": {"run", "Popen", "call", "check_call", "check_output", "getoutput"},
                 "os": {"kill", "killpg", "execv", "execvp", "execvpe", "execl", "execlp", "system",
                        "popen", "spawnv", "posix_spawn", "fork"}}
OFF_THE_HOST = {
    "engine/agents/demo.py": "the demo agent is its own program, started in a session (not the engine)",
    "engine/core/faults.py": "the test-only fault switch signals its own process",
    "engine/claude/statusline_writer.py": "Claude Code's statusline program (run by Claude Code, not the "
                                          "engine) chains to the person's own statusline command",
}
"""Modules outside engine/hosts that still start or signal processes themselves, and why."""


def test_processes_are_started_and_signalled_only_through_the_host() -> None:
    """The issue's rule: every subprocess, git, tmux and os.kill call goes through `Host`, so a
    remote host plugs in at one place (attach's exec and localize's streaming git included)."""
    found = set()
    for path in ENGINE.rglob("*.py"):
        where = path.relative_to(ENGINE.parent).as_posix()
        if where.startswith("engine/hosts/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.attr in PROCESS_CALLS.get(node.value.id, ()):
                found.add(where)
            if isinstance(node, ast.ImportFrom) and node.module in PROCESS_CALLS \
                    and any(a.name in PROCESS_CALLS[node.module] for a in node.names):
                found.add(where)
    assert found <= set(OFF_THE_HOST), sorted(found - set(OFF_THE_HOST))
    assert found == set(OFF_THE_HOST), f"no longer off the host: {sorted(set(OFF_THE_HOST) - found)}"


def test_the_registry_resolves_a_journaled_host_name_or_says_which_it_lacks() -> None:
    hosts = Hosts(LOCAL)
    assert hosts.get("local") is LOCAL and hosts.get("") is LOCAL, "an old journal row names no host"
    gpu = RecordingHost("gpu")
    hosts.register(gpu)
    assert hosts.get("gpu") is gpu and hosts.local is LOCAL
    with pytest.raises(ConfigError) as caught:
        hosts.get("build-box")
    assert "'build-box'" in caught.value.one_line() and "gpu, local" in caught.value.one_line()


@pytest.mark.tmux
def test_a_word_ending_in_a_semicolon_reaches_the_window_whole(tmux_socket: str, tmp_path: Path) -> None:
    """tmux reads an argument ending in `;` as the end of a command, and the words after it as
    another tmux command (`a;` then `b` failed with "ambiguous command: b"). A window's command
    is never split: such a word reaches the process as given, and nothing else runs."""
    tmux = Tmux(tmux_socket, "ptui-semicolon", host=LOCAL)
    tmux.ensure_session(tmp_path, 1000)
    out = tmp_path / "said"
    tmux.new_window("w", tmp_path, ["sh", "-c", f'printf "%s|%s" "$0" "$1" > {out}', "a;", "kill-server"])
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert out.read_text() == "a;|kill-server"
    assert tmux.has_session(), "the server is still up: `kill-server` was a word, not a command"


@pytest.mark.tmux
def test_text_sent_to_a_session_keeps_a_final_semicolon(tmux_socket: str, tmp_path: Path) -> None:
    """`send` typed "run it;" as "run it": tmux dropped the `;` as a command separator."""
    tmux = Tmux(tmux_socket, "ptui-send", host=LOCAL)
    tmux.ensure_session(tmp_path, 1000)
    window = tmux.new_window("w", tmp_path, ["cat"])
    for text in ("run it;", "back\\;"):
        tmux.send_text(window, text)
    deadline = time.monotonic() + 10
    while "back" not in tmux.pane_text(window) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "run it;" in tmux.pane_text(window) and "back\\;" in tmux.pane_text(window)
