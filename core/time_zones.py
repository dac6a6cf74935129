"""Which time zone the screens show times in: the signed-in staff member's, per request.

Times are stored and computed in UTC. The staff session middleware sets the zone for the
request it serves (`showing`), so formatting reads it (`current`) without the request being
passed through every formatter and template.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT = "UTC"
NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})
"""Names in the tz database that are no place's time: the server's own setting, placeholders."""

DEFAULT_ZONE = ZoneInfo(DEFAULT)

_shown: ContextVar[ZoneInfo] = ContextVar("shown_time_zone", default=DEFAULT_ZONE)


@cache
def names() -> frozenset[str]:
    """Every IANA zone name staff may pick, `Europe/Paris` as well as aliases such as `Japan`."""
    return frozenset(available_timezones() - NOT_PLACES)


def is_zone(name: str) -> bool:
    return name in names()


def current() -> ZoneInfo:
    """The zone times are shown in now: the signed-in staff member's, else UTC."""
    return _shown.get()


@contextmanager
def showing(name: str) -> Iterator[ZoneInfo]:
    """Show times in `name` inside the block; a name this server's tz database lacks shows
    UTC rather than failing every page."""
    zone = ZoneInfo(name if is_zone(name) else DEFAULT)
    token = _shown.set(zone)
    try:
        yield zone
    finally:
        _shown.reset(token)
