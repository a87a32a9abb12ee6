"""From a task to a validated plan: the pipeline, the planner port and the offline planner,
task reading, the quick form (`--tasks`), the estimate, the overhead model (and its row
marks), validation, agent matching, the checklist, plan files, and the text and chart
renderings of a plan.

May import: `engine.claude` and `engine.agents` (siblings), `engine.analysis`, `engine.hosts`,
`engine.core`.
"""
