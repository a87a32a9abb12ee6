"""The demo agent's `demo:ask` mode from the CLI: status reads needs_input, `send` answers it
and the session finishes (a real private tmux server, the demo agent, no fake events)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.agents.demo import ASK_MARKER
from engine.agents.pane_patterns import state_from_pane
from engine.core.models import SessionState
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, cli, status_json

pytestmark = pytest.mark.tmux


def wait_state(capsys: pytest.CaptureFixture[str], repo: object, wanted: str, timeout_s: float = 20) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        [session] = status_json(capsys, repo)["sessions"]  # type: ignore[arg-type, misc]
        if session["state"] == wanted or time.monotonic() > deadline:
            return session  # type: ignore[no-any-return]
        time.sleep(0.2)


def test_status_reads_needs_input_and_send_answers_it(repo_factory: RepoFactory, tmux_socket: str,
                                                      capsys: pytest.CaptureFixture[str],
                                                      isolated_env: Path) -> None:
    """From the demo's pane alone: it writes no hook lines (no file-naming rule shared with status)."""
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a", "--prompt",
                       "demo:ask Which colour?", "--agent", "demo", "--yes")
    assert code == 0, err
    session = wait_state(capsys, repo, "needs_input")
    assert session["state"] == "needs_input", session
    assert session["source"] == "pane_text", session
    assert not list((isolated_env / "ptui" / "runs").glob("*/a.hook.jsonl")), "no hook file"
    time.sleep(1.0)
    assert wait_state(capsys, repo, "needs_input", 0)["state"] == "needs_input", "it keeps waiting"
    code, out, err = cli(capsys, "send", "a", "blue", "--repo", str(repo))
    assert code == 0 and out == "sent to a\n", err
    session = wait_state(capsys, repo, "done")
    assert session["state"] == "done" and session["commits"] == 1, session


def test_the_demo_pane_pattern_reads_the_question_as_needs_input() -> None:
    """The demo agent's screen: its question counts while it is the last line (the answer is
    typed after it on that line); once answered, more lines follow and it works again."""
    asking = f"demo agent a: 120 bytes of prompt, no files\n{ASK_MARKER} Which colour? \n\n"
    assert state_from_pane("demo", asking) is SessionState.NEEDS_INPUT
    assert state_from_pane("demo", asking.rstrip() + " blu") is SessionState.NEEDS_INPUT, "typing"
    answered = asking.rstrip() + " blue\ndemo agent: got the answer 'blue'\n"
    assert state_from_pane("demo", answered) is SessionState.WORKING
    assert state_from_pane("demo", "demo agent a: 120 bytes of prompt, 2 files\nedited x\n") \
        is SessionState.WORKING
