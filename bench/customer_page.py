"""The customer page at scale, against the plain indexed SQL behind it, in the same run.

Run against a PostgreSQL database filled by the scale seeding, e.g.

    swipesavvy-admin seed-demo --users 1000000        # DATABASE_URL pointing at it
    python bench/customer_page.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

Picks the customer with the most transactions (one untimed scan) and a few others at random;
with `--heavy N` it first adds (once) a customer with N transactions, which the scale seeding
never makes, so "10,000 transactions open as fast as ten" is measured too. Then, in rounds,
it times for each customer:

- the page, server side: `GET /admin/customers/{id}`, signed in, in-process ASGI;
- its parts as the page runs them: the header (customer, wallets, open tickets), the first
  timeline page, the money summary, the flags (from the in-memory snapshot);
- plain indexed SQL, one statement each: the customer by id, their wallets, the newest page
  of their largest wallet's transactions, their audit entries, the 90-day money totals.

The target: the page within 3x its slowest single plain query. Prints a Markdown table of
median and p95 milliseconds. Loopback only; every loop is bounded by a count.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from admin_views.customers import FlagColumn, flag_answers  # noqa: E402
from analytics import customer, timeline  # noqa: E402
from app import create_app  # noqa: E402
from bench import staff  # noqa: E402
from core.database import Database  # noqa: E402
from core.settings import load_settings  # noqa: E402
from flags.store import FlagStore  # noqa: E402
from models.base import utcnow  # noqa: E402
from models.payments import Wallet, WalletTransaction  # noqa: E402
from models.people import User  # noqa: E402

BENCH_EMAIL = "bench.customer@staff.example.com"
HEAVY_EMAIL = "bench.heavy.customer@example.com"
OTHERS = 4
"""Customers picked at random beside the one with the most transactions."""
PLAIN: dict[str, str] = {
    "customer by id": "SELECT * FROM users WHERE id = :user",
    "wallets": "SELECT * FROM wallets WHERE user_id = :user",
    "newest transactions": (
        "SELECT * FROM wallet_transactions WHERE wallet_id = :wallet "
        "ORDER BY created_at DESC, id DESC LIMIT 26"
    ),
    "audit entries": (
        "SELECT * FROM audit_logs WHERE entity_type = 'users' AND entity_id = :user_text "
        "ORDER BY created_at DESC, id DESC LIMIT 26"
    ),
    "money, 90 days": (
        "SELECT currency, sum(amount) FILTER (WHERE amount > 0), sum(amount) FILTER "
        "(WHERE amount < 0), count(*) FILTER (WHERE status = 'failed') "
        "FROM wallet_transactions WHERE wallet_id = :wallet "
        "AND created_at >= now() - interval '90 days' GROUP BY currency"
    ),
}
"""The plain indexed statements the page's answers rest on (the baseline)."""

Timings = dict[str, list[float]]


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def ensure_heavy(database: Database, count: int) -> None:
    """A customer with `count` posted deposits and purchases over two years, made once."""
    async with database.session() as db, db.begin():
        if await db.scalar(sa.select(User.id).where(User.email == HEAVY_EMAIL)):
            return
        user = User(email=HEAVY_EMAIL, first_name="Heavy", last_name="Bench", country="US")
        db.add(user)
        await db.flush()
        wallet = Wallet(user_id=user.id, currency="USD", balance=Decimal(count) * 5)
        db.add(wallet)
        await db.flush()
        now = utcnow()
        for start in range(0, count, 1000):
            batch = []
            for index in range(start, min(start + 1000, count)):
                made = now - timedelta(minutes=index * 97)
                credit = index % 2 == 0
                batch.append(
                    {
                        "id": uuid.uuid4(),
                        "reference": f"TXN-BENCH-{index:06d}-{uuid.uuid4().hex[:6]}",
                        "wallet_id": wallet.id,
                        "type": "deposit" if credit else "purchase",
                        "status": "posted",
                        "amount": Decimal("15.00") if credit else Decimal("-5.00"),
                        "fee": Decimal("0.00"),
                        "currency": "USD",
                        "description": "",
                        "posted_at": made,
                        "created_at": made,
                        "updated_at": made,
                    }
                )
            await db.execute(sa.insert(WalletTransaction), batch)


