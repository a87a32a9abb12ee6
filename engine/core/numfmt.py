"""Rounding for people: half-up, as the spec's tables round (2.15 → 2.2, not 2.1)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def half_up(value: float, digits: int = 1) -> Decimal:
    """Round like a person would; float noise (20.149999…) is removed first."""
    exact = Decimal(str(round(value, 9)))
    return exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def fixed(value: float, digits: int = 1) -> str:
    return f"{half_up(value, digits):.{digits}f}"
