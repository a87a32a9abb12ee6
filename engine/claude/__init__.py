"""Everything specific to Claude: the SDK planner with its prompt and answer repair, the
Claude Code environment (trust, onboarding), hooks and their writer, stream-json, and the
`install-claude` templates.

May import: `engine.planning` and `engine.agents` (siblings), `engine.analysis`,
`engine.hosts`, `engine.core`. `anthropic` is imported lazily, on the Claude planner's path only.
"""
