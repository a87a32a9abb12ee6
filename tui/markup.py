"""Text from the engine, agents or git shown inside Textual markup: escaped once, here."""

from __future__ import annotations


def escape(text: str) -> str:
    """`text` shown as it is: a `[` would otherwise open a markup tag (a file named `[id].tsx`,
    a pane line with `[y/N]`)."""
    return text.replace("[", r"\[")
