"""Each worker's in-memory flags: loaded at start, refreshed within a second of a change,
and kept serving (marked stale) while the database is away.

Refresh comes two ways: a PostgreSQL LISTEN on the flags channel wakes the worker the
moment a change commits, and a poll of the revision (twice a second) catches anything a
notification missed, and is the only way on SQLite. A third, on demand: a client re-fetching
because an event stream told it of a version this worker has not loaded yet (the stream may
be held by another worker, which heard of the change first) makes it look before answering
(`catch_up`), so the re-fetch never brings back the answers it was told are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncpg

from core.database import Database
from core.settings import FLAG_STREAM_LIMIT
from flags import lifecycle as _registers_the_settled_event  # noqa: F401
from flags import revision as _registers_the_revision_event  # noqa: F401
from flags.key_uses import KeyUses
from flags.revision import CHANNEL
from flags.snapshot import EMPTY, Snapshot, load, stored_revision
from flags.streams import StreamHub
from flags.usage import EvaluationCounts
from models.base import utcnow
from models.flags import PRODUCTION

log = logging.getLogger(__name__)
POLL_INTERVAL_S = 0.5
FULL_RELOAD_EVERY_S = 60.0
"""Also reload now and then, in case a flag was changed behind the app's back."""
STALE_AFTER_S = 5.0
CATCH_UP_WITHIN_S = 2.0
"""The longest a re-fetch waits for its worker to look at the database; then it is
answered with what the worker has."""


class FlagStore:
    def __init__(
        self,
        database: Database,
        *,
        default_environment: str = PRODUCTION,
        poll_interval_s: float = POLL_INTERVAL_S,
        stale_after_s: float = STALE_AFTER_S,
        stream_limit: int = FLAG_STREAM_LIMIT,
    ) -> None:
        self.database = database
        self.default_environment = default_environment
        """The environment the doors answer for without app keys (FLAGS_ENVIRONMENT)."""
        self.poll_interval_s = poll_interval_s
        self.stale_after_s = stale_after_s
        self.snapshot: Snapshot = EMPTY
        self._last_ok = float("-inf")
        self._last_full = float("-inf")
        self._wake = asyncio.Event()
        self._refreshing = asyncio.Lock()
        """One refresh at a time: two overlapping could finish in the wrong order and put
        an older snapshot back, telling every stream of a version going backwards."""
        self._refreshed_from = float("-inf")
        """When the last refresh that reached the database began."""
        self.key_uses = KeyUses()
        """The app keys this worker's requests brought; written from the refresh loop."""
        self.usage = EvaluationCounts()
        """How often this worker's doors answered each flag, written from the refresh loop."""
        self.streams = StreamHub(stream_limit)
        """The event streams open on this worker, told of every change the refresh finds."""

    @property
    def loaded(self) -> bool:
        return self.snapshot is not EMPTY

    @property
    def stale(self) -> bool:
        """True when the database has not answered for a while: we serve what we last had."""
        return time.monotonic() - self._last_ok > self.stale_after_s

    async def refresh(self, *, force: bool = False, unless_since: float | None = None) -> bool:
        """Reload if the revision moved (or `force`); False when the database did not answer.
        With `unless_since`, a refresh that began at or after that moment (while this one
        waited its turn) is taken as this one."""
        async with self._refreshing:
            if unless_since is not None and self._refreshed_from >= unless_since:
                return True
            began = time.monotonic()
            try:
                async with self.database.session() as db:
                    revision = await stored_revision(db)
                    due = time.monotonic() - self._last_full > FULL_RELOAD_EVERY_S
                    if force or due or revision != self.snapshot.revision:
                        self.snapshot = await load(db, self.default_environment)
                        self._last_full = time.monotonic()
                        self.streams.publish(self.snapshot, utcnow())
            except Exception as exc:  # the database being away must not stop the feed
                log.warning(
                    "flags refresh failed, serving revision %s: %s", self.snapshot.revision, exc
                )
                return False
            self._refreshed_from = began
            self._last_ok = time.monotonic()
            return True

    async def catch_up(self, environment: str, version_id: str) -> bool:
        """Before answering a re-fetch that an event told of `version_id` (OFREP's
        `flagConfigEtag`): when this worker serves another version of `environment`, look
        at the database once, unless a look began since the request came. True when the
        snapshot changed meanwhile. The version ids are digests, not ordered, so a client
        holding an old one costs a look at the revision, one statement; looks are shared
        by the requests waiting together, and none is made while the database is away."""
        current = self.streams.version(environment)
        if current is None or current.id == version_id or self.stale:
            return False
        before = self.snapshot
        asked = time.monotonic()
        # Shielded: a request giving up must not cancel a refresh others may be waiting on.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.shield(self.refresh(unless_since=asked)), CATCH_UP_WITHIN_S
            )
        return self.snapshot is not before

    async def run(self) -> None:
        """Refresh forever: on notification or every poll interval."""
        listener = asyncio.create_task(self._listen())
        try:
            while True:
                await self.refresh()
                # Also between refreshes: a scheduled start or end changes answers unasked.
                self.streams.publish(self.snapshot, utcnow())
                await self.key_uses.flush_if_due(self.database)
                await self.usage.flush_if_due(self.database)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
                self._wake.clear()
        finally:
            listener.cancel()
            # A worker stopping writes what it counted; only a crash loses the last batch.
            await self.usage.flush_if_due(self.database, force=True)
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _listen(self) -> None:
        # Its own URL: behind a transaction pool LISTEN would stay on a server connection
        # other clients get, and the notifications with it.
        url = self.database.listen_url
        if url is None:
            return
        while True:
            try:
                connection = await asyncpg.connect(
                    host=url.host,
                    port=url.port,
                    user=url.username,
                    password=url.password,
                    database=url.database,
                    timeout=5,
                )
            except (OSError, asyncpg.PostgresError, TimeoutError):
                await asyncio.sleep(self.poll_interval_s)
                continue
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _c, lost=lost: lost.set())
            await connection.add_listener(CHANNEL, lambda *_args: self._wake.set())
            try:
                await self._until_lost(connection, lost)
            finally:
                with contextlib.suppress(Exception):
                    await connection.close()

    @staticmethod
    async def _until_lost(connection: asyncpg.Connection, lost: asyncio.Event) -> None:
        """A silently dropped connection sends no termination: ask it now and then."""
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), 5)
                return
            try:
                await connection.fetchval("SELECT 1", timeout=2)
            except (OSError, asyncpg.PostgresError, TimeoutError, asyncpg.InterfaceError):
                return
