"""parallel-tui's headless engine.

Everything the TUI shows is computed here, and everything here runs without a terminal UI:
the CLI verbs (`parallel-tui analyze|table|plan ... --json`) print the same objects the
screens render. Both faces drive one object, `engine.service.Engine` (built by
`build_engine`). Nothing in this package may import Textual, Rich or `tui`.
"""
