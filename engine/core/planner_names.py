"""The planners a person can name (`--planner`, the app's task screen, `plan --json`).

A leaf: `parallel-tui --help` lists them without loading the planners themselves (the offline
planner alone brings the models and asyncio, some 60 ms; `bench/startup.py`)."""

from __future__ import annotations

PLANNERS = ("auto", "claude", "claude-code", "offline")
