"""How values read on screen: money with its currency, status badges, masked cards, times."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape

from models.base import FixedPoint, UtcDateTime, utcnow

BADGE_COLOURS = {
    "green": {"active", "posted", "verified", "resolved", "completed", "approved", "enabled"},
    "yellow": {"pending", "in_progress", "paused", "testing", "unverified", "scheduled"},
    "blue": {"open", "draft", "normal", "browser", "api"},
    "red": {"suspended", "frozen", "failed", "rejected", "urgent", "expired"},
    "orange": {"high", "deprecated"},
    "secondary": {"deactivated", "closed", "cancelled", "retired", "removed", "low"},
}
COLOUR_OF = {value: colour for colour, values in BADGE_COLOURS.items() for value in values}


def money(amount: Decimal | None, currency: str | None = None) -> str:
    """`-1,234.50 USD`: two places, thousands separated, the currency when known."""
    if amount is None:
        return ""
    text = f"{amount:,.2f}"
    return f"{text} {currency}" if currency else text


def badge(value: Any) -> Markup:
    if value is None:
        return Markup("")
    text = str(value)
    colour = COLOUR_OF.get(text, "secondary")
    return Markup('<span class="badge bg-{}-lt">{}</span>').format(colour, text.replace("_", " "))


def masked_card(last_four: str | None) -> str:
    return f"•••• {last_four}" if last_four else ""


def relative(when: datetime, now: datetime | None = None) -> str:
    seconds = int(((now or utcnow()) - when).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def timestamp(when: datetime | None) -> Markup:
    """Relative on screen, absolute (UTC) on hover and for machines."""
    if when is None:
        return Markup("")
    absolute = when.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        when.isoformat(), absolute, relative(when)
    )


def json_block(value: Any) -> Markup:
    return Markup("<pre class='staff-json'>{}</pre>").format(
        escape(json.dumps(value, indent=2, ensure_ascii=False, default=str))
    )


def column_formatter(column: sa.Column[Any]) -> Callable[[Any, str], Any] | None:
    """How a column of this type reads on screen, or None for SQLAdmin's default."""
    if column.info.get("display") == "card":
        return lambda obj, name: masked_card(getattr(obj, name))
    if isinstance(column.type, sa.Enum):
        return lambda obj, name: badge(getattr(obj, name))
    if isinstance(column.type, FixedPoint) and column.type.scale == 2:
        return lambda obj, name: money(getattr(obj, name), getattr(obj, "currency", None))
    if isinstance(column.type, UtcDateTime):
        return lambda obj, name: timestamp(getattr(obj, name))
    if isinstance(column.type, sa.ARRAY):
        return lambda obj, name: ", ".join(getattr(obj, name) or [])
    if isinstance(column.type, sa.JSON):
        return lambda obj, name: json_block(getattr(obj, name))
    return None
