"""The engine is set up for each backend: SQLite pragmas, PostgreSQL timeouts, URL spellings."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

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
