"""One async engine and session factory per app, the same code on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.settings import ConfigError, Settings

ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
CONNECT_TIMEOUT_S = 10
SQLITE_BUSY_TIMEOUT_MS = 5_000
APPLICATION_NAME = "swipesavvy-admin"
PING_AFTER_IDLE_S = 1.0
"""A pooled connection idle this long is pinged before it is used again."""
IDLE_SINCE = "idle_since"


def database_url(raw: str, variable: str = "DATABASE_URL") -> URL:
    """Parse a database URL, accepting the plain `postgresql://` and `sqlite://` spellings."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"{variable} is not a database URL: {raw!r}.") from None
    backend = "postgresql" if url.get_backend_name() == "postgres" else url.get_backend_name()
    if backend not in ASYNC_DRIVERS:
        raise ConfigError(
            f"{variable} must point at PostgreSQL or SQLite, got {url.get_backend_name()!r}."
        )
    return url.set(drivername=ASYNC_DRIVERS[backend])


def create_engine(settings: Settings) -> AsyncEngine:
    """Every engine of the app, its commands and its migrations comes from here.

    On PostgreSQL every statement (SQLAdmin's too: it shares this engine) is cancelled past
    `statement_timeout`: set when each connection opens, or behind PgBouncer at the start of
    each transaction. SQLite has no statement timeout; its one wait, for another writer's
    lock, ends after the busy timeout with "database is locked".
    A connection idle for a second or more is pinged before use and replaced if the server
    dropped it, so an outage ends without a restart (`_ping_when_idle`).
    """
    url = database_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        connect_args=_postgresql_connect_args(settings),
    )
    _ping_when_idle(engine)
    if settings.db_behind_pgbouncer:
        timeout = _statement_timeout_per_transaction(settings.db_statement_timeout_ms)
        event.listen(engine.sync_engine, "begin", timeout)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections idle `PING_AFTER_IDLE_S` or more.

    Its ping is three round trips (BEGIN, an empty statement, ROLLBACK), on every checkout:
    a staff page checks out twice (the session check, the page), so pinging each time cost
    it six round trips, more than its own statements. A connection back in the pool for
    under a second answered then; should the server drop it in that second, the one
    request using it fails, and the disconnect it sees makes SQLAlchemy discard every
    older connection in the pool. A failed ping does the same as pre-ping's.
    """
    pool, dialect = engine.sync_engine.pool, engine.dialect

    def idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        record.info[IDLE_SINCE] = time.monotonic()

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(IDLE_SINCE, 0.0) < PING_AFTER_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # As a failed pre-ping: connect again, and drop every older connection.
                raise InvalidatePoolError(str(error)) from error
            raise

    event.listen(pool, "connect", idle_from_now)
    event.listen(pool, "checkin", idle_from_now)
    event.listen(pool, "checkout", ping_if_idle)


def _postgresql_connect_args(settings: Settings) -> dict[str, Any]:
    if not settings.db_behind_pgbouncer:
        return {
            "timeout": CONNECT_TIMEOUT_S,
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": APPLICATION_NAME,
            },
        }
    # A transaction pool gives each transaction whichever server connection is free, so
    # nothing may outlive a transaction: asyncpg's statement caches are off, and the
    # statements SQLAlchemy prepares get names no other client uses (asyncpg numbers them
    # per client, and two clients' "__asyncpg_stmt_1__" would meet on one server).
    # PgBouncer 1.18 refuses startup parameters beyond a few such as application_name.
    return {
        "timeout": CONNECT_TIMEOUT_S,
        "server_settings": {"application_name": APPLICATION_NAME},
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": _unique_statement_name,
    }


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def _statement_timeout_per_transaction(timeout_ms: int) -> Callable[[Connection], None]:
    statement = f"SET LOCAL statement_timeout = {int(timeout_ms)}"

    def set_timeout(connection: Connection) -> None:
        # A session setting would stay with a server connection other clients get next (and
        # PgBouncer refuses it at startup); SET LOCAL lasts exactly this transaction. Through
        # the driver's cursor: a statement on `connection` would begin the transaction again.
        cursor = connection.connection.cursor()
        try:
            cursor.execute(statement)
        finally:
            cursor.close()

    return set_timeout


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite leaves foreign keys off per connection; WAL lets readers run beside one writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


class Database:
    """The engine and session factory an app (or a command) works through."""

    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(settings)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.listen_url: URL | None = None
        """Where PostgreSQL's LISTEN connects (DATABASE_LISTEN_URL); None on SQLite."""
        if self.engine.dialect.name == "postgresql":
            self.listen_url = database_url(settings.listen_url, "DATABASE_LISTEN_URL")
            if self.listen_url.get_backend_name() != "postgresql":
                raise ConfigError("DATABASE_LISTEN_URL must point at PostgreSQL.")

    def session(self) -> AsyncSession:
        return self.sessions()

    async def ping(self, timeout_s: float = 2.0) -> None:
        """Raise if the database does not answer `SELECT 1` within `timeout_s`."""
        async with asyncio.timeout(timeout_s), self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
