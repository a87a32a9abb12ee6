"""A session that needs input (or fails) also raises a desktop notification through the
terminal: OSC 9 / OSC 777, wrapped for tmux with passthrough on the app's own pane only."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.notify import for_tmux, osc, sequence

ROOT = Path(__file__).resolve().parents[1]


def test_sequences_and_the_tmux_wrapping() -> None:
    assert osc("osc9", "parallel-tui", "api: needs input") == "\x1b]9;parallel-tui: api: needs input\x07"
    assert osc("osc777", "parallel;tui", "api: failed") == "\x1b]777;notify;parallel,tui;api: failed\x07"
    assert osc("off", "t", "b") == "" and sequence("off", "t", "b", in_tmux=True) == ""
    hostile = osc("osc9", "t", "x\x07\x1b]52;c;evil\x07")
    assert hostile.count("\x07") == 1 and hostile.count("\x1b") == 1, "a name cannot end or start a sequence"
    wrapped = for_tmux("\x1b]9;hi\x07")
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;hi\x07\x1b\\", "DCS passthrough, every ESC inside doubled"


APP = """
import asyncio, dataclasses, sys
from pathlib import Path
from engine.core.models import SessionState
from engine.service import build_engine
from tui.app import ParallelApp
from tui.state import RunStateChanged
sys.path.insert(0, {root!r})
from snapshots.recorded_run import RECORDED

class Probe(ParallelApp):
    async def on_ready(self) -> None:
        await self.workers.wait_for_complete()  # the passthrough worker
        calm = dataclasses.replace(RECORDED, sessions=tuple(
            dataclasses.replace(s, state=SessionState.WORKING) for s in RECORDED.sessions))
        self.post_message(RunStateChanged(calm))
        await asyncio.sleep(0.3)
        asks = dataclasses.replace(calm, sessions=(
            dataclasses.replace(calm.sessions[0], state=SessionState.NEEDS_INPUT), *calm.sessions[1:]))
        self.post_message(RunStateChanged(asks))
        await asyncio.sleep(0.5)
        self.exit()

Probe(build_engine(Path({repo!r}), planner="offline", agent="demo"), planner="offline", still=True).run()
"""


@pytest.mark.tmux
def test_needs_input_reaches_the_apps_pane_wrapped_for_tmux(
        web_repo: Path, tmux_socket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real app in a pane of a private tmux server: when a session turns needs-input, the
    bytes it writes to its pane hold the OSC 9 notification wrapped for tmux; allow-passthrough
    is on for that pane, and the server's global option is untouched."""
    monkeypatch.setenv("PARALLEL_TUI_DESKTOP_NOTIFY", "osc9")
    script = tmp_path / "probe.py"
    script.write_text(APP.format(root=str(ROOT), repo=str(web_repo)), encoding="utf-8")
    out = tmp_path / "pane.bytes"
    tmux = ["tmux", "-L", tmux_socket, "-f", "/dev/null"]
    command = f"read go; exec {sys.executable} {script}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([*tmux, "new-session", "-d", "-x", "100", "-y", "30", "-s", "app", command], check=True,
                   env=env)
    pane = subprocess.run([*tmux, "display-message", "-p", "-t", "app", "#{pane_id}"], check=True,
                          capture_output=True, text=True).stdout.strip()
    subprocess.run([*tmux, "pipe-pane", "-o", "-t", pane, f"cat >> {out}"], check=True)
    subprocess.run([*tmux, "send-keys", "-t", pane, "Enter"], check=True)
    wanted = b"\x1bPtmux;\x1b\x1b]9;parallel-tui: auth-backend: needs input\x07\x1b\\"
    deadline = time.monotonic() + 60
    while wanted not in (out.read_bytes() if out.exists() else b""):
        assert time.monotonic() < deadline, (out.read_bytes() if out.exists() else b"")[-400:]
        time.sleep(0.2)
    assert (out.read_bytes()).count(b"]9;") == 1, "once, for the one session that turned needs-input"
    shown = subprocess.run([*tmux, "show-options", "-p", "-t", pane, "allow-passthrough"],
                           capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "allow-passthrough on"
    globally = subprocess.run([*tmux, "show-options", "-g", "allow-passthrough"], capture_output=True,
                              text=True, check=True).stdout
    assert globally.strip() == "allow-passthrough off", "never a global option"
