"""Evaluation counts: every answer the feed and OFREP give is counted, per flag, environment,
variant and hour, exactly, without a database write per request, and kept up to the last
write when a worker stops or crashes; the flag's page charts them."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from app import create_app
from core.database import Database
from core.settings import Settings
from flags.engine import Context, evaluate, parse_version
from flags.usage import variant_of
from models.base import utcnow
from models.flag_usage import FlagEvaluationCount
from models.flags import FeatureFlag
from tests import staff

FEED = "/api/feature-flags/mobile/active"
BULK = "/ofrep/v1/evaluate/flags"
USERS = 60


@pytest.fixture
async def flags(db: AsyncSession) -> None:
    db.add_all(
        [
            FeatureFlag(key="always", name="Always", enabled=True, rollout_percentage=Decimal(100)),
            FeatureFlag(key="never", name="Never", enabled=False),
            FeatureFlag(
                key="split",
                name="Split",
                enabled=True,
                rollout_percentage=Decimal(50),
                variants=[
                    {"name": "blue", "weight": 50, "payload": "#00f"},
                    {"name": "green", "weight": 50, "payload": "#0f0"},
                ],
            ),
        ]
    )
    await db.commit()


async def stored(db: AsyncSession) -> Counter[tuple[str, str, str]]:
    rows = await db.execute(
        sa.select(
            FlagEvaluationCount.flag_key,
            FlagEvaluationCount.environment,
            FlagEvaluationCount.variant,
            sa.func.sum(FlagEvaluationCount.count),
        ).group_by(
            FlagEvaluationCount.flag_key,
            FlagEvaluationCount.environment,
            FlagEvaluationCount.variant,
        )
    )
    db.expire_all()
    return Counter({(key, env, variant): int(n) for key, env, variant, n in rows.all()})


async def ask(client: httpx.AsyncClient, users: range) -> None:
    for n in users:
        await client.get(FEED, params={"user_id": f"user-{n}", "platform": "ios"})
        context = {"targetingKey": f"user-{n}", "platform": "android", "appVersion": "4.2.0"}
        await client.post(BULK, json={"context": context})
    await client.post(f"{BULK}/split", json={"context": {}})


def expected(app: Starlette, users: range) -> Counter[tuple[str, str, str]]:
    """The same questions put to the engine directly."""
    served = app.state.flags.snapshot.of("production")
    now = utcnow()
    counts: Counter[tuple[str, str, str]] = Counter()
    contexts = [
        context
        for n in users
        for context in (
            Context(f"user-{n}", "ios"),
            Context(f"user-{n}", "android", parse_version("4.2.0")),
        )
    ]
    for context in contexts:
        for flag in served.flags:
            counts[(flag.key, "production", variant_of(evaluate(flag, context, now)))] += 1
    counts[("split", "production", "error")] += 1  # no targeting key for a split
    return counts


async def test_every_answer_is_counted_exactly_with_no_write_per_request(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, flags: None
) -> None:
    await app.state.flags.refresh(force=True)
    statements: list[str] = []
    engine = app.state.database.engine.sync_engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        await ask(client, range(USERS))
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    written = await app.state.flags.usage.flush_if_due(app.state.database, force=True)

    counts = await stored(db)
    assert statements == []
    assert counts == expected(app, range(USERS))
    assert counts[("split", "production", "blue")] > 0
    assert counts[("split", "production", "green")] > 0
    assert counts[("never", "production", "off")] == 2 * USERS
    assert written == len(counts)


async def test_counts_add_up_across_writes_and_survive_a_restart_up_to_the_last_write(
    settings: Settings, clean_database: Database, db: AsyncSession, flags: None
) -> None:
    first = create_app(settings)
    await first.state.flags.refresh(force=True)
    transport = httpx.ASGITransport(app=first)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await ask(client, range(10))
        await first.state.flags.usage.flush_if_due(first.state.database, force=True)
        await ask(client, range(10, 20))
        await first.state.flags.usage.flush_if_due(first.state.database, force=True)
        await ask(client, range(20, 30))  # counted, never written: the worker crashes
    await first.state.database.dispose()

    second = create_app(settings)
    await second.state.flags.refresh(force=True)
    # Without LISTEN: the loop is stopped mid-connect otherwise, leaving a connection to
    # the garbage collector; this test is about the loop's last write.
    second.state.database.listen_url = None
    runner = asyncio.create_task(second.state.flags.run())
    await asyncio.sleep(0.1)  # the refresh loop is running, as it is under the app's lifespan
    transport = httpx.ASGITransport(app=second)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await ask(client, range(30, 35))
    runner.cancel()  # a graceful stop writes what the worker counted
    with pytest.raises(asyncio.CancelledError):
        await runner
    await second.state.database.dispose()

    batches = (range(10), range(10, 20), range(30, 35))
    written = sum((expected(first, users) for users in batches), Counter())
    assert await stored(db) == written


async def test_the_flags_page_charts_its_answers_per_environment(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, flags: None
) -> None:
    await app.state.flags.refresh(force=True)
    await ask(client, range(5))
    await app.state.flags.usage.flush_if_due(app.state.database, force=True)
    account = await staff.make_staff(db, "marketing")
    await staff.signed_in(client, account)
    split = await db.scalar(sa.select(FeatureFlag.id).where(FeatureFlag.key == "split"))
    never = await db.scalar(sa.select(FeatureFlag.id).where(FeatureFlag.key == "never"))
    await db.execute(sa.delete(FlagEvaluationCount).where(FlagEvaluationCount.flag_key == "never"))
    await db.commit()

    page = (await client.get(f"/admin/feature-flags/details/{split}")).text
    unused = (await client.get(f"/admin/feature-flags/details/{never}")).text

    assert 'id="flag-evaluations"' in page
    assert 'data-environment="production"' in page
    assert "11 in 48 h" in page  # 5 feed, 5 bulk, 1 single evaluation
    assert page.count("<rect ") == 48
    assert "Not evaluated yet: no app has asked the feed or OFREP for this flag." in unused
