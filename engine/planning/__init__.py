"""From a task to a validated plan: the pipeline, the planner port and the offline planner,
task reading, the quick form (`--tasks`), the estimate, the overhead model (and its row
marks), validation, agent matching, the checklist, plan files, and the text and chart
renderings of a plan. The Claude planners, and the choice among them, sit above it in
`engine.claude`.

May import: `engine.analysis`, `engine.hosts`, `engine.core`; never `engine.agents` (its
sibling) or `engine.claude` (above).
"""
