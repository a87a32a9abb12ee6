"""The repo's linked worktrees, as plain records: read fresh on every `analyze`, cached or not.

Kept apart from the models so the cached `analyze --json` (which prints records, never builds
a `RepoProfile`) can read them without importing `engine.core.models`.
"""

from __future__ import annotations

from engine.hosts.gitcli import worktree_records

TYPE_CHECKING = False  # on the cached `analyze --json` path: no pathlib there
if TYPE_CHECKING:
    from pathlib import Path


def linked_worktrees(root: Path | str) -> list[dict[str, str]]:
    """Linked worktrees beyond the main checkout, each `{path, branch, head}` (WorktreeInfo's fields,
    in its order); they count against max_worktrees."""
    found = []
    for fields in worktree_records(root)[1:]:
        found.append({"path": fields.get("worktree", ""),
                      "branch": fields.get("branch", "").removeprefix("refs/heads/"),
                      "head": fields.get("HEAD", "")})
    return found
