"""Finds `styles/` both in a checkout (beside tui/) and in a wheel (tui/styles)."""

from __future__ import annotations

from pathlib import Path, PurePath


def stylesheets(name: str = "app") -> list[str | PurePath]:
    """`styles/<name>.tcss`: the app's, or one screen's."""
    here = Path(__file__).resolve().parent
    for folder in (here.parent / "styles", here / "styles"):
        if (folder / f"{name}.tcss").is_file():
            return [folder / f"{name}.tcss"]
    return []
