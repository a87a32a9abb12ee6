"""Where the engine meets the machine: the `Host` that runs commands, signals processes and
reads and writes a session's files (`LocalHost` today; a remote host plugs in by implementing
`host.Host` and registering in the Engine's `registry.Hosts`), the tmux adapter
(`tmux_sessions`), git worktrees and branches (`worktrees`, `inflight`), git as a subprocess
(bulk, read-only questions), git through GitPython (`gitrepo`: history and objects, imported
lazily), and whether pull requests can be opened here (a remote, `gh`).

May import: `engine.core`.
"""
