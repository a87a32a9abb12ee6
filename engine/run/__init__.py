"""A run of sessions: the orchestrator (worktrees, tmux windows, agents; resume), status and
its layered readers, the journal, locks, cleanup, the boundary watch and the branch guard.

May import: `engine.planning`, `engine.claude`, `engine.agents`, `engine.analysis`,
`engine.hosts`, `engine.core`.
"""
