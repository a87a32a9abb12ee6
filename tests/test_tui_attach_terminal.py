"""Attach as a round trip, in a real terminal inside the person's own tmux.

Two private tmux servers: the first (`app_server`) runs the app in a session, as the person's
tmux would; the second (`person`) is the person's terminal: its pane runs a tmux *client* of
the first server, so what the person sees is that pane's capture, and the keys they press are
sent to it. `enter` on a live session, the documented way back, then the board is on screen
and the person's client is still attached: on tmux ≥ 3.2 (a popup), and on the fallback path
an older tmux takes (`switch-client`, `ctrl+b L` back), by a `tmux` on PATH that reports 3.1.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import libtmux
import pytest

from tests.test_tui_terminal import BIN, app_server, screen, start, wait_for

__all__ = ["app_server"]

SIZE = (120, 36)


@pytest.fixture
def person() -> Iterator[libtmux.Server]:
    """The person's own terminal: a second private server."""
    server = libtmux.Server(socket_name=f"ptui-person-{uuid.uuid4().hex[:10]}")
    yield server
    if server.is_alive():
        server.kill()


def attach_person(person: libtmux.Server, app: libtmux.Server) -> libtmux.Pane:
    """The person's client of the app's server, in the person's terminal."""
    session = person.new_session(session_name="term", x=SIZE[0], y=SIZE[1],
                                 window_command=f"env -u TMUX tmux -L {app.socket_name} attach -t app")
    pane = session.active_window.active_pane
    assert pane is not None
    return pane


def clients(server: libtmux.Server) -> list[str]:
    return [c for c in server.cmd("list-clients", "-F", "#{client_name}").stdout if c]


def launch_live_run(pane: libtmux.Pane) -> None:
    """Plan the demo task, `l` (it asks), `y`: four sessions that work for a minute."""
    wait_for(pane, "LOC")
    pane.send_keys("Enter", enter=False)  # Enter plans: the split and verdict first
    wait_for(pane, "Verdict")
    pane.send_keys("Enter", enter=False)  # then plan review
    wait_for(pane, "valid")
    pane.send_keys("l", enter=False)
    wait_for(pane, "Start the agents?")
    pane.send_keys("y", enter=False)
    wait_for(pane, "working", timeout_s=60)


def app_pane(app: libtmux.Server) -> libtmux.Pane:
    found = app.sessions.get(session_name="app").active_window.active_pane
    assert found is not None
    return found


def test_enter_opens_a_popup_and_ctrl_b_d_comes_back_to_the_board(
        app_server: libtmux.Server, person: libtmux.Server, tmux_socket: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "90")  # live while the person looks
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    start(app_server, f"exec {BIN} --demo", size=SIZE)
    you = attach_person(person, app_server)
    launch_live_run(you)
    pane = app_pane(app_server)
    you.send_keys("Enter", enter=False)  # attach to the first session
    shown = wait_for(you, "ctrl+b d comes back")  # the popup's title, over the person's client
    assert "auth-backend" in shown, f"the popup shows the session's window:\n{shown}"
    board = wait_for(pane, "frozen behind it")  # the board (under the popup) says how to come back
    assert "ctrl+b d closes the popup" in board
    you.send_keys("C-b", enter=False)
    you.send_keys("d", enter=False)
    deadline = time.monotonic() + 10
    while "ctrl+b d comes back" in screen(you) and time.monotonic() < deadline:
        time.sleep(0.2)
    shown = wait_for(you, "Sessions")
    assert "ctrl+b d comes back" not in shown, f"the popup closed:\n{shown}"
    assert "working" in shown and "Run 20" in shown, f"the board is on screen:\n{shown}"
    assert len(clients(app_server)) == 1, "the person's client is still attached to their tmux"
    wait_for_gone(pane, "frozen behind it")
    quit_app(you, app_server)


def quit_app(you: libtmux.Pane, app: libtmux.Server) -> None:
    """Agents run: quit asks; y quits, and the app's pane closes (no app outlives the test)."""
    you.send_keys("C-q", enter=False)
    wait_for(you, "Quit the app?")
    you.send_keys("y", enter=False)
    deadline = time.monotonic() + 10
    while app.sessions.filter(session_name="app"):
        assert time.monotonic() < deadline, "the app did not quit"
        time.sleep(0.2)


def wait_for_gone(pane: libtmux.Pane, text: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while text in screen(pane):
        assert time.monotonic() < deadline, f"{text!r} stayed on screen:\n{screen(pane)}"
        time.sleep(0.2)


@pytest.fixture
def old_tmux(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `tmux` first on PATH that says it is 3.1 (no popups) and is the real one otherwise."""
    real = shutil.which("tmux")
    assert real is not None
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "tmux"
    wrapper.write_text(f'#!/bin/sh\nif [ "$1" = -V ]; then echo "tmux 3.1"; exit 0; fi\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{Path(real).parent}:/usr/bin:/bin")


def test_on_old_tmux_enter_switches_the_client_and_ctrl_b_l_comes_back(
        app_server: libtmux.Server, person: libtmux.Server, old_tmux: None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The agents run on the person's own server (no private socket): `switch-client` moves
    their client to the session's window, and tmux's default `ctrl+b L` comes back."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "90")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    start(app_server, f"exec {BIN} --demo", size=SIZE)
    you = attach_person(person, app_server)
    launch_live_run(you)
    pane = app_pane(app_server)
    you.send_keys("Enter", enter=False)
    shown = wait_for(you, "1:auth-backend*")  # the run's session on the person's server
    assert "Sessions" not in shown, f"the person's client shows the agent's window:\n{shown}"
    board = wait_for(pane, "ctrl+b L")  # the board says how to come back
    assert "your tmux client switched to auth-backend" in board
    you.send_keys("C-b", enter=False)
    you.send_keys("L", enter=False)
    shown = wait_for(you, "Sessions")
    assert "working" in shown, f"the board is on screen:\n{shown}"
    assert len(clients(app_server)) == 1, "the person's client is still attached"
    assert "1:auth-backend*" not in shown
    quit_app(you, app_server)


def test_the_app_leaves_when_the_tmux_it_shares_with_its_agents_is_killed(
        app_server: libtmux.Server, person: libtmux.Server, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The agents on the app's own server (as on the fallback path), the board repainting as
    they work, then that server is killed: the app is gone within 3 s (its shutdown had blocked
    on frames for the dead terminal, and the loop's own exit timer with it)."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "90")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    start(app_server, f"exec {BIN} --demo", size=SIZE)
    you = attach_person(person, app_server)
    launch_live_run(you)
    pid = int(app_pane(app_server).pane_pid or 0)
    assert pid
    app_server.kill()
    deadline = time.monotonic() + 3
    while Path(f"/proc/{pid}").exists() and "Z" not in _stat(pid):
        assert time.monotonic() < deadline, f"the app (pid {pid}) outlived its terminal"
        time.sleep(0.1)


def _stat(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
    except (OSError, IndexError):
        return "Z"
