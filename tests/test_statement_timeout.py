"""A statement that waits too long is a clear 503 ("took too long"), never a 500 or SQL text.

On PostgreSQL the wait ends at the statement timeout; to make a query wait, another session
holds an ACCESS EXCLUSIVE lock on the table it reads. SQLite has no statement timeout: its
one wait is for another writer's lock, which ends at the busy timeout.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core import outage
from core.database import Database
from core.settings import Settings
from tests import staff
from tests.clients import client_for
from tests.rows import ai_models_written as written
from tests.table_locks import locked
from tests.test_audit_trail import MODEL_FORM

TIMEOUT_MS = 300
TOO_SLOW = "The database took too long to answer. Nothing was changed; try again in a few seconds."


@pytest.fixture
async def slow_site(
    settings: Settings, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose statements give up after TIMEOUT_MS, signed in as a superadmin."""
    monkeypatch.setattr("core.database.SQLITE_BUSY_TIMEOUT_MS", TIMEOUT_MS)
    async with client_for(settings, db_statement_timeout_ms=TIMEOUT_MS) as client:
        await staff.signed_in(client, await staff.make_staff(db, "superadmin"))
        yield client


def assert_too_slow(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert TOO_SLOW in response.text
    for word in ("Traceback", "Error", "canceling statement", "INSERT", "SELECT", "locked"):
        assert word not in response.text


async def test_a_save_that_waits_too_long_is_a_503_and_saves_nothing(
    slow_site: httpx.AsyncClient,
    db: AsyncSession,
    clean_database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = await staff.csrf_token(slow_site)
    with caplog.at_level(logging.WARNING):
        async with locked(clean_database, "ai_models"):
            created = await slow_site.post(
                "/admin/ai-models/create", data=MODEL_FORM | {"csrf_token": token}
            )
    after = await slow_site.post("/admin/ai-models/create", data=MODEL_FORM | {"csrf_token": token})

    assert_too_slow(created)
    assert created.headers["content-type"].startswith("text/html")
    assert after.status_code == 302
    assert await written(db) == (1, 1)  # only the second save
    answered = [r for r in caplog.records if r.name == outage.__name__]
    assert len(answered) == 1
    assert "database_timeout" in answered[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no statement timeout: reads never wait on a writer in WAL mode")


async def test_a_page_whose_query_runs_too_long_is_a_503(
    postgres_only: None, slow_site: httpx.AsyncClient, clean_database: Database
) -> None:
    async with locked(clean_database, "ai_models"):
        listing = await slow_site.get("/admin/ai-models/list")
    after = await slow_site.get("/admin/ai-models/list")

    assert_too_slow(listing)
    assert after.status_code == 200


async def test_an_api_call_whose_sign_in_lookup_runs_too_long_is_a_json_503(
    postgres_only: None, slow_site: httpx.AsyncClient, clean_database: Database
) -> None:
    async with locked(clean_database, "admin_sessions"):
        me = await slow_site.get("/api/v1/admin/auth/me")
    after = await slow_site.get("/api/v1/admin/auth/me")

    assert me.status_code == 503
    assert me.headers["retry-after"] == "5"
    assert me.json() == {"error": "database_timeout", "message": TOO_SLOW}
    assert after.status_code == 200
