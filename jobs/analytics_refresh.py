"""The dashboard's rollups kept current by the server.

Every worker runs the loop. A pass rolls up the days that closed since the last one and
recomputes the figures still settling; passes take the refresh lock, so workers take
turns and a second pass right after the first finds little to do.
"""

from __future__ import annotations

import logging

from analytics.refresh import refresh_database
from core.database import Database
from jobs import loop

log = logging.getLogger(__name__)
INTERVAL_S = 600.0


async def run_once(database: Database) -> None:
    done = await refresh_database(database)
    if done.rows:
        log.info("analytics rollups refreshed: %s rows", done.rows)


async def run_forever(database: Database, interval_s: float = INTERVAL_S) -> None:
    """The server's loop (see `jobs.loop`)."""
    await loop.every(interval_s, lambda: run_once(database), "analytics refresh")
