"""The vocabulary every other package speaks: data models, errors and exit codes, config,
events (one union for planning and runs), JSON conversion, number formatting, and the
test-only fault switch and crash log.

May import: the standard library and platformdirs only — never another engine package.
"""
