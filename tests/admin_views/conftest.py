"""Seeded data and a signed-in superadmin for the screen tests.

Tests that only read share one seeding per module (`reader`, `reader_db`); tests that
change rows get a fresh seeding each (`seeded`, `boss`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from core.database import Database
from core.settings import Settings
from demo_data.load import seed_demo
from tests import staff
from tests.databases import TEST_BCRYPT_ROUNDS, reset_database


async def _seed(database: Database) -> None:
    await seed_demo(database, users=12, seed=5, bcrypt_rounds=TEST_BCRYPT_ROUNDS)


@pytest.fixture
async def seeded(clean_database: Database) -> Database:
    await _seed(clean_database)
    return clean_database


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: AsyncSession, seeded: Database) -> staff.Account:
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


@pytest.fixture(scope="module")
async def seeded_once(
    database: Database, migration_data: dict[str, list[dict[str, Any]]]
) -> AsyncIterator[Database]:
    await reset_database(database, migration_data)
    await _seed(database)
    yield database
    await reset_database(database, migration_data)


@pytest.fixture(scope="module")
async def reader(settings: Settings, seeded_once: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A superadmin's client over data no test in the module changes."""
    async with seeded_once.session() as db:
        account = await staff.make_staff(db, "superadmin")
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await staff.signed_in(client, account)
        yield client
    await app.state.database.dispose()


@pytest.fixture
async def reader_db(seeded_once: Database) -> AsyncIterator[AsyncSession]:
    async with seeded_once.session() as db:
        yield db
