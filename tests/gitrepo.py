"""Real git repositories in temp dirs, for tests (no mocks of git)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

IDENTITY = ["-c", "user.name=parallel-tui tests", "-c", "user.email=tests@parallel-tui.invalid",
            "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"]


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *IDENTITY, "-C", str(repo), *args], capture_output=True,
                          text=True, check=True)
    return proc.stdout


def write(repo: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def make_repo(root: Path, files: Mapping[str, str | bytes] | None = None, *,
              message: str = "initial") -> Path:
    """`git init` + one commit of `files` (none: an empty repo with no commits)."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", *IDENTITY, "init", "-q", str(root)], check=True)
    if files:
        commit(root, files, message)
    return root


def commit(repo: Path, files: Mapping[str, str | bytes], message: str = "change") -> str:
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


WEB_APP = {
    "api/users.py": "def users():\n    return []\n",
    "api/auth_routes.py": "def login():\n    pass\n\n\ndef logout():\n    pass\n",
    "components/Nav.tsx": "export const Nav = () => null;\n",
    "components/Login.tsx": "export const Login = () => null;\n",
    "tests/test_users.py": "def test_users():\n    assert True\n",
    "docs/intro.md": "# Intro\n",
    "src/core/a.py": "A = 1\n",
    "src/core/b.py": "B = 2\n",
    "src/util/x.py": "X = 1\n",
    "src/util/y.py": "Y = 1\n",
    "package.json": "{}\n",
    "README.md": "# demo\n",
}
"""A small full-stack repo: api/, components/, tests/, docs/, src/*, shared config."""
