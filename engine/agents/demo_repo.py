"""`--demo`: a scratch repo, so a newcomer sees the whole flow on any machine.

A few modules (api, web, auth, docs, tests) with a little history; the offline planner splits
the sample task across them, and the demo agent edits and commits in each worktree.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from engine.core.config import state_dir
from engine.hosts.gitcli import git

DEMO_TASK = "Implement user authentication with frontend and backend, with tests and docs"
_IDENTITY = ("-c", "user.name=parallel-tui demo", "-c", "user.email=demo@parallel-tui.invalid",
             "-c", "commit.gpgsign=false")
FILES = {
    "README.md": "# shop\n\nA small demo shop.\n",
    "api/__init__.py": "",
    "api/routes.py": "def routes():\n    return ['index', 'cart']\n",
    "api/models.py": "class User:\n    name: str = ''\n",
    "web/app.js": "export function app() { return 'shop'; }\n",
    "web/login.js": "export function login() { return null; }\n",
    "auth/__init__.py": "",
    "auth/session.py": "def current_user():\n    return None\n",
    "docs/guide.md": "# Guide\n",
    "tests/test_routes.py": "from api.routes import routes\n\n\ndef test_routes():\n    assert routes()\n",
}


def demo_repo() -> Path:
    """The user's one demo repo, in the state dir: made once, then reused, so quitting and
    opening `--demo` again shows the run it started (its journal points at this path). A
    folder in its place that is not the demo's repo is left alone: a fresh one goes beside it."""
    root = state_dir() / "demo" / "shop"
    if (root / ".git").is_dir() and (root / "api" / "routes.py").is_file():
        return root
    if root.exists():
        return make_demo_repo(root.parent)
    root.mkdir(parents=True)
    return _fill(root)


def make_demo_repo(parent: Path | None = None) -> Path:
    """A new git repo with the demo files in two commits, in a new temp folder; its path."""
    root = Path(tempfile.mkdtemp(prefix="parallel-tui-demo-", dir=parent)) / "shop"
    root.mkdir()
    return _fill(root)


def _fill(root: Path) -> Path:
    git(root, "init", "-q", "-b", "main")
    for key, value in (("user.name", "parallel-tui demo"), ("user.email", "demo@parallel-tui.invalid")):
        git(root, "config", key, value)  # the scratch repo's own: merges write commits here too
    for i, (name, text) in enumerate(FILES.items()):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if i == 4:
            git(root, "add", "-A")
            git(root, *_IDENTITY, "commit", "-q", "-m", "demo: api and web")
    git(root, "add", "-A")
    git(root, *_IDENTITY, "commit", "-q", "-m", "demo: auth, docs and tests")
    return root
