"""The engine is set up for each backend: SQLite pragmas, PostgreSQL timeouts, URL spellings,
and pooled connections pinged only after they sat idle."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

import core.database
from core.database import Database, database_url
from core.settings import ConfigError, Settings


async def test_connections_are_configured_for_their_backend(
    settings: Settings, database: Database
) -> None:
    async with database.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
        else:
            timeout = (
                await connection.exec_driver_sql(
                    "SELECT setting FROM pg_settings WHERE name = 'statement_timeout'"
                )
            ).scalar()
            name = (await connection.exec_driver_sql("SHOW application_name")).scalar()
            assert timeout == str(settings.db_statement_timeout_ms)
            assert name == "swipesavvy-admin"
            assert database.engine.pool.size() == settings.db_pool_size


async def test_a_statement_over_the_timeout_is_cancelled(settings: Settings, backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite has no statement timeout; it runs in-process")
    database = Database(Settings(**{**settings.__dict__, "db_statement_timeout_ms": 200}))
    try:
        with pytest.raises(sa.exc.DBAPIError, match="statement timeout"):
            async with database.engine.connect() as connection:
                await connection.exec_driver_sql("SELECT pg_sleep(2)")
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql://u:p@db/app", "postgresql+asyncpg://u:***@db/app"),
        ("postgres://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("postgresql+asyncpg://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("sqlite:///./swipesavvy.db", "sqlite+aiosqlite:///./swipesavvy.db"),
    ],
)
def test_plain_urls_get_the_async_driver(raw: str, expected: str) -> None:
    assert database_url(raw).render_as_string(hide_password=True) == expected


def test_other_databases_are_refused() -> None:
    with pytest.raises(ConfigError, match="must point at PostgreSQL or SQLite, got 'mysql'"):
        database_url("mysql://root@localhost/app")


@pytest.fixture
async def pooled(settings: Settings, backend: str) -> Database:
    """A pool of its own, and a second one to end its connections from the server side."""
    if backend == "sqlite":
        pytest.skip("SQLite connects in-process: no server drops its connections")
    database = Database(settings)
    yield database
    await database.dispose()


async def backend_pid(database: Database) -> int:
    async with database.engine.connect() as connection:
        return int((await connection.exec_driver_sql("SELECT pg_backend_pid()")).scalar())


async def dropped_by_the_server(settings: Settings, pooled: Database) -> int:
    """Use one of `pooled`'s connections, end it from another pool; its backend's pid."""
    pid = await backend_pid(pooled)
    other = Database(settings)
    try:
        async with other.engine.connect() as connection:
            await connection.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    finally:
        await other.dispose()
    return pid


async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    settings: Settings, pooled: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core.database, "PING_AFTER_IDLE_S", 0.2)
    dropped = await dropped_by_the_server(settings, pooled)
    await asyncio.sleep(0.3)

    assert await backend_pid(pooled) != dropped


async def test_a_connection_back_within_the_idle_window_is_used_without_a_ping(
    pooled: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    ping = pooled.engine.dialect.do_ping
    monkeypatch.setattr(pooled.engine.dialect, "do_ping", lambda c: pings.append(c) or ping(c))

    first = await backend_pid(pooled)
    again = await backend_pid(pooled)
    assert (again, len(pings)) == (first, 0)

    monkeypatch.setattr(core.database, "PING_AFTER_IDLE_S", 0.0)
    assert await backend_pid(pooled) == first
    assert len(pings) == 1


async def test_a_connection_dropped_within_the_idle_window_fails_one_use_then_the_pool_recovers(
    settings: Settings, pooled: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core.database, "PING_AFTER_IDLE_S", 60.0)
    dropped = await dropped_by_the_server(settings, pooled)

    with pytest.raises(sa.exc.DBAPIError) as failed:
        await backend_pid(pooled)
    assert failed.value.connection_invalidated
    assert await backend_pid(pooled) != dropped
