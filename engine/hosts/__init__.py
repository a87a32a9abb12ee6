"""Where the engine meets the machine: git as a subprocess (bulk, read-only questions), and
whether pull requests can be opened here (a remote, `gh`). A remote host plugs in here later.

May import: `engine.core`.
"""
