"""Agents as data: how each CLI is launched (descriptors), the prompt a session gets, the
built-in demo agent, and the pane patterns that read an agent's screen.

May import: `engine.claude` and `engine.planning` (siblings), `engine.analysis`,
`engine.hosts`, `engine.core`.
"""
