"""Helpers for the run-engine tests (the private tmux server per test is `conftest.tmux_socket`)."""

from __future__ import annotations

import json
from pathlib import Path

import libtmux
import pytest

from engine.cli.main import main
from tests.gitrepo import git

FILES = {"README.md": "# demo\n", "src/a.py": "A = 1\n", "src/b.py": "B = 1\n"}


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
