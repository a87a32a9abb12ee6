"""What a repository is: its profile (files, LOC, modules, churn, complexity), the cache of
it by HEAD, languages, layout, the planned-path tree (symlinks, submodules), the localization
index that ranks files for a task, and co-change history.

May import: `engine.hosts`, `engine.core`.
"""
