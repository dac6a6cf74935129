"""When each app key was last used, without a database write per request.

The flag doors serve thousands of requests a second from memory; a write per request would
undo that. Each worker notes the last use of every key in memory (`seen`), and the flag
store's refresh loop writes the notes at most once a minute (`flush_if_due`), merged into
one `settings` row with what other workers wrote. The screen so shows a use within about a
minute, to the minute.

The row is not the keys' own row: writing that one bumps the flags revision, and every
worker would reload its snapshot (and every app's ETag would change) once a minute.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database
from models.ops import RuntimeSetting

log = logging.getLogger(__name__)

LAST_USED = "flags.client_keys.last_used"
"""A settings row: {key hash: ISO UTC time of its last use seen by any worker}."""
FLUSH_EVERY_S = 60.0


def _iso(epoch: float) -> str:
    # Whole seconds, always +00:00: the stored texts then compare as the times do.
    return datetime.fromtimestamp(int(epoch), UTC).isoformat()


async def last_uses(db: AsyncSession) -> dict[str, str]:
    value = await db.scalar(sa.select(RuntimeSetting.value).where(RuntimeSetting.key == LAST_USED))
    return dict(value) if isinstance(value, dict) else {}


class KeyUses:
    """One worker's unwritten key uses."""

    def __init__(self, flush_every_s: float = FLUSH_EVERY_S) -> None:
        self.flush_every_s = flush_every_s
        self._pending: dict[str, float] = {}
        """Key hash -> the time of its last use here, since the last write."""
        self._flushed_at = time.monotonic()

    def seen(self, digest: str) -> None:
        """A request brought this key: a dictionary store, nothing more."""
        self._pending[digest] = time.time()

    async def flush_if_due(self, database: Database) -> None:
        """Write the notes when a minute has passed since the last write; a database that
        does not answer keeps them for the next try."""
        if not self._pending or time.monotonic() - self._flushed_at < self.flush_every_s:
            return
        taken, self._pending = self._pending, {}
        self._flushed_at = time.monotonic()
        try:
            async with database.session() as db, db.begin():
                await _merge(db, {digest: _iso(at) for digest, at in taken.items()})
        except Exception as exc:  # the feed keeps serving while the database is away
            log.warning("app keys' last use not written, kept for the next try: %s", exc)
            for digest, at in taken.items():
                self._pending[digest] = max(at, self._pending.get(digest, at))


async def _merge(db: AsyncSession, uses: dict[str, str]) -> None:
    """Keep the later time per key: another worker may have written a newer use."""
    row = await db.scalar(
        sa.select(RuntimeSetting).where(RuntimeSetting.key == LAST_USED).with_for_update()
    )
    if row is None:
        db.add(
            RuntimeSetting(
                key=LAST_USED,
                value=uses,
                is_secret=True,
                description="When each app key was last used (by its hash); written by the "
                "app at most once a minute per worker.",
            )
        )
        return
    stored = dict(row.value or {})
    row.value = stored | {d: max(at, stored.get(d, at)) for d, at in uses.items()}
