"""How values read on screen: money with its currency, status badges, masked cards, times.

Times read in the signed-in staff member's zone (`core.time_zones`), in one format
everywhere: `3 Dec 2026, 14:05` for a moment, `3 Dec 2026` for a date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape

from admin_views.shared.record import readable
from core import time_zones
from models.base import FixedPoint, UtcDateTime, utcnow

Moment = datetime | str
"""A moment as a datetime (aware, or naive UTC), or its ISO text as the JSON answers carry it."""
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""Spelled out rather than `%b`, so a date reads the same whatever the server's locale."""

BADGE_COLOURS = {
    "green": {
        "active",
        "posted",
        "verified",
        "resolved",
        "completed",
        "approved",
        "enabled",
        "executed",
    },
    "yellow": {"pending", "in_progress", "paused", "testing", "unverified", "scheduled"},
    "blue": {"open", "draft", "normal", "browser", "api"},
    "red": {"suspended", "frozen", "failed", "rejected", "urgent", "expired"},
    "orange": {"high", "deprecated"},
    "secondary": {"deactivated", "closed", "cancelled", "retired", "removed", "low", "withdrawn"},
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
    colour = escape(COLOUR_OF.get(text, "secondary"))
    # Joined with escaped values rather than `Markup.format`, three times slower: a list
    # page makes a badge or two per row.
    return Markup(f'<span class="badge bg-{colour}-lt">{escape(text.replace("_", " "))}</span>')  # noqa: S704


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


def _utc(when: Moment) -> datetime:
    parsed = datetime.fromisoformat(when) if isinstance(when, str) else when
    # A naive value is UTC, as `UtcDateTime` takes it.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def local(when: Moment) -> datetime:
    """The moment in the zone the signed-in staff member reads times in."""
    return _utc(when).astimezone(time_zones.current())


def day(value: date | str | None) -> str:
    """`3 Dec 2026`: a calendar date (or its ISO text), the same in every zone: a Date
    column, a UTC day of the analytics."""
    if value is None:
        return ""
    value = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def exact(when: Moment | None) -> str:
    """`3 Dec 2026, 14:05`: the moment in the staff member's zone."""
    if when is None:
        return ""
    here = local(when)
    return f"{day(here)}, {here:%H:%M}"


def clock(when: Moment) -> str:
    """`14:05`: the time of day in the staff member's zone."""
    return f"{local(when):%H:%M}"


def zone_name() -> str:
    """The IANA name of the zone times are shown in (`Europe/Paris`)."""
    return time_zones.current().key


def timestamp(
    when: Moment | None, now: datetime | None = None, *, exact_text: bool = False
) -> Markup:
    """`2 hours ago` on screen (the exact time with `exact_text`), the exact time in the
    staff member's zone on hover, ISO UTC for machines."""
    if when is None:
        return Markup("")
    utc = _utc(when)
    shown = exact(utc) if exact_text else relative(utc, now)
    title = escape(f"{exact(utc)} ({zone_name()})")
    return Markup(f'<time datetime="{utc.isoformat()}" title="{title}">{escape(shown)}</time>')  # noqa: S704


def moment(when: Moment | None) -> Markup:
    """`3 Dec 2026, 14:05` on screen, in a `<time>` for machines and the hover."""
    return timestamp(when, exact_text=True)


TIME_FILTERS: dict[str, Callable[..., Any]] = {
    "timestamp": timestamp,
    "moment": moment,
    "exact": exact,
    "day": day,
    "clock": clock,
}
"""The time formatters as template filters: `{{ row.created_at | timestamp }}`."""


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
    if isinstance(column.type, sa.Date):
        return lambda obj, name: day(getattr(obj, name))
    if isinstance(column.type, sa.ARRAY | sa.JSON):
        return lambda obj, name: readable(getattr(obj, name))
    return None
