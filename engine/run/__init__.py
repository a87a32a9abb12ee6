"""A run of sessions: the orchestrator (worktrees, tmux windows, agents; resume), the waves
(the dependency policy), lookup (a run, its tmux, a session's pane), observe (the layered
readers, read-only) and follow (the observer's loop, which journals what it sees), the fold
(the one read model) and status (fold + liveness overlay, or one observation without a
supervisor), the journal, the recorder (the only writer of its events table), control
(stop/send), locks, cleanup, the boundary watch, the branch guard, the supervisor (and
supervision: starting, finding, stopping it) and its live overlap radar.

May import: `engine.planning`, `engine.claude`, `engine.agents`, `engine.analysis`,
`engine.hosts`, `engine.core`.
"""
