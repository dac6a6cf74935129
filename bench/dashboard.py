"""The dashboard's 90-day answers from rollups against the same answers from the raw tables.

Run against a PostgreSQL database filled by the scale seeding, e.g.

    swipesavvy-admin seed-demo --users 1000000        # DATABASE_URL pointing at it
    python bench/dashboard.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

It brings the rollups up to date first (timing that too), then, in interleaved rounds,
times each answer computed from the rollups (closed days stored, the open day live) and
straight from the raw tables, checks both give the same figures, and times the dashboard
page server side (the whole ASGI request, signed in, in-process). Prints a Markdown table.
Loopback only; every loop is bounded by a count.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics import cohorts, funnel, money, users  # noqa: E402
from analytics.period import Period  # noqa: E402
from analytics.refresh import refresh_database  # noqa: E402
from app import create_app  # noqa: E402
from bench import staff  # noqa: E402
from core.database import Database  # noqa: E402
from core.settings import load_settings  # noqa: E402
from models.base import utcnow  # noqa: E402
from models.payments import WalletTransaction  # noqa: E402
from models.people import (  # noqa: E402
    User,
)

DAYS = 90
BENCH_EMAIL = "bench.dashboard@staff.example.com"


@dataclass
class Timing:
    name: str
    rollups: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)


Answer = Callable[[Any, Period, bool], Awaitable[Any]]


async def overview(db: Any, period: Period, live: bool) -> Any:
    both = Period(period.previous().first, period.last)
    return [
        await users.user_activity(db, both, live=live),
        await money.money_flow(db, both, "USD", live=live),
    ]


async def revenue(db: Any, period: Period, live: bool) -> Any:
    return await money.money_flow(db, period, "USD", live=live)


async def funnel_steps(db: Any, period: Period, live: bool) -> Any:
    return await funnel.funnel(db, period, live=live)


async def retention(db: Any, period: Period, live: bool) -> Any:
    return await cohorts.cohorts(db, period, live=live)


ANSWERS: dict[str, Answer] = {
    "overview": overview,
    "revenue": revenue,
    "funnel": funnel_steps,
    "cohorts": retention,
}


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await work()
    return time.perf_counter() - started, result


async def bench_staff(database: Database) -> str:
    return await staff.bench_staff(database, BENCH_EMAIL, "Dashboard Bench")


async def page_times(settings: Any, password: str, runs: int) -> list[float]:
    app = create_app(replace(settings, bcrypt_rounds=4))
    transport = httpx.ASGITransport(app=app)
    times = []
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        signed = await client.post(
            "/admin/login", data={"username": BENCH_EMAIL, "password": password}
        )
        assert signed.status_code == 302, signed.text[:300]
        for _ in range(runs + 2):
            started = time.perf_counter()
            page = await client.get(f"/admin/?days={DAYS}")
            times.append(time.perf_counter() - started)
            assert page.status_code == 200, page.status_code
            assert 'id="kpis"' in page.text
    await app.state.database.dispose()
    return times[2:]  # the first two warm the templates and the pool


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1/bench")
    parser.add_argument("--rounds", type=int, default=7, help="rollup and page runs (max 30)")
    parser.add_argument("--raw-rounds", type=int, default=3, help="raw runs (max 10)")
    args = parser.parse_args()
    rounds, raw_rounds = min(args.rounds, 30), min(args.raw_rounds, 10)
    settings = replace(
        load_settings(), database_url=args.database_url, db_statement_timeout_ms=600_000
    )
    database = Database(settings)
    async with database.session() as db:
        people = await db.scalar(sa.select(sa.func.count()).select_from(User))
        postings = await db.scalar(sa.select(sa.func.count()).select_from(WalletTransaction))
    print(f"{people:,} users, {postings:,} transactions")

    seconds, done = await timed(lambda: refresh_database(database))
    print(f"refresh: {done.rows:,} rows in {seconds:.1f} s ({done.days}, weeks {done.weeks})")
    seconds, done = await timed(lambda: refresh_database(database))
    print(f"refresh again (settling days only): {done.rows:,} rows in {seconds:.1f} s")

    period = Period.ending(utcnow().date(), DAYS)
    timings = {name: Timing(name) for name in ANSWERS}
    for round_number in range(max(rounds, raw_rounds)):
        for name, answer in ANSWERS.items():
            async with database.session() as db:
                spent, stored = await timed(lambda a=answer, d=db: a(d, period, False))
                if round_number < rounds:
                    timings[name].rollups.append(spent)
                if round_number < raw_rounds:
                    spent, live = await timed(lambda a=answer, d=db: a(d, period, True))
                    timings[name].raw.append(spent)
                    assert stored == live, f"{name}: rollups and raw tables disagree"

    password = await bench_staff(database)
    page = await page_times(settings, password, rounds)
    await database.dispose()

    print()
    print("| 90-day answer | rollups median ms | raw median ms | speed-up |")
    print("|---|---:|---:|---:|")
    for timing in timings.values():
        fast, slow = statistics.median(timing.rollups), statistics.median(timing.raw)
        print(f"| {timing.name} | {fast * 1000:.1f} | {slow * 1000:.0f} | {slow / fast:.0f}x |")
    print(
        f"\ndashboard page (GET /admin/?days=90, server side): median "
        f"{statistics.median(page) * 1000:.0f} ms, max {max(page) * 1000:.0f} ms over {len(page)}"
    )
    print(f"(ran {timedelta(seconds=round(time.process_time()))} of CPU in this process)")


if __name__ == "__main__":
    asyncio.run(main())
