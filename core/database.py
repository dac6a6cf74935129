"""One async engine and session factory per app, the same code on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
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


def database_url(raw: str) -> URL:
    """Parse DATABASE_URL, accepting the plain `postgresql://` and `sqlite://` spellings."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL is not a database URL: {raw!r}.") from None
    backend = "postgresql" if url.get_backend_name() == "postgres" else url.get_backend_name()
    if backend not in ASYNC_DRIVERS:
        raise ConfigError(
            f"DATABASE_URL must point at PostgreSQL or SQLite, got {url.get_backend_name()!r}."
        )
    return url.set(drivername=ASYNC_DRIVERS[backend])


def create_engine(settings: Settings) -> AsyncEngine:
    """Every engine of the app, its commands and its migrations comes from here.

    On PostgreSQL each connection is opened with `statement_timeout`, so every statement
    on it (SQLAdmin's too: it shares this engine) is cancelled past the limit. SQLite has
    no statement timeout; its one wait, for another writer's lock, ends after the busy
    timeout with "database is locked".
    Pre-ping replaces connections the server dropped, so an outage ends without a restart.
    """
    url = database_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
        connect_args={
            "timeout": CONNECT_TIMEOUT_S,
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": "swipesavvy-admin",
            },
        },
    )


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

    def session(self) -> AsyncSession:
        return self.sessions()

    async def ping(self, timeout_s: float = 2.0) -> None:
        """Raise if the database does not answer `SELECT 1` within `timeout_s`."""
        async with asyncio.timeout(timeout_s), self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
