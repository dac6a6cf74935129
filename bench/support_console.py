"""The support console at scale: the search box, each kind of term, against plain indexed SQL.

Run against a PostgreSQL database filled by the scale seeding, e.g.

    swipesavvy-admin seed-demo --users 1000000        # DATABASE_URL pointing at it
    python bench/support_console.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

For each kind of term (an email, a phone number typed with punctuation, a customer's UUID,
a TXN- and a TCK- reference, four digits, a merchant's name, a customer's name fragment) it
times, interleaved in every round so drift hits all alike:

- **box**: `GET /api/v1/admin/search?q=` on the real app (`app.create_app`) in-process
  through `httpx.ASGITransport`, with a superadmin's bearer token (all nine tables searched;
  `bench.support@staff.example.com`, made or re-keyed here: the only row this script writes);
- **baseline**: for an exact kind, the same lookups as plain SQL, one statement per table the
  term's kind is declared on, run concurrently on the same engine (the box's own shape), each
  `LIMIT 6` over its index; for free text, the target the issue sets: the lists' own
  substring searches (`GET /admin/<table>/list?search=`) of the same nine tables, run
  concurrently, and, alone, the list of the table the term is aimed at.

Each runs once to warm up (the box's answer checked: the expected record among its hits),
then `--runs` times. Prints a Markdown table of medians and p95 (nearest rank).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from admin_views.shared.find_anything import GROUPS  # noqa: E402
from app import create_app  # noqa: E402
from bench.staff import bench_staff  # noqa: E402
from core.database import Database  # noqa: E402
from core.settings import load_settings  # noqa: E402

BENCH_EMAIL = "bench.support@staff.example.com"
LIMIT = 6
"""What the box asks of each table: its cap and one more, to know there are more."""

BY_EMAIL = (
    "SELECT * FROM users WHERE email = :v LIMIT 6",
    "SELECT w.* FROM wallets w JOIN users u ON u.id = w.user_id WHERE u.email = :v LIMIT 6",
    "SELECT t.* FROM support_tickets t JOIN users u ON u.id = t.user_id WHERE u.email = :v LIMIT 6",
    "SELECT p.* FROM payment_methods p JOIN users u ON u.id = p.user_id WHERE u.email = :v LIMIT 6",
    "SELECT * FROM merchants WHERE contact_email = :v LIMIT 6",
    "SELECT * FROM admin_users WHERE email = :v LIMIT 6",
)
BY_ID = tuple(
    f"SELECT * FROM {table} WHERE id = :v LIMIT 6"  # noqa: S608 - names from the tuple below
    for table in (
        "users",
        "wallets",
        "wallet_transactions",
        "support_tickets",
        "merchants",
        "admin_users",
        "payment_methods",
    )
)


@dataclass
class Kind:
    name: str
    term: str
    table: str
    """The group the expected record is in."""
    expected: str
    """The expected record's id."""
    raw: tuple[str, ...] = ()
    """Plain SQL, one statement per table (exact kinds)."""
    params: dict[str, Any] = field(default_factory=dict)
    list_slug: str = ""
    """For free text: the list the term is aimed at; the baseline is all nine lists."""
    box: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    aimed: list[float] = field(default_factory=list)


async def kinds(engine: AsyncEngine) -> list[Kind]:
    """Terms taken from the data: a customer who has a card and a ticket, their wallet's
    transaction, a merchant and a name fragment."""
    async with engine.connect() as connection:

        async def one(sql: str, **params: Any) -> Any:
            return (await connection.execute(sa.text(sql), params)).first()

        user = await one(
            "SELECT u.id, u.email, u.phone, u.last_name FROM users u "
            "JOIN support_tickets t ON t.user_id = u.id "
            "JOIN payment_methods p ON p.user_id = u.id "
            "WHERE u.phone IS NOT NULL ORDER BY u.created_at DESC LIMIT 1"
        )
        ticket = await one(
            "SELECT id, reference FROM support_tickets WHERE user_id = :u", u=user.id
        )
        card = await one("SELECT id, last_four FROM payment_methods WHERE user_id = :u", u=user.id)
        txn = await one(
            "SELECT t.id, t.reference FROM wallet_transactions t "
            "JOIN wallets w ON w.id = t.wallet_id WHERE w.user_id = :u LIMIT 1",
            u=user.id,
        )
        merchant = await one("SELECT id, name FROM merchants ORDER BY created_at LIMIT 1")
    digits = user.phone.removeprefix("+")
    typed_phone = f"+{digits[:-10]} ({digits[-10:-7]}) {digits[-7:-4]}-{digits[-4:]}"
    fragment = user.last_name[: max(4, len(user.last_name) - 1)]
    return [
        Kind("email", user.email, "users", str(user.id), BY_EMAIL, {"v": user.email}),
        Kind(
            "phone, typed with punctuation",
            typed_phone,
            "users",
            str(user.id),
            ("SELECT * FROM users WHERE phone IN (:v) LIMIT 6",),
            {"v": user.phone},
        ),
        Kind("customer UUID", str(user.id), "users", str(user.id), BY_ID, {"v": user.id}),
        Kind(
            "TXN- reference",
            txn.reference,
            "wallet_transactions",
            str(txn.id),
            ("SELECT * FROM wallet_transactions WHERE reference IN (:v) LIMIT 6",),
            {"v": txn.reference},
        ),
        Kind(
            "TCK- reference",
            ticket.reference,
            "support_tickets",
            str(ticket.id),
            ("SELECT * FROM support_tickets WHERE reference IN (:v) LIMIT 6",),
            {"v": ticket.reference},
        ),
        Kind(
            "four digits (card)",
            card.last_four,
            "payment_methods",
            str(card.id),
            (
                "SELECT * FROM payment_methods WHERE last_four = :v "
                "ORDER BY created_at DESC LIMIT 6",
            ),
            {"v": card.last_four},
        ),
        Kind(
            "merchant name",
            merchant.name,
            "merchants",
            str(merchant.id),
            list_slug="merchants",
        ),
        Kind("name fragment", fragment, "users", "", list_slug="users"),
    ]


