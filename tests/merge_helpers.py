"""Real repos with branches shaped for merge tests, and a byte-level fingerprint of a repo."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from tests.gitrepo import commit, git

BASE = {
    "app.py": "".join(f"line {i}\n" for i in range(1, 31)),
    "lib/util.py": "def util():\n    return 1\n",
    "docs/guide.md": "# Guide\n",
    "old_name.py": "OLD = 1\n",
    "README.md": "# demo\n",
}


def branch(repo: Path, name: str, files: Mapping[str, str | bytes | None], *, base: str = "main") -> str:
    """Commit `files` (None deletes) on a new branch from `base`; back on main after."""
    git(repo, "checkout", "-q", "-b", name, base)
    for path, content in files.items():
        if content is None:
            git(repo, "rm", "-q", path)
    sha = commit(repo, {k: v for k, v in files.items() if v is not None}, f"work on {name}")
    git(repo, "checkout", "-q", "main")
    return sha


def edit_line(n: int, text: str) -> str:
    """`app.py` with line `n` replaced."""
    lines = BASE["app.py"].splitlines(keepends=True)
    lines[n - 1] = text + "\n"
    return "".join(lines)


def fingerprint(repo: Path) -> str:
    """Refs, HEADs, every index and every file of every worktree, hashed: equal ⇔ untouched."""
    h = hashlib.sha256()
    h.update(git(repo, "for-each-ref", "--format=%(refname) %(objectname)").encode())
    gitdir = repo / ".git"
    for meta in sorted([gitdir / "HEAD", gitdir / "index", *gitdir.glob("worktrees/*/HEAD"),
                        *gitdir.glob("worktrees/*/index")]):
        if meta.exists():
            h.update(str(meta).encode() + meta.read_bytes())
    trees = [Path(line.split(" ", 1)[1]) for line in git(repo, "worktree", "list", "--porcelain").splitlines()
             if line.startswith("worktree ")]
    for tree in trees:
        for path in sorted(p for p in tree.rglob("*") if ".git" not in p.relative_to(tree).parts):
            if path.is_file():
                h.update(str(path).encode() + path.read_bytes())
    return h.hexdigest()


def chain_plan(tmp_path: Path) -> Path:
    """A plan where `api` builds on `models` (listed first, so an order that follows the plan
    and not the dependencies shows) and `docs` stands alone; each writes one demo file."""
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"task": "t", "estimate": {"sequential_minutes": 30}, "subtasks": [
        {"name": "api", "description": "the api", "files_to_create": ["demo/api.md"],
         "depends_on": ["models"]},
        {"name": "models", "description": "the models", "files_to_create": ["demo/models.md"]},
        {"name": "docs", "description": "the docs", "files_to_create": ["demo/docs.md"]}]}))
    return plan
