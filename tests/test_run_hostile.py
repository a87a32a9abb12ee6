"""Hostile prompt text reaches the agent byte-for-byte and runs nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.agents.descriptors import AgentSpec, LaunchContext, build_argv, window_argv
from engine.agents.prompt import Brief, prompt_text
from engine.analysis.conventions import conventions_in
from engine.core.config import ParallelConfig
from engine.core.models import AgentMatch, Subtask
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.run_helpers import FILES, cli, status_json


def hostile(marker: Path) -> str:
    chunk = (f"it's \"quoted\" $(touch {marker}) `touch {marker}` ; touch {marker} && echo $HOME\n"
             "\\n \\\\ ${IFS} %s {name} {prompt_file} é ✓ 🚀 \t\r tab ' \" \n")
    text = chunk * (100_000 // len(chunk) + 1)
    return text + "end"


@pytest.mark.tmux
def test_hostile_prompt_reaches_demo_byte_for_byte(
        repo_factory: RepoFactory, tmux_socket: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    marker = tmp_path / "pwned"
    prompt = hostile(marker)
    assert len(prompt.encode()) > 100_000
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "x", "--prompt", prompt,
                       "--agent", "demo", "--yes", "--wait")
    assert code == 0, err
    received = subprocess.run(["git", "-C", str(repo), "show", "parallel/x:demo/x.md"],
                              capture_output=True, check=True).stdout
    [session] = status_json(capsys, repo)["sessions"]  # type: ignore[misc]
    match = AgentMatch(name="", skill=session["skill"], confidence=1, why="") if session["skill"] else None
    tracked = git(repo, "ls-files").split()
    found = conventions_in(repo, tracked).summary()  # what the repo shows, repeated in every prompt
    expected = prompt_text(Subtask(name="x", description=f"{prompt}\n\nYour part: x", agent=match), [],
                           Brief(task=prompt, conventions=found))
    assert received == expected.encode()
    assert not marker.exists()
    assert git(repo, "status", "--porcelain") == ""


def test_prompt_as_text_word_is_inert(tmp_path: Path) -> None:
    """The claude/codex path: the shell reads the prompt file into one argv word, after `--`
    so a prompt that starts with a dash is never taken for an option."""
    marker, out = tmp_path / "pwned", tmp_path / "out.bin"
    prompt = "--model=evil " + hostile(marker)
    prompt_file = tmp_path / "p.prompt"
    prompt_file.write_bytes(prompt.encode())
    script = ("import sys; assert sys.argv[2] == '--', sys.argv[2]; "
              "open(sys.argv[1], 'wb').write(sys.argv[3].encode())")
    spec = AgentSpec(name="t", prompt_via="text", argv=(sys.executable, "-c", script, "{worktree}"))
    ctx = LaunchContext(name="t", worktree=out, prompt_file=prompt_file, files=(), specialist="",
                        hook_file=tmp_path / "h", stream_file=tmp_path / "s", exit_file=tmp_path / "e")
    argv = window_argv(spec, build_argv(spec, ctx, ParallelConfig(), None), ctx)
    subprocess.run(argv, check=True, cwd=tmp_path)
    assert out.read_bytes() == prompt.encode()
    assert not marker.exists()
    assert (tmp_path / "e").read_text().strip() == "0"
