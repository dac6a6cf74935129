"""In production the flag feed and OFREP stay closed until an app key exists, unless
FLAGS_PUBLIC says the flags are public; startup says which in one line."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from app import create_app
from audit import trail
from core.database import Database
from core.settings import Environment, Settings
from flags.client_keys import create_key, revoke_key
from tests import rows
from tests.command_line import invoke

FEED = "/api/feature-flags/mobile/active"
BULK = "/ofrep/v1/evaluate/flags"
ONE = "/ofrep/v1/evaluate/flags/everyone"
CONFIGURATION = "/ofrep/v1/configuration"
PUBLIC = "https://flags.example.com"
STRONG_KEY = "k" * 20 + "Q7r2-x9Lp0aZ3mN8vB1c"
PRODUCTION = {
    "env": Environment.PRODUCTION,
    "allowed_hosts": ("flags.example.com",),
    "public_url": PUBLIC,
}


@asynccontextmanager
async def started(settings: Settings, **overrides: Any) -> AsyncIterator[Starlette]:
    """The app through its real startup (which loads the flags and logs the line)."""
    app = create_app(replace(settings, **overrides))
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def mobile_app(app: Starlette, key: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"x-api-key": key} if key else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC, headers=headers) as client:
        yield client


async def answers(client: httpx.AsyncClient) -> list[int]:
    """The status of the feed, OFREP's bulk and single evaluation, and OFREP's configuration."""
    return [
        (await client.get(FEED, params={"platform": "ios"})).status_code,
        (await client.post(BULK, json={"context": {"targetingKey": "u1"}})).status_code,
        (await client.post(ONE, json={"context": {"targetingKey": "u1"}})).status_code,
        (await client.get(CONFIGURATION)).status_code,
    ]


@pytest.fixture
async def everyone(db: AsyncSession) -> None:
    flag = rows.flag_row(key="everyone", platforms=[], rollout_percentage=Decimal(100))
    await rows.insert(db, "feature_flags", flag)
    await db.commit()


@pytest.mark.usefixtures("everyone")
async def test_production_refuses_without_a_key_until_one_exists(settings: Settings) -> None:
    async with started(settings, **PRODUCTION) as app, mobile_app(app) as anyone:
        feed = await anyone.get(FEED)
        bulk = await anyone.post(BULK, json={})

        assert await answers(anyone) == [401, 401, 401, 200]
        assert feed.json() == {
            "error": "unauthorized",
            "message": "Send this app's key in X-API-Key.",
        }
        assert bulk.json()["errorCode"] == "UNAUTHORIZED"


@pytest.mark.usefixtures("everyone")
async def test_once_a_key_exists_production_answers_it(
    settings: Settings, db: AsyncSession
) -> None:
    async with started(settings, **PRODUCTION) as app:
        key = await create_key(db, "ios-production", trail.SYSTEM)
        await db.commit()
        await app.state.flags.refresh()
        async with mobile_app(app, key) as keyed, mobile_app(app) as anyone:
            with_key = await answers(keyed)
            without = await answers(anyone)
            body = (await keyed.get(FEED)).json()

    assert with_key == [200, 200, 200, 200]
    assert without == [401, 401, 401, 200]
    assert body["flags"]["everyone"]["enabled"] is True


@pytest.mark.usefixtures("everyone")
async def test_flags_public_opens_production_until_a_key_exists(
    settings: Settings, db: AsyncSession
) -> None:
    async with started(settings, flags_public=True, **PRODUCTION) as app:
        async with mobile_app(app) as anyone:
            before = await answers(anyone)
        await create_key(db, "ios-production", trail.SYSTEM)
        await db.commit()
        await app.state.flags.refresh()
        async with mobile_app(app) as anyone:
            after = await answers(anyone)

    assert before == [200, 200, 200, 200]
    assert after == [401, 401, 401, 200]


@pytest.mark.usefixtures("everyone")
async def test_development_answers_anyone_until_a_key_exists(settings: Settings) -> None:
    async with started(settings) as app, mobile_app(app) as anyone:
        assert await answers(anyone) == [200, 200, 200, 200]


async def issue_and_revoke(db: AsyncSession, *, keep: bool) -> None:
    await create_key(db, "ios-production", trail.SYSTEM)
    await create_key(db, "old-android", trail.SYSTEM)
    await revoke_key(db, "old-android", trail.SYSTEM)
    if not keep:
        await revoke_key(db, "ios-production", trail.SYSTEM)
    await db.commit()


@pytest.mark.parametrize(
    ("overrides", "keys", "level", "line"),
    [
        (
            PRODUCTION,
            None,
            logging.WARNING,
            "Flag feed and OFREP: closed, production with no app key issued; issue one with "
            "`swipesavvy-admin flags create-key --name NAME`, or set FLAGS_PUBLIC=true.",
        ),
        (
            PRODUCTION | {"flags_public": True},
            None,
            logging.INFO,
            "Flag feed and OFREP: open to anyone until an app key is issued (FLAGS_PUBLIC is "
            "set), answering with the production environment's flags.",
        ),
        (
            {},
            None,
            logging.INFO,
            "Flag feed and OFREP: open to anyone until an app key is issued (the server runs "
            "in development), answering with the production environment's flags.",
        ),
        (
            PRODUCTION | {"flags_public": True},
            True,
            logging.INFO,
            "Flag feed and OFREP: an app key is required (1 working); each key reads its own "
            "environment.",
        ),
        (
            PRODUCTION | {"flags_public": True},
            False,
            logging.WARNING,
            "Flag feed and OFREP: every app key issued is revoked, so every app is refused; "
            "make a key for each app.",
        ),
    ],
    ids=["production closed", "production public", "development", "keys issued", "all revoked"],
)
async def test_startup_says_in_one_line_whom_the_doors_answer(
    settings: Settings,
    db: AsyncSession,
    caplog: pytest.LogCaptureFixture,
    overrides: dict[str, Any],
    keys: bool | None,
    level: int,
    line: str,
) -> None:
    """`keys`: None when none was issued, else whether one still works."""
    if keys is not None:
        await issue_and_revoke(db, keep=keys)
    caplog.set_level(logging.INFO, logger="app")
    async with started(settings, **overrides):
        pass

    said = [r for r in caplog.records if r.getMessage().startswith("Flag feed and OFREP")]
    assert [(r.levelno, r.getMessage()) for r in said] == [(level, line)]


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        ({}, "no keys: the flag endpoints are open\n"),
        (
            {"ENV": "production", "SECRET_KEY": STRONG_KEY},
            "no keys: the flag endpoints are closed (production, FLAGS_PUBLIC off)\n",
        ),
        (
            {"ENV": "production", "SECRET_KEY": STRONG_KEY, "FLAGS_PUBLIC": "true"},
            "no keys: the flag endpoints are open\n",
        ),
    ],
    ids=["development", "production", "production, public"],
)
async def test_listing_no_keys_says_whether_the_doors_are_open(
    settings: Settings, clean_database: Database, environ: dict[str, str], said: str
) -> None:
    result = await invoke(settings, "flags", "list-keys", **environ)

    assert result.exit_code == 0, result.output
    assert result.stdout == said
