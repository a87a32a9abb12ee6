"""Shared fixtures: every test runs with a temp HOME and state dir, never the user's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from tests.gitrepo import WEB_APP, make_repo


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway HOME and PARALLEL_TUI_HOME; no API key, no user git config."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PARALLEL_TUI_HOME", str(home / "ptui"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "parallel-tui tests")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "tests@parallel-tui.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "parallel-tui tests")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "tests@parallel-tui.invalid")
    monkeypatch.setenv("SHELL", "/bin/sh")
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "TMUX"):
        monkeypatch.delenv(name, raising=False)
    for name in list(__import__("os").environ):
        if name.startswith("PARALLEL_TUI_") and name != "PARALLEL_TUI_HOME":
            monkeypatch.delenv(name)
    return home


RepoFactory = Callable[..., Path]


@pytest.fixture
def repo_factory(tmp_path: Path) -> RepoFactory:
    counter = iter(range(1000))

    def make(files: Mapping[str, str | bytes] | None = None) -> Path:
        return make_repo(tmp_path / f"repo{next(counter)}", files)

    return make


@pytest.fixture
def web_repo(repo_factory: RepoFactory) -> Path:
    return repo_factory(WEB_APP)
