"""Whether pull requests can be opened from this repo: a remote to push to and `gh`.

Asked twice: by the plan's checklist ("merge strategy defined" means *possible*, not just a
valid word) and by `merge --pr` before anything is pushed, so both say the same thing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.hosts.gitcli import run_git


def remotes(repo: Path) -> list[str]:
    proc = run_git(repo, "remote")
    return proc.stdout.decode("utf-8", "surrogateescape").split() if proc.returncode == 0 else []


def pr_blocker(repo: Path) -> str | None:
    """Why PRs cannot be opened here (one line with the fix), or None when they can."""
    if shutil.which("gh") is None:
        return "the GitHub CLI `gh` is not on PATH — install it (https://cli.github.com) and `gh auth login`"
    if not remotes(repo):
        return f"{repo} has no git remote to push to — add one: git remote add origin URL"
    return None


def strategy_detail(repo: Path, strategy: str, verify: str = "") -> tuple[bool, str]:
    """The checklist's answer for `merge_strategy`; "verified" only when a verify command is set."""
    if strategy == "merge":
        checked = f"verified by `{verify}`" if verify else \
            "no verify command: set test_command, or v in merge review"
        return True, f"merge_strategy = merge: `parallel-tui merge` (atomic; {checked})"
    why = pr_blocker(repo)
    return why is None, f"merge_strategy = pr: {why or 'a remote and gh are there'}"
