"""Every worker's snapshot follows changes within a second, and serves through an outage."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from app import create_app
from core.database import Database
from core.settings import Settings
from flags.snapshot import REVISION_KEY, stored_revision
from models import FeatureFlag, RuntimeSetting
from tests import staff
from tests.databases import TEST_SECRET_KEY
from tests.tcp_proxy import TcpProxy, through_proxy
from tests.test_processes import free_port, running, wait_until_up

FEED = "/api/feature-flags/mobile/active"


async def add_flag(database: Database, key: str, **values: object) -> None:
    async with database.session() as db, db.begin():
        db.add(
            FeatureFlag(key=key, name=key, enabled=True, rollout_percentage=Decimal(100), **values)
        )


async def set_enabled(database: Database, key: str, enabled: bool) -> None:
    async with database.session() as db, db.begin():
        flag = await db.scalar(sa.select(FeatureFlag).where(FeatureFlag.key == key))
        flag.enabled = enabled


async def test_every_change_bumps_the_revision_in_its_own_transaction(
    clean_database: Database,
) -> None:
    await add_flag(clean_database, "launch")
    async with clean_database.session() as db:
        after_create = await stored_revision(db)
    await set_enabled(clean_database, "launch", False)
    with contextlib.suppress(Exception):
        async with clean_database.session() as db, db.begin():
            flag = await db.scalar(sa.select(FeatureFlag).where(FeatureFlag.key == "launch"))
            flag.enabled = True
            await db.flush()
            raise RuntimeError("roll back")
    async with clean_database.session() as db:
        revision = await stored_revision(db)
        row = await db.scalar(sa.select(RuntimeSetting).where(RuntimeSetting.key == REVISION_KEY))

    assert after_create == 1
    assert revision == 2
    assert row.is_secret is False


async def test_an_action_in_the_admin_reaches_the_feed(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, clean_database: Database
) -> None:
    await add_flag(clean_database, "kill-me", platforms=[])
    await app.state.flags.refresh()
    assert "kill-me" in (await client.get(FEED)).json()["flags"]
    await staff.signed_in(client, await staff.make_staff(db, "superadmin"))
    flag_id = await db.scalar(sa.select(FeatureFlag.id))
    token = await staff.csrf_token(client)

    await client.post(
        "/admin/feature-flags/action/disable", data={"pks": str(flag_id), "csrf_token": token}
    )
    await app.state.flags.refresh()

    assert "kill-me" not in (await client.get(FEED)).json()["flags"]


@pytest.fixture
async def running_store(app: Starlette) -> AsyncIterator[Starlette]:
    await app.state.flags.refresh(force=True)
    task = asyncio.create_task(app.state.flags.run())
    yield app
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_a_running_worker_refreshes_within_a_second(
    running_store: Starlette, client: httpx.AsyncClient, clean_database: Database
) -> None:
    await add_flag(clean_database, "fresh", platforms=[])
    await asyncio.sleep(1.0)
    assert "fresh" in (await client.get(FEED)).json()["flags"]

    await set_enabled(clean_database, "fresh", False)
    changed = time.monotonic()
    while "fresh" in (await client.get(FEED)).json()["flags"]:
        assert time.monotonic() - changed < 1.0, "the worker did not see the change within 1 s"
        await asyncio.sleep(0.02)


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY and the outage proxy are PostgreSQL's")


async def test_the_feed_serves_its_last_snapshot_while_the_database_is_away(
    postgres_only: None, settings: Settings, clean_database: Database, proxy: TcpProxy
) -> None:
    await add_flag(clean_database, "survivor", platforms=[])
    app = create_app(through_proxy(settings, proxy.port))
    app.state.flags.stale_after_s = 0.2
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert await app.state.flags.refresh(force=True)
        await proxy.cut()
        failed = await app.state.flags.refresh()
        await asyncio.sleep(0.3)
        during = await client.get(FEED)
        ofrep = await client.post("/ofrep/v1/evaluate/flags/survivor", json={"context": {}})
        ready = await client.get("/readyz")
        await proxy.restore()
        recovered = await app.state.flags.refresh()
        after = await client.get(FEED)
    await app.state.database.dispose()

    assert failed is False
    assert during.status_code == 200
    assert "survivor" in during.json()["flags"]
    assert during.json()["stale"] is True
    assert ofrep.json()["metadata"]["stale"] is True
    assert ready.status_code == 503
    assert recovered is True
    assert "stale" not in after.json()


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {"DATABASE_URL": settings.database_url, "SECRET_KEY": str(TEST_SECRET_KEY)}
    with running(["serve", "--port", str(port), "--workers", "2"], env, tmp_path) as process:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process)
        yield base


async def fresh_answers(base: str, n: int) -> list[dict]:
    """`n` answers over new connections, so the kernel spreads them over the workers."""
    answers = []
    for _ in range(n):
        async with httpx.AsyncClient(base_url=base) as client:
            answers.append((await client.get(FEED)).json())
    return answers


async def test_two_real_workers_both_follow_a_change_within_a_second(
    postgres_only: None, clean_database: Database, workers: str
) -> None:
    await add_flag(clean_database, "multi", platforms=[])
    deadline = time.monotonic() + 10
    while not all("multi" in a["flags"] for a in await fresh_answers(workers, 10)):
        assert time.monotonic() < deadline

    await set_enabled(clean_database, "multi", False)
    changed = time.monotonic()
    while any("multi" in a["flags"] for a in await fresh_answers(workers, 10)):
        assert time.monotonic() - changed < 1.0, "a worker still served the old flag after 1 s"
    answers = await fresh_answers(workers, 30)

    assert not any("multi" in a["flags"] for a in answers)
    assert len({a["revision"] for a in answers}) == 1
