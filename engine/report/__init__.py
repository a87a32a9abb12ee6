"""The efficiency report and the model that calibrates itself.

Owns: turning a run's journal (estimate, timings, sessions, merges, events) into predicted vs
measured numbers per stage, each labelled with its source; the run history of a repo; and
the measured medians that replace the spec's seed constants once enough runs measured them.

May import: `engine.run` (the journal) and the layers below it (the overhead model,
stream-json, `engine.hosts` for git's read of each session's commits); never the CLI, the
TUI or tmux.
"""
