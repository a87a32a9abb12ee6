"""The engine's attach rule, through the CLI (`attach NAME --json`), on real private tmux
servers: outside tmux the terminal is handed over; inside the person's tmux (a client
attached) a popup on tmux ≥ 3.2, `switch-client` before it when the run is on their server,
and nesting in the pane when no client shows it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import libtmux
import pytest

from engine.hosts.host import LOCAL
from engine.run.attach import tmux_version
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, cli


@pytest.fixture
def servers() -> Iterator[list[libtmux.Server]]:
    made: list[libtmux.Server] = []
    yield made
    for server in made:
        # killing one server can end the other (its client's terminal): gone meanwhile is fine
        with contextlib.suppress(libtmux.exc.LibTmuxException):
            if server.is_alive():
                server.kill()


def person_with_client(servers: list[libtmux.Server]) -> tuple[str, str]:
    """The person's tmux (socket path, its pane) with a client attached, run from a terminal
    that is itself a pane of another private server."""
    person = libtmux.Server(socket_name=f"ptui-p-{uuid.uuid4().hex[:8]}")
    terminal = libtmux.Server(socket_name=f"ptui-t-{uuid.uuid4().hex[:8]}")
    servers += [person, terminal]
    pane = person.new_session(session_name="app", window_command="sleep 120").active_window.active_pane
    terminal.new_session(session_name="term", x=100, y=30,
                         window_command=f"env -u TMUX tmux -L {person.socket_name} attach -t app")
    deadline = time.monotonic() + 10
    while not [c for c in person.cmd("list-clients", "-F", "#{client_name}").stdout if c]:
        assert time.monotonic() < deadline, "the person's client did not attach"
        time.sleep(0.1)
    path = person.cmd("display-message", "-p", "#{socket_path}").stdout[0]
    assert pane is not None and pane.pane_id is not None
    return path, pane.pane_id


def attach_json(capsys: pytest.CaptureFixture[str], repo: Path) -> dict[str, str]:
    code, out, err = cli(capsys, "attach", "a", "--repo", str(repo), "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def live_run(repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "60")
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a", "--agent", "demo", "--yes")
    assert code == 0, err
    return repo


def test_tmux_versions_read() -> None:
    assert tmux_version("tmux 3.3a") == (3, 3)
    assert tmux_version("tmux 3.1c") == (3, 1)
    assert tmux_version("tmux next-3.5") == (3, 5)
    assert tmux_version("tmux master") >= (3, 2), "a build without a number counts as new"


def test_outside_tmux_the_terminal_is_handed_over(repo_factory: RepoFactory, tmux_socket: str,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    repo = live_run(repo_factory, capsys, monkeypatch)
    shown = attach_json(capsys, repo)
    assert shown["how"] == "terminal" and "attach-session" in shown["command"]
    assert shown["back"].startswith("ctrl+b d")


def test_inside_the_persons_tmux_a_popup_on_their_client(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, servers: list[libtmux.Server]) -> None:
    repo = live_run(repo_factory, capsys, monkeypatch)
    path, pane = person_with_client(servers)
    monkeypatch.setenv("TMUX", f"{path},1,0")
    monkeypatch.setenv("TMUX_PANE", pane)
    shown = attach_json(capsys, repo)
    assert shown["how"] == "popup", shown
    command = shown["command"]
    assert f"-S {path} display-popup -c /dev/pts/" in command, command
    assert "-E 'env -u TMUX " in command and "attach-session -t" in command, "one quoted word"
    assert shown["back"] == "ctrl+b d closes the popup and comes back here"


def test_before_tmux_3_2_the_client_switches_and_ctrl_b_l_comes_back(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, servers: list[libtmux.Server]) -> None:
    """The run on the person's own server (no private socket), tmux says 3.1."""
    real = shutil.which("tmux")
    assert real is not None
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "tmux").write_text(f'#!/bin/sh\n[ "$1" = -V ] && {{ echo "tmux 3.1"; exit 0; }}\n'
                                           f'exec {real} "$@"\n')
    (tmp_path / "bin" / "tmux").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    path, pane = person_with_client(servers)
    monkeypatch.setenv("TMUX", f"{path},1,0")
    monkeypatch.setenv("TMUX_PANE", pane)
    repo = live_run(repo_factory, capsys, monkeypatch)
    shown = attach_json(capsys, repo)
    assert shown["how"] == "switch", shown
    assert f"-S {path} switch-client -c /dev/pts/" in shown["command"]
    assert shown["back"].startswith("ctrl+b L")
    monkeypatch.delenv("TMUX_PANE")
    servers[1].kill()  # the person's terminal closes: no client shows the pane any more
    time.sleep(0.3)
    assert attach_json(capsys, repo)["how"] == "nested", "nothing to switch: nest in the pane"


def test_a_tmux_that_hangs_is_one_line_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every tmux call the attach and notification paths make has a time limit, and running
    out of it reads as a sentence (the app shows it; the bell stays the notification)."""
    from engine.core.errors import TmuxError  # noqa: PLC0415
    from engine.hosts import tmux_sessions  # noqa: PLC0415
    from engine.run import attach  # noqa: PLC0415

    hung = tmp_path / "bin"
    hung.mkdir()
    (hung / "tmux").write_text("#!/bin/sh\nexec sleep 30\n")
    (hung / "tmux").chmod(0o755)
    monkeypatch.setenv("PATH", f"{hung}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(TmuxError, match="did not answer in 5 s"):
        attach._out(LOCAL, ["tmux", "display-message", "-p", "x"], "finding your tmux client")
    assert not tmux_sessions.allow_passthrough(LOCAL, environ={"TMUX": "/tmp/none,1,0", "TMUX_PANE": "%0"})
