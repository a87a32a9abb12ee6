"""`send` types text into a live agent: control characters and oversized text are refused with
one line before tmux sees them (issue 7 item 9). A real private tmux server and the demo agent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RepoFactory
from tests.run_helpers import FILES, cli, status_json

pytestmark = pytest.mark.tmux


@pytest.fixture
def live_repo(repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str],
              monkeypatch: pytest.MonkeyPatch) -> Path:
    """One demo session that keeps working for a minute (the test ends it with the server)."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "60")
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a", "--agent", "demo", "--yes")
    assert code == 0, err
    return repo


def alive(capsys: pytest.CaptureFixture[str], repo: Path) -> bool:
    [session] = status_json(capsys, repo)["sessions"]  # type: ignore[misc]
    return session["state"] not in ("failed", "exited", "done")


@pytest.mark.parametrize("text", ["hi\x03", "\x1b[2J", "a\x00b", "x\x7f", "\x9b"],
                         ids=["ctrl-c", "escape", "nul", "del", "c1-csi"])
def test_control_characters_are_refused_and_the_agent_lives(
        live_repo: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    code, out, err = cli(capsys, "send", "a", text, "--repo", str(live_repo))
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and "control character" in err and "--raw" in err, err
    assert alive(capsys, live_repo)


def test_newline_and_tab_are_sent(live_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "send", "a", "line one\n\tline two", "--repo", str(live_repo))
    assert code == 0 and out == "sent to a\n", err
    assert alive(capsys, live_repo)


def test_raw_sends_control_characters_on_request(live_repo: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "send", "a", "\x03", "--raw", "--repo", str(live_repo))
    assert code == 0 and out == "sent to a\n", err


def test_text_too_long_says_so(live_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "send", "a", "x" * 100_000, "--repo", str(live_repo))
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and "text too long (100,000 bytes; max " in err, err
    assert "tmux server" not in err
    assert alive(capsys, live_repo)
