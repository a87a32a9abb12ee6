"""`check` computes once: the order reuses the matrix's merges onto the target, conflict hunks
come from one `cat-file --batch`, the branches and the target from one `for-each-ref`.

Counted on the real CLI with a PATH whose `git` logs each call (GitPython runs that `git` too).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.conftest import RepoFactory
from tests.merge_helpers import BASE, branch, edit_line

_MAIN = "import sys; from engine.cli.main import main; sys.exit(main())"


def _subcommand(line: str) -> str:
    words = line.split()
    i = 0
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in ("-C", "-c") else 1
    name = words[i] if i < len(words) else "?"
    return f"{name} {words[i + 1]}" if name == "cat-file" and i + 1 < len(words) else name


def test_check_runs_each_merge_once_and_batches_what_git_can(repo_factory: RepoFactory,
                                                              tmp_path: Path) -> None:
    repo = repo_factory(BASE)
    branch(repo, "top", {"app.py": edit_line(2, "TOP")})
    branch(repo, "top2", {"app.py": edit_line(2, "TOP AGAIN")})
    branch(repo, "bottom", {"app.py": edit_line(28, "BOTTOM")})
    branch(repo, "docs", {"docs/guide.md": "# Guide\nmore\n"})
    wrappers, log = tmp_path / "bin", tmp_path / "git.log"
    wrappers.mkdir()
    real = shutil.which("git")
    (wrappers / "git").write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    (wrappers / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{wrappers}{os.pathsep}{os.environ['PATH']}"}
    argv = ["check", "--repo", str(repo), "--json", "top", "top2", "bottom", "docs"]
    proc = subprocess.run([sys.executable, "-c", _MAIN, *argv], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 6, proc.stderr
    data = json.loads(proc.stdout)
    assert data["blocked"] == ["top2"] and "TOP AGAIN" in data["pairs"][0]["conflicts"][0]["hunks"][0]
    calls = Counter(_subcommand(line) for line in log.read_text().splitlines())
    # 4 onto main + 6 pairs; the order: `top` onto main is the matrix's (reused), then top2
    # (blocked), bottom, docs onto the chain = 3 more. Before: 14, the first one run twice.
    assert calls["merge-tree"] == 4 + 6 + 3, calls
    assert calls["cat-file -p"] == 0 and calls["cat-file --batch"] <= 1, calls
    assert calls["for-each-ref"] == 1 and calls["rev-parse"] <= 2, calls  # 2: finding the repo