async def pick_customers(database: Database) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(customer, their largest wallet): the busiest customer first, then a random few."""
    async with database.session() as db:
        busiest = (
            await db.execute(
                sa.text(
                    "SELECT w.user_id, w.id FROM wallets w JOIN (SELECT wallet_id, count(*) n "
                    "FROM wallet_transactions GROUP BY wallet_id ORDER BY n DESC LIMIT 1) t "
                    "ON t.wallet_id = w.id"
                )
            )
        ).one()
        others = (
            await db.execute(
                sa.text(
                    "SELECT DISTINCT ON (user_id) user_id, id FROM wallets "
                    "WHERE user_id IN (SELECT user_id FROM wallets TABLESAMPLE BERNOULLI (1) "
                    "LIMIT :others)"
                ),
                {"others": OTHERS},
            )
        ).all()
    return [tuple(busiest), *(tuple(row) for row in others)]


async def parts(database: Database, store: FlagStore, user_id: uuid.UUID, times: Timings) -> None:
    """The page's own answers, one by one, as it runs them."""
    async with database.session() as db:
        wallet_ids: list[uuid.UUID] = []

        async def header() -> None:
            user = await db.get(User, user_id)
            assert user is not None
            wallet_ids[:] = [w.id for w in await customer.wallets(db, user_id)]
            await customer.open_tickets(db, user_id)

        times.setdefault("page part: header", []).append(await timed(header))
        kinds = frozenset(timeline.Kind)
        times.setdefault("page part: first timeline page", []).append(
            await timed(lambda: timeline.page(db, user_id, wallet_ids, kinds))
        )
        times.setdefault("page part: money summary", []).append(
            await timed(lambda: customer.money_summary(db, wallet_ids, utcnow()))
        )
        user = await db.get(User, user_id)
        columns = [FlagColumn(name, "") for name in ("android", "ios", "web")]

        async def flags() -> None:
            flag_answers(store, user, columns)

        times.setdefault("page part: flags", []).append(await timed(flags))


async def plain(
    database: Database, user_id: uuid.UUID, wallet_id: uuid.UUID, times: Timings
) -> None:
    values = {"user": user_id, "user_text": str(user_id), "wallet": wallet_id}
    async with database.session() as db:
        for name, statement in PLAIN.items():
            clause = sa.text(statement)
            wanted = {key: value for key, value in values.items() if f":{key}" in statement}
            spent = await timed(lambda c=clause, w=wanted: db.execute(c, w))
            times.setdefault(f"plain SQL: {name}", []).append(spent)


async def opened(client: httpx.AsyncClient, url: str) -> None:
    page = await client.get(url)
    assert page.status_code == 200, (url, page.status_code)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def table(title: str, times: Timings) -> float:
    """Print one customer's figures; the slowest plain query's median, in seconds."""
    print(f"\n{title}\n")
    print("| what | median ms | p95 ms |")
    print("|---|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median * 1000:.1f} | {p95(values) * 1000:.1f} |")
    return max(statistics.median(v) for k, v in times.items() if k.startswith("plain SQL"))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1/bench")
    parser.add_argument("--rounds", type=int, default=20, help="rounds per customer (max 100)")
    parser.add_argument(
        "--heavy", type=int, default=0, help="add a customer with this many transactions (once)"
    )
    args = parser.parse_args()
    rounds = min(args.rounds, 100)
    # Warnings only: at INFO, httpx logs a line per request and drowns the tables.
    settings = replace(
        load_settings(), database_url=args.database_url, bcrypt_rounds=4, log_level="WARNING"
    )
    database = Database(settings)
    store = FlagStore(database)
    await store.refresh(force=True)
    if args.heavy:
        await ensure_heavy(database, min(args.heavy, 100_000))
    picked = await pick_customers(database)
    async with database.session() as db:
        people = await db.scalar(sa.text("SELECT count(*) FROM users"))
        busiest = await db.scalar(
            sa.text("SELECT count(*) FROM wallet_transactions WHERE wallet_id = :w"),
            {"w": picked[0][1]},
        )
    print(f"{people:,} customers; the busiest wallet holds {busiest:,} transactions")
    password = await staff.bench_staff(database, BENCH_EMAIL, "Customer Page Bench")
    app = create_app(settings)
    await app.state.flags.refresh(force=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        signed = await client.post(
            "/admin/login", data={"username": BENCH_EMAIL, "password": password}
        )
        assert signed.status_code == 302, signed.text[:300]
        for index, (user_id, wallet_id) in enumerate(picked):
            times: Timings = {}
            for round_number in range(rounds + 2):
                page = await timed(lambda u=user_id: opened(client, f"/admin/customers/{u}"))
                record = await timed(lambda u=user_id: opened(client, f"/admin/users/details/{u}"))
                await parts(database, store, user_id, times)
                await plain(database, user_id, wallet_id, times)
                if round_number >= 2:  # the first two warm the templates and the pool
                    times.setdefault("the page, server side", []).append(page)
                    times.setdefault("for scale: the generic record page", []).append(record)
                else:
                    times.clear()
            title = "busiest customer" if index == 0 else f"random customer {index}"
            slowest = table(f"{title} ({user_id})", times)
            page_median = statistics.median(times["the page, server side"])
            record = statistics.median(times["for scale: the generic record page"])
            print(
                f"\npage / slowest plain query: {page_median / slowest:.1f}x (target 3x); "
                f"page / generic record page: {page_median / record:.2f}x"
            )
    await app.state.database.dispose()
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