async def raw_lookups(engine: AsyncEngine, kind: Kind) -> None:
    async def lookup(sql: str) -> None:
        async with engine.connect() as connection:
            (await connection.execute(sa.text(sql), kind.params)).all()

    await asyncio.gather(*(lookup(sql) for sql in kind.raw))


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = await call()
    return time.perf_counter() - started, answer


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:,.0f} / {p95(times) * 1000:,.0f}"


async def run(kind: Kind, box: httpx.AsyncClient, engine: AsyncEngine, runs: int) -> None:
    async def ask() -> httpx.Response:
        return await box.get("/api/v1/admin/search", params={"q": kind.term})

    async def listed(slug: str) -> None:
        page = await box.get(f"/admin/{slug}/list", params={"search": kind.term})
        assert page.status_code == 200, page.status_code

    async def baseline() -> None:
        if kind.list_slug:
            await asyncio.gather(*(listed(table.replace("_", "-")) for table in GROUPS))
        else:
            await raw_lookups(engine, kind)

    _, answer = await timed(ask)
    assert answer.status_code == 200, answer.text[:300]
    groups = {group["table"]: group for group in answer.json()["groups"]}
    found = groups.get(kind.table, {"hits": [], "searching": False})
    assert not found["searching"], f"{kind.name}: {kind.table} still searching on warm-up"
    if kind.expected:
        urls = [hit["url"] for hit in found["hits"]]
        assert any(url.endswith(kind.expected) for url in urls), f"{kind.name}: {urls}"
    else:
        assert found["hits"], f"{kind.name}: no {kind.table} hits"
    await baseline()
    for _ in range(runs):
        spent, answer = await timed(ask)
        assert answer.status_code == 200
        kind.box.append(spent)
        spent, _ = await timed(baseline)
        kind.baseline.append(spent)
        if kind.list_slug:
            spent, _ = await timed(lambda: listed(kind.list_slug))
            kind.aimed.append(spent)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1/bench")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", default="", help="only the kinds whose name contains this")
    args = parser.parse_args()
    # Warnings only: at INFO, httpx logs a line per request and drowns the table.
    settings = replace(load_settings(), database_url=args.database_url, log_level="WARNING")
    database = Database(settings)
    app = create_app(settings)
    async with database.engine.connect() as connection:
        people = await connection.scalar(sa.text("SELECT count(*) FROM users"))
        postings = await connection.scalar(sa.text("SELECT count(*) FROM wallet_transactions"))
    print(f"{people:,} users, {postings:,} transactions")
    password = await bench_staff(database, BENCH_EMAIL, "Bench Support")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        login = await client.post(
            "/api/v1/admin/auth/login", json={"email": BENCH_EMAIL, "password": password}
        )
        assert login.status_code == 200, login.text[:300]
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        signed = await client.post(
            "/admin/login", data={"username": BENCH_EMAIL, "password": password}
        )
        assert signed.status_code == 302, signed.text[:300]  # the lists take the session
        measured = [kind for kind in await kinds(database.engine) if args.only in kind.name]
        for kind in measured:
            await run(kind, client, database.engine, args.runs)
    await app.state.database.dispose()
    await database.dispose()

    print(f"\n{args.runs} runs after a warm-up; median / p95 ms\n")
    print("| term | box | baseline | baseline is | box - baseline | the aimed list alone |")
    print("|---|---:|---:|---|---:|---:|")
    for kind in measured:
        against = "the 9 lists' searches" if kind.list_slug else "plain indexed SQL"
        gap = (statistics.median(kind.box) - statistics.median(kind.baseline)) * 1000
        aimed = f"{kind.list_slug}: {ms(kind.aimed)}" if kind.aimed else "-"
        print(
            f"| {kind.name} `{kind.term}` | {ms(kind.box)} | {ms(kind.baseline)} | {against} "
            f"| {gap:+,.0f} | {aimed} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
