"""The real app in a real terminal: tmux runs it on a private server (send-keys, capture-pane).

Pilot's headless driver cannot suspend or lose its terminal, so these run the console script
itself: task entry → plan → launch → done, attach and detach, and the terminal going away.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import libtmux
import pytest

from tests.run_helpers import tmux_socket

__all__ = ["tmux_socket"]

BIN = Path(sys.executable).parent / "parallel-tui"
CHECKOUT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app_server() -> Iterator[libtmux.Server]:
    """The tmux server the APP runs in (the agents run on `tmux_socket`'s, another one)."""
    server = libtmux.Server(socket_name=f"ptui-app-{uuid.uuid4().hex[:10]}")
    yield server
    if server.is_alive():
        server.kill()


def start(server: libtmux.Server, command: str, size: tuple[int, int] = (100, 30)) -> libtmux.Pane:
    session = server.new_session(session_name="app", window_command=command, x=size[0], y=size[1],
                                 start_directory=str(CHECKOUT))
    pane = session.active_window.active_pane
    assert pane is not None
    return pane


def screen(pane: libtmux.Pane) -> str:
    return "\n".join(pane.capture_pane())


def wait_for(pane: libtmux.Pane, text: str, timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        shown = screen(pane)
        if text in shown:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never showed; the screen:\n{screen(pane)}")


def test_task_entry_through_launch_to_done_then_attach_and_detach(
        app_server: libtmux.Server, tmux_socket: str) -> None:
    pane = start(app_server, f"exec {BIN} --demo")
    wait_for(pane, "Implement user authentication")
    wait_for(pane, "LOC")  # the repo panel is analysed
    pane.send_keys("Enter", enter=False)  # Enter plans
    wait_for(pane, "Plan review")
    shown = wait_for(pane, "valid")
    assert "auth-backend" in shown and "✓" in shown
    pane.send_keys("l", enter=False)
    wait_for(pane, "Run 20")
    shown = wait_for(pane, "· 4 done", timeout_s=60)
    assert "4/4 done" in shown, "the header's progress"
    pane.send_keys("Enter", enter=False)  # attach: the app suspends, tmux shows the agent's pane
    wait_for(pane, "1:auth-backend*")  # the run's tmux status line: attached
    assert "Sessions" not in screen(pane)
    pane.send_keys("C-b", enter=False)
    pane.send_keys("d", enter=False)  # detach the nested client: the app comes back
    wait_for(pane, "Sessions")
    pane.send_keys("C-q", enter=False)
    deadline = time.monotonic() + 5
    while app_server.is_alive() and app_server.sessions and time.monotonic() < deadline:
        time.sleep(0.1)
    agents = libtmux.Server(socket_name=tmux_socket)
    assert agents.sessions, "quitting the app leaves the run's tmux session alone"


def _descendants(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,stat="], capture_output=True, text=True,
                         check=True).stdout
    rows = [line.split() for line in out.splitlines()]
    alive = {int(p): int(pp) for p, pp, stat in rows if not stat.startswith("Z")}
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, pp in alive.items():
            if pp == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def test_the_app_exits_within_2s_when_its_terminal_goes_away(
        app_server: libtmux.Server, tmux_socket: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`make run` where the current directory is no repo (so it opens --demo); a run is started;
    then the terminal's tmux server is killed. The app is gone within 2 s and never spins; the
    agents' own tmux server is untouched."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "30")  # the agents must outlive the app
    pane = start(app_server, f"exec make -s -C {CHECKOUT} run REPO={tmp_path}")
    wait_for(pane, "LOC")
    pane.send_keys("Enter", enter=False)
    wait_for(pane, "Plan review")
    pane.send_keys("l", enter=False)
    wait_for(pane, "working")
    pid = int(pane.pane_pid or 0)
    app = _descendants(pid)
    assert app, "make runs the app"
    app_server.kill()
    deadline = time.monotonic() + 2
    while _descendants(pid) | ({pid} & _alive()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (app & _alive()), "the app is still running 2 s after its terminal went away"
    agents = libtmux.Server(socket_name=tmux_socket)
    assert len(agents.sessions[0].windows) >= 4, "the agents' sessions keep running"


def _alive() -> set[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,stat="], capture_output=True, text=True, check=True).stdout
    return {int(p) for p, stat in (line.split() for line in out.splitlines()) if not stat.startswith("Z")}
