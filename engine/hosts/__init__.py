"""Where the engine meets the machine: the `Host` that runs commands and signals processes
(`LocalHost` today; a remote host plugs in by implementing `host.Host`), git as a subprocess
(bulk, read-only questions), git through GitPython (`gitrepo`: history and objects, imported
lazily), and whether pull requests can be opened here (a remote, `gh`).

May import: `engine.core`.
"""
