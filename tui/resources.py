"""Finds `styles/` both in a checkout (beside tui/) and in a wheel (tui/styles)."""

from __future__ import annotations

from pathlib import Path


def stylesheets() -> list[str | Path]:
    here = Path(__file__).resolve().parent
    for folder in (here.parent / "styles", here / "styles"):
        if (folder / "app.tcss").is_file():
            return [folder / "app.tcss"]
    return []
