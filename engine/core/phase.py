"""A session's journal phase, apart from the event catalogue: the journal reads phases on every
verb's path, and `events`' dozens of dataclasses cost a light verb (`check`) most of its start-up."""

from __future__ import annotations

from typing import Literal

Phase = Literal["planned", "registered", "worktree", "launching", "started", "launch_failed", "stopped",
                "cleaned"]
"""A session's journal phase: `registered` = branch and worktree exist, checkout not finished;
`worktree` = checked out; `launching` = its window is being made."""
