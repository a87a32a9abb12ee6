"""A run of sessions: the orchestrator (worktrees, tmux windows, agents; resume), status and
its layered readers and async follow loop, the journal, the recorder (the only writer of its
events table), the fold (a run's state from its events), control (stop/send), locks, cleanup,
the boundary watch, the branch guard, the supervisor and its live overlap radar.

May import: `engine.planning`, `engine.claude`, `engine.agents`, `engine.analysis`,
`engine.hosts`, `engine.core`.
"""
