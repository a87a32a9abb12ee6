"""Agents as data: how each CLI is launched (descriptors), the prompt a session gets, the
built-in demo agent and demo repo, the pane patterns that read an agent's screen, and what
agents report back: the hooks and their writer, the ownership hook, stream-json results
(Claude Code's formats, which Codex and Gemini reuse).

May import: `engine.analysis`, `engine.hosts`, `engine.core`; never `engine.planning` (its
sibling) or `engine.claude` (above).
"""
