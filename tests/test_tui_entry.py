"""The console script's own flags: --version, --help listing the app's flags as well as the
verbs, and --demo reopening the same demo repo (so its live run shows again)."""

from __future__ import annotations

import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from engine.agents.demo_repo import demo_repo
from engine.core.config import state_dir
from tui.entry import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"parallel-tui {version('parallel-tui')}\n"


def test_help_lists_the_verbs_and_the_apps_own_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "install-claude" in out and "status" in out, "the verbs"
    for flag in ("--repo", "--agent", "--planner", "--demo", "--version"):
        assert flag in out, flag


def test_demo_repo_lives_in_the_state_dir_and_is_reused() -> None:
    first = demo_repo()
    assert first.is_relative_to(state_dir()), "one per user, in the state dir (not a temp dir)"
    head = subprocess.run(["git", "-C", str(first), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout
    (first / "api" / "work.py").write_text("x = 1\n")  # what a run left there stays
    again = demo_repo()
    assert again == first and (again / "api" / "work.py").is_file()
    assert subprocess.run(["git", "-C", str(again), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout == head


def test_a_foreign_folder_in_the_demos_place_is_left_alone() -> None:
    place = state_dir() / "demo" / "shop"
    place.mkdir(parents=True)
    (place / "mine.txt").write_text("keep me")
    made = demo_repo()
    assert made != place and (made / ".git").is_dir()
    assert (place / "mine.txt").read_text() == "keep me"
    assert isinstance(made, Path)
