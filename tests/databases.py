"""Throwaway databases for tests: a file for SQLite, a fresh database on the local PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Secret

from core.database import Database
from core.settings import Settings
from models import Base

POSTGRES_SERVER_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
TEST_SECRET_KEY = Secret("test-secret-key-" + "x" * 40)
TEST_BCRYPT_ROUNDS = 4
"""The lowest bcrypt cost: tests check behaviour, not hashing strength."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


async def _postgres_admin(statement: str) -> None:
    url = make_url(POSTGRES_SERVER_URL)
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=5,
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def throwaway_postgres_database(label: str) -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    name = f"swipesavvy_test_{label}_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"PostgreSQL not reachable at {POSTGRES_SERVER_URL}: {exc}"
        if in_ci():
            pytest.fail(f"{message} (CI=true: the PostgreSQL half must run)")
        pytest.skip(f"{message}; set CI=true to make this a failure")
    try:
        yield make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def fresh_database_url(backend: str, directory: Path, label: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / f'{label}-{uuid.uuid4().hex[:8]}.db'}"
    else:
        with throwaway_postgres_database(label) as url:
            yield url


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET_KEY,
        "bcrypt_rounds": TEST_BCRYPT_ROUNDS,
        "log_level": "WARNING",
    }
    return Settings(**(values | overrides))


async def empty_tables(db: AsyncSession, names: Sequence[str]) -> None:
    """Delete every row of these tables; TRUNCATE on PostgreSQL, whose ledger refuses
    row deletes (append-only by trigger)."""
    connection = await db.connection()
    if connection.dialect.name == "postgresql":
        await db.execute(sa.text(f"TRUNCATE {', '.join(names)} CASCADE"))
        return
    for name in names:
        await db.execute(sa.delete(Base.metadata.tables[name]))


async def reset_database(database: Database, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Every table as the migrations left it (`rows`)."""
    tables = Base.metadata.sorted_tables
    async with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # DELETE, not TRUNCATE: TRUNCATE gives every table and index a new file, 240 ms
            # for them all, twice a test. As a replica, the append-only tables' triggers
            # (and the foreign-key checks, every row going) stand aside for this transaction.
            await connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for table in reversed(tables):
            await connection.execute(sa.delete(table))
        for table in tables:
            if rows[table.name]:
                await connection.execute(sa.insert(table), rows[table.name])
