"""Ratios the way every figure shows them: a fraction to four places, rounded half up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

PLACES = Decimal("0.0001")


def ratio(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """numerator / denominator (0.0512 is 5.12 %), or None when the denominator is zero:
    there is no rate to show, and 0 would be a false one."""
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(PLACES, ROUND_HALF_UP)
