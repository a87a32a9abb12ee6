"""Merge review and the verified, atomic merge.

Owns: reading `git merge-tree --write-tree` results (conflicts of every kind, with their
hunks), the per-branch and pairwise conflict matrix with a suggested order (`check`), and
the merge itself: merge commits built from trees with `commit-tree`, verified in a
temporary worktree, and the target ref moved once by compare-and-swap (`merge`). Nothing
here touches the user's index or working tree before that single move.

May import: `engine.run` (journal, cleanup, relaunch for `--resolve`) and every layer below
it; GitPython lazily, via `engine.hosts.gitrepo`. Never the CLI or the TUI.
"""
