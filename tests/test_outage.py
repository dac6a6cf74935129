"""The database going away: a clear 503 everywhere, nothing half-done, recovery by itself.

PostgreSQL only: the outage is a TCP proxy in front of the server, cut and restored (SQLite
has no server to lose).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from core import outage
from core.database import Database
from core.settings import Settings
from models import AIModel, FeatureFlag
from tests import staff
from tests.table_locks import locked, until_a_query_waits_on
from tests.tcp_proxy import TcpProxy, through_proxy
from tests.test_audit_trail import MODEL_FORM

LIST = "/admin/ai-models/list"
OVERVIEW = "/api/v1/admin/dashboard/overview"
ME = "/api/v1/admin/auth/me"
FEED = "/api/feature-flags/mobile/active"
DSN_PASSWORD = "dsn-password-never-shown"
UNREACHABLE = "The database is not answering. Nothing was changed; try again in a few seconds."
RECOVERY_LIMIT_S = 5.0
DRIVER_WORDS = ("Traceback", "Error", "Exception", "asyncpg", "sqlalchemy", "Errno", "SELECT")


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the outage is a proxy in front of PostgreSQL; SQLite has no server to lose")


@dataclass
class Site:
    browser: httpx.AsyncClient
    """Signed in with the session cookie."""
    program: httpx.AsyncClient
    """No cookie: the staff API with a bearer token."""
    stranger: httpx.AsyncClient
    """Not signed in."""
    csrf: str


@pytest.fixture
async def site(
    postgres_only: None,
    settings: Settings,
    db: AsyncSession,
    clean_database: Database,
    proxy: TcpProxy,
) -> AsyncIterator[Site]:
    account = await staff.make_staff(db, "superadmin")
    async with clean_database.session() as flags, flags.begin():
        flags.add(
            FeatureFlag(
                key="survivor", name="survivor", enabled=True, rollout_percentage=Decimal(100)
            )
        )
    app = create_app(through_proxy(settings, proxy.port, password=DSN_PASSWORD))
    transport = httpx.ASGITransport(app=app)
    base = "http://testserver"
    async with (
        httpx.AsyncClient(transport=transport, base_url=base) as browser,
        httpx.AsyncClient(transport=transport, base_url=base) as program,
        httpx.AsyncClient(transport=transport, base_url=base) as stranger,
    ):
        await staff.signed_in(browser, account)
        login = await program.post(
            "/api/v1/admin/auth/login", json={"email": account.email, "password": staff.PASSWORD}
        )
        program.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        assert await app.state.flags.refresh(force=True)
        yield Site(browser, program, stranger, await staff.csrf_token(browser))
    await app.state.database.dispose()


def assert_plain_page(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"].startswith("text/html")
    assert UNREACHABLE in response.text
    for word in (*DRIVER_WORDS, DSN_PASSWORD):
        assert word not in response.text


def assert_json_503(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {"error": "database_unavailable", "message": UNREACHABLE}


async def ai_models(db: AsyncSession) -> int:
    await db.rollback()
    return int(await db.scalar(sa.select(sa.func.count()).select_from(AIModel)))


async def test_while_the_database_is_away_every_door_answers_clearly(
    site: Site, proxy: TcpProxy, db: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    await proxy.cut()
    with caplog.at_level(logging.WARNING):
        listing = await site.browser.get(LIST)
        home = await site.browser.get("/admin/")
        created = await site.browser.post(
            "/admin/ai-models/create", data=MODEL_FORM | {"csrf_token": site.csrf}
        )
        signing_in = await staff.sign_in(site.stranger, "someone@example.com")
        by_cookie = await site.browser.get(OVERVIEW)
        by_bearer = await site.program.get(ME)
        ready = await site.stranger.get("/readyz")
        alive = await site.stranger.get("/healthz")
        feed = await site.stranger.get(FEED)
    await proxy.restore()

    for page in (listing, home, created, signing_in):
        assert_plain_page(page)
    assert_json_503(by_cookie)
    assert_json_503(by_bearer)
    assert ready.status_code == 503
    assert alive.status_code == 200
    assert feed.status_code == 200
    assert "survivor" in feed.json()["flags"]
    assert await ai_models(db) == 0
    answered = [r for r in caplog.records if r.name == outage.__name__]
    assert len(answered) == 6  # one line for each 503 above, and only one
    assert all(r.levelno == logging.WARNING for r in answered)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert DSN_PASSWORD not in caplog.text
    assert "Traceback" not in caplog.text


async def test_pages_come_back_within_seconds_of_the_database_without_a_restart(
    site: Site, proxy: TcpProxy, db: AsyncSession
) -> None:
    await proxy.cut()
    assert (await site.browser.get(LIST)).status_code == 503
    assert (await site.program.get(ME)).status_code == 503
    await proxy.restore()

    restored = time.monotonic()
    while (await site.browser.get(LIST)).status_code != 200:
        assert time.monotonic() - restored < RECOVERY_LIMIT_S, "pages still failed after 5 s"
        await asyncio.sleep(0.1)
    created = await site.browser.post(
        "/admin/ai-models/create", data=MODEL_FORM | {"csrf_token": site.csrf}
    )

    assert time.monotonic() - restored < RECOVERY_LIMIT_S
    assert (await site.program.get(ME)).status_code == 200
    assert (await site.stranger.get("/readyz")).status_code == 200
    assert created.status_code == 302
    assert await ai_models(db) == 1


async def test_a_connection_lost_in_the_middle_of_a_query_is_a_503(
    site: Site, proxy: TcpProxy, clean_database: Database
) -> None:
    async with locked(clean_database, "ai_models") as blocker:
        waiting = asyncio.create_task(site.browser.get(LIST))
        await until_a_query_waits_on(blocker, "ai_models")
        await proxy.cut()
        listing = await waiting
    await proxy.restore()

    assert_plain_page(listing)


def test_an_os_error_outside_the_database_is_not_taken_for_an_outage() -> None:
    with pytest.raises(FileNotFoundError) as raised:
        Path("/nonexistent/swipesavvy/file").read_text()

    assert outage.unavailability(raised.value) is None
