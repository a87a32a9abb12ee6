"""Everything specific to Claude: the SDK and Claude Code planners with their prompt and
answer repair, the choice among the planners (`planners`), the Claude Code environment
(trust, onboarding, settings, statusline), and the `install-claude` templates.

May import: `engine.planning` and `engine.agents` (the layer below), `engine.analysis`,
`engine.hosts`, `engine.core`. `anthropic` is imported lazily, on the Claude planner's path only.
"""
