"""The real app in a real terminal: tmux runs it on a private server (send-keys, capture-pane).

Pilot's headless driver cannot suspend or lose its terminal, so these run the console script
itself: task entry → plan → launch → done, attach and detach, the terminal going away, and the
whole flow on to the merge review, the merge and the report.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import libtmux
import pytest

from engine.core.config import state_dir
from tests.gitrepo import git

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
    """Run `command` (a shell line) in a `size` terminal. Under pytest the environment says
    COLUMNS=80 LINES=24, which the new tmux server hands to the pane and the app would believe
    over the pane's real size: unset here, so every test gets the size it asks for."""
    session = server.new_session(session_name="app", window_command=f"unset COLUMNS LINES; {command}",
                                 x=size[0], y=size[1], start_directory=str(CHECKOUT))
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


def test_the_app_fills_the_terminal_it_is_given(app_server: libtmux.Server, tmux_socket: str) -> None:
    """A 120×40 terminal: the footer is on its last row and reaches its right edge (the app
    reads the terminal's size, not an inherited COLUMNS/LINES)."""
    pane = start(app_server, f"exec {BIN} --demo", size=(120, 40))
    wait_for(pane, "LOC")
    rows = pane.capture_pane()
    footer = [i for i, row in enumerate(rows) if "^p palette" in row]
    assert footer == [39], f"the footer is on row {footer}, not the 40th:\n{screen(pane)}"
    assert len(rows[39].rstrip()) > 110, f"the footer stops short of 120 columns: {rows[39]!r}"
    pane.send_keys("C-q", enter=False)


def test_task_entry_through_launch_to_done_then_attach_and_detach(
        app_server: libtmux.Server, tmux_socket: str) -> None:
    """At 80×24 on purpose: the smallest terminal the app supports, by keyboard end to end."""
    pane = start(app_server, f"exec {BIN} --demo", size=(80, 24))
    wait_for(pane, "Implement user authentication")
    wait_for(pane, "LOC")  # the repo panel is analysed
    pane.send_keys("Enter", enter=False)  # Enter plans: the split and verdict first
    wait_for(pane, "Verdict")
    pane.send_keys("Enter", enter=False)  # then plan review
    wait_for(pane, "Plan review")
    shown = wait_for(pane, "valid")
    assert "auth-backend" in shown and "✓" in shown
    pane.send_keys("l", enter=False)
    wait_for(pane, "y confirms")
    pane.send_keys("y", enter=False)
    wait_for(pane, "Run 20")
    wait_for(pane, "· 4 done", timeout_s=60)
    wait_for(pane, "4/4 done", timeout_s=5)  # the header's progress (its own repaint may follow)
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


def test_the_app_exits_when_its_terminal_goes_away(
        app_server: libtmux.Server, tmux_socket: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`make run` where the current directory is no repo (so it opens --demo); a run is started;
    then the terminal's tmux server is killed. The app is gone at once and never spins (the
    deadline is 10 s: a loaded CI machine, not a speed goal; a hung app never leaves); the
    agents' own tmux server is untouched."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "30")  # the agents must outlive the app
    pane = start(app_server, f"exec make -s -C {CHECKOUT} run REPO={tmp_path}")
    wait_for(pane, "LOC")
    pane.send_keys("Enter", enter=False)
    wait_for(pane, "Verdict")
    pane.send_keys("Enter", enter=False)
    wait_for(pane, "Plan review")
    pane.send_keys("l", enter=False)
    wait_for(pane, "y confirms")
    pane.send_keys("y", enter=False)
    wait_for(pane, "working")
    pid = int(pane.pane_pid or 0)
    app = _descendants(pid)
    assert app, "make runs the app"
    app_server.kill()
    deadline = time.monotonic() + 10
    while _descendants(pid) | ({pid} & _alive()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (app & _alive()), "the app is still running 10 s after its terminal went away"
    agents = libtmux.Server(socket_name=tmux_socket)
    assert len(agents.sessions[0].windows) >= 4, "the agents' sessions keep running"


def _alive() -> set[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,stat="], capture_output=True, text=True, check=True).stdout
    return {int(p) for p, stat in (line.split() for line in out.splitlines()) if not stat.startswith("Z")}


def test_the_whole_flow_by_keyboard_task_to_merge_and_report(
        app_server: libtmux.Server, tmux_socket: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`--demo` by keyboard alone: plan, launch, wait for done, `m` merge review, `M`, `y`; the
    target then holds every session's commits (asked of git) and the report shows the merge's
    measured stages."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where --demo makes its scratch repo
    pane = start(app_server, f"exec {BIN} --demo", size=(160, 50))
    wait_for(pane, "LOC")
    pane.send_keys("Enter", enter=False)
    wait_for(pane, "Verdict")
    pane.send_keys("Enter", enter=False)
    wait_for(pane, "valid")
    pane.send_keys("l", enter=False)
    wait_for(pane, "y confirms")
    pane.send_keys("y", enter=False)
    wait_for(pane, "4/4 done", timeout_s=60)
    repo = state_dir() / "demo" / "shop"  # the user's one demo repo, reopened by --demo
    work = git(repo, "for-each-ref", "--format=%(objectname)", "refs/heads/parallel/").split()
    assert len(work) == 4, "one branch per session"
    pane.send_keys("m", enter=False)
    shown = wait_for(pane, "suggested order:")
    assert "Conflict matrix" in shown and "risk" in shown
    pane.send_keys("M", enter=False)
    wait_for(pane, "y confirms")
    pane.send_keys("y", enter=False)
    shown = wait_for(pane, "merge_per_branch", timeout_s=30)  # the merge opens the run's report
    assert "outcome merged" in shown
    measured = re.search(r"merge_per_branch\s+\S+\s+(\d+\.\d+)\s+4\b", shown)
    assert measured, f"the merge's stage is measured for the 4 branches:\n{shown}"
    sessions = re.findall(r"│ (auth-\S+|\S+)\s+demo\s+done\s+(\S+)\s+\S+\s+(\S+)", shown)
    assert len(sessions) == 4, f"a line per session:\n{shown}"
    assert all(re.fullmatch(r"\d+\.\ds", time) and time != "0.0s" and commits == "1"
               for _, time, commits in sessions), f"each session's time and commit, measured: {sessions}"
    for sha in work:
        git(repo, "merge-base", "--is-ancestor", sha, "main")  # exits 1 (raises) when it is not in main
    merges = git(repo, "log", "--merges", "--format=%s", "main").splitlines()
    assert len(merges) == 4 and all(m.startswith("Merge parallel/") for m in merges), merges
    pane.send_keys("C-q", enter=False)

