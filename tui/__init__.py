"""parallel-tui's Textual face. Imports Textual only when the app actually starts."""
