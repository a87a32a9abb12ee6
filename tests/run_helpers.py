"""Fixtures and helpers for the run-engine tests: a private tmux server per test."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import libtmux
import pytest

from engine.cli.main import main
from tests.gitrepo import git

FILES = {"README.md": "# demo\n", "src/a.py": "A = 1\n", "src/b.py": "B = 1\n"}


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


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def status_json(capsys: pytest.CaptureFixture[str], repo: Path) -> dict[str, object]:
    code, out, err = cli(capsys, "status", "--repo", str(repo), "--json")
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


def branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/parallel").split()


def worktree_paths(repo: Path) -> list[str]:
    return [ln.split(" ", 1)[1] for ln in git(repo, "worktree", "list", "--porcelain").splitlines()
            if ln.startswith("worktree ")]


def windows(socket: str) -> list[str]:
    server = libtmux.Server(socket_name=socket)
    if not server.is_alive():
        return []
    proc = server.cmd("list-windows", "-a", "-F", "#{window_name}")
    return list(proc.stdout)
