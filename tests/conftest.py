"""Fixtures: every database test runs on SQLite and on PostgreSQL, schema built by Alembic.

The PostgreSQL half creates a throwaway database on the local server and drops it after.
When that server cannot be reached the PostgreSQL tests are skipped, unless CI=true, where
an unreachable server fails the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from app import create_app
from core.database import Database
from core.settings import Settings
from migrations import runner
from models import Base
from tests.databases import fresh_database_url, make_settings, reset_database
from tests.tcp_proxy import TcpProxy


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules marked `long` first. Each module runs on one worker (--dist loadfile), one
    worker per core: a module of several minutes handed out last kept one worker busy
    alone while the other waited, ten minutes of a CI run."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def settings(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings for a database migrated to head, shared by the tests of one backend."""
    with fresh_database_url(backend, tmp_path_factory.mktemp("db"), "shared") as url:
        settings = make_settings(url)
        runner.upgrade(settings)
        yield settings


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def migration_data(database: Database) -> dict[str, list[dict[str, Any]]]:
    """Rows the migrations themselves write (the default roles), restored after each test."""
    async with database.engine.connect() as connection:
        return {
            table.name: [
                dict(row) for row in (await connection.execute(sa.select(table))).mappings()
            ]
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
async def clean_database(
    database: Database, migration_data: dict[str, list[dict[str, Any]]]
) -> AsyncIterator[Database]:
    """The shared database as the migrations left it, before and after the test."""
    await reset_database(database, migration_data)
    yield database
    await reset_database(database, migration_data)


@pytest.fixture
async def db(clean_database: Database) -> AsyncIterator[AsyncSession]:
    async with clean_database.session() as session:
        yield session


@pytest.fixture
async def app(settings: Settings, clean_database: Database) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    yield app
    await app.state.database.dispose()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    """A TCP proxy in front of the local PostgreSQL that a test can cut and restore."""
    proxy = TcpProxy()
    await proxy.start()
    yield proxy
    await proxy.close()
