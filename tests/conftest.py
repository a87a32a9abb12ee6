"""Shared fixtures: every test runs with a temp HOME and state dir, never the user's."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import libtmux
import pytest

from tests.gitrepo import WEB_APP, make_repo
from tests.sshd import ssh_hosts

__all__ = ["ssh_hosts"]  # the real-sshd hosts (tests/sshd.py), one set per test session


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
    monkeypatch.setenv("PARALLEL_TUI_DESKTOP_NOTIFY", "off")  # no desktop notification from a test run
    return home


@pytest.fixture
def tmux_socket(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A unique socket name (never the user's server), killed after the test."""
    name = f"ptui-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("PARALLEL_TUI_TMUX_SOCKET", name)
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "0.3")
    yield name
    server = libtmux.Server(socket_name=name)
    deadline = time.monotonic() + 3  # a server whose last session cleanup killed is exiting:
    while server.is_alive() and not server.cmd("list-sessions").stdout and time.monotonic() < deadline:
        time.sleep(0.05)  # let it finish (kill-server on an exiting server fails)
    if server.is_alive():
        server.kill()
    tmpdir = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
    (tmpdir / name).unlink(missing_ok=True)


def _pinned_clis_first() -> None:
    """Put the project-local agent CLIs (`make claude-cli agent-clis`, the versions the e2e tests
    were checked against) ahead of any global ones, so plain `pytest` tests the pinned releases."""
    tools = Path(__file__).resolve().parent.parent / ".tools"
    for program, where in (("claude", "node_modules/.bin"), ("codex", "node_modules/.bin"),
                           ("gemini", "node_modules/.bin"), ("aider", "shim")):
        found = sorted(tools.glob(f"{program}-*/{where}/{program}"))
        if found:
            os.environ["PATH"] = f"{found[-1].parent}{os.pathsep}{os.environ.get('PATH', '')}"


_pinned_clis_first()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say in the summary, in one line, when the e2e tests were skipped and why."""
    why = os.environ.get("PARALLEL_TUI_SKIP_E2E_WHY")
    if os.environ.get("PARALLEL_TUI_SKIP_E2E") == "1":
        terminalreporter.write_line(
            f"e2e tests with the real Claude Code CLI were skipped: {why or 'on purpose'}")


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
