"""What a staff page costs the server: ours against stock SQLAdmin over the same database.

    python bench/page_cost.py                      # a fresh SQLite with 2,000 demo customers
    python bench/page_cost.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

Two uvicorn processes, one worker each, on loopback: our app as `serve` builds it (without
its background jobs, which would burn CPU being measured) and stock SQLAdmin's `ModelView`s
over the same models (`bench/admin_screens_stock.py`). For each page, `--rounds` rounds; in
each round both servers answer `--requests` requests in turn (ours first in odd rounds, stock
first in even ones, so drift hits both alike). A page's cost is the server's CPU time (user +
system, from `/proc/<pid>/stat`) over the round divided by its requests; the wall time is the
client's. Reported: the median over rounds of CPU ms per request, median wall ms, and the
answer's size. A page slower than 5 s (stock's lists at a million rows) is timed once and
reported as such, not measured in rounds. Every answer is checked before measuring (status,
and the row the page must show).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.admin_screens import BENCH_EMAIL, bench_settings, server  # noqa: E402
from bench.admin_screens import bench_staff as make_bench_staff  # noqa: E402
from bench.admin_screens_stock import create_stock_app  # noqa: E402
from core.database import Database  # noqa: E402

TICK_S = 1 / os.sysconf("SC_CLK_TCK")
TIMEOUT_S = 120
SLOW_S = 5.0
"""A page slower than this once is timed once, not measured a hundred times."""


@dataclass(frozen=True)
class Page:
    name: str
    ours: str
    stock: str | None
    shows: str
    """Text our answer must hold (the row the page is about)."""
    stock_shows: str = "details/"
    """Text stock's must hold: a row's link on a list, the row on a record page."""


@dataclass
class Cost:
    cpu_ms: list[float]
    wall_ms: list[float]
    size: int
    once_s: float | None = None
    """Set for a page too slow to measure in rounds: its one answer's seconds (infinite when
    it did not answer within the client's timeout)."""


def stock_app() -> Starlette:
    """Stock SQLAdmin over `DATABASE_URL`, for uvicorn's `--factory`."""
    url = os.environ["DATABASE_URL"]
    if url.startswith("sqlite:"):
        url = url.replace("sqlite:", "sqlite+aiosqlite:", 1)
    return create_stock_app(create_async_engine(url))


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


async def pages(database_url: str) -> list[Page]:
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        user = (
            await connection.execute(
                sa.text("SELECT id, email FROM users ORDER BY created_at DESC LIMIT 1")
            )
        ).one()
        ticket = await connection.scalar(
            sa.text("SELECT reference FROM support_tickets ORDER BY created_at DESC LIMIT 1")
        )
        txn = await connection.scalar(
            sa.text("SELECT reference FROM wallet_transactions ORDER BY created_at DESC LIMIT 1")
        )
    await engine.dispose()
    user_id = str(user.id)
    hex_id = user_id.replace("-", "")
    # SQLite stores UUIDs as 32 hex digits; the pages speak the dashed form.
    dashed = (
        f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"
        if "-" not in user_id
        else user_id
    )
    return [
        Page("users list", "/admin/users/list", "/admin/user/list", user.email),
        Page(
            "user detail",
            f"/admin/users/details/{dashed}",
            f"/admin/user/details/{dashed}",
            user.email,
            user.email,
        ),
        Page(
            "users, exact email search",
            f"/admin/users/list?search={user.email}",
            f"/admin/user/list?search={user.email}",
            user.email,
            user.email,
        ),
        Page(
            "transactions list",
            "/admin/wallet-transactions/list",
            "/admin/wallet-transaction/list",
            str(txn),
        ),
        Page("tickets list", "/admin/support-tickets/list", "/admin/support-ticket/list", ticket),
        Page("customer page", f"/admin/customers/{dashed}", None, user.email),
    ]


def measure(client: httpx.Client, pid: int, url: str, requests: int) -> tuple[float, float]:
    walls = []
    before = cpu_s(pid)
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        walls.append(time.perf_counter() - started)
    return (cpu_s(pid) - before) / requests * 1000, statistics.median(walls) * 1000


def check(client: httpx.Client, url: str, shows: str) -> int:
    answer = client.get(url)
    if answer.status_code != 200 or shows not in answer.text:
        raise SystemExit(f"{url} answered {answer.status_code} without {shows!r}")
    return len(answer.content)


@contextmanager
def demo_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        environment = os.environ | {"DATABASE_URL": url, "SECRET_KEY": "b" * 48}
        cli = [str(Path(sys.executable).parent / "swipesavvy-admin")]
        subprocess.run([*cli, "migrate"], env=environment, check=True, cwd=ROOT)
        subprocess.run(
            [*cli, "seed-demo", "--users", "2000"], env=environment, check=True, cwd=ROOT
        )
        yield url


def run(database_url: str, rounds: int, requests: int) -> None:
    secret = secrets.token_urlsafe(32)
    settings = bench_settings(database_url, secret)
    password = asyncio.run(_bench_staff(settings))
    shown = asyncio.run(pages(database_url))
    with ExitStack() as stack:
        ours_base, ours = stack.enter_context(server(database_url, secret))
        stock_base, stock = stack.enter_context(
            server(database_url, secret, factory="bench.page_cost:stock_app", ready="/admin/")
        )
        ours_client = stack.enter_context(httpx.Client(base_url=ours_base, timeout=TIMEOUT_S))
        stock_client = stack.enter_context(httpx.Client(base_url=stock_base, timeout=TIMEOUT_S))
        signed = ours_client.post(
            "/admin/login", data={"username": BENCH_EMAIL, "password": password}
        )
        assert signed.status_code == 302, signed.text[:300]
        results: dict[str, dict[str, Cost]] = {}
        for page in shown:
            sides = {"ours": (ours_client, ours.pid, page.ours, page.shows)}
            if page.stock:
                sides["stock"] = (stock_client, stock.pid, page.stock, page.stock_shows)
            costs = {}
            for side, (client, _, url, shows) in sides.items():
                started = time.perf_counter()
                try:
                    size = check(client, url, shows)
                except httpx.TimeoutException:
                    costs[side] = Cost([], [], 0, once_s=float("inf"))
                    continue
                if (spent := time.perf_counter() - started) > SLOW_S:
                    costs[side] = Cost([], [], size, once_s=spent)
                    continue
                for _ in range(5):
                    client.get(url)
                costs[side] = Cost([], [], size)
            for number in range(rounds):
                order = list(sides) if number % 2 == 0 else list(reversed(sides))
                for side in (side for side in order if costs[side].once_s is None):
                    client, pid, url, _ = sides[side]
                    cpu, wall = measure(client, pid, url, requests)
                    costs[side].cpu_ms.append(cpu)
                    costs[side].wall_ms.append(wall)
            results[page.name] = costs
            print(f"measured {page.name}", file=sys.stderr, flush=True)
    print(table(results))


async def _bench_staff(settings: object) -> str:
    database = Database(settings)  # type: ignore[arg-type]
    try:
        return await make_bench_staff(database)
    finally:
        await database.dispose()


def table(results: dict[str, dict[str, Cost]]) -> str:
    lines = [
        "| page | ours CPU ms | stock CPU ms | ratio | ours wall ms | stock wall ms "
        "| ours kB | stock kB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, costs in results.items():
        ours, stock = costs["ours"], costs.get("stock")
        cpu = {side: cost_of(cost, "cpu_ms") for side, cost in costs.items()}
        wall = {side: cost_of(cost, "wall_ms") for side, cost in costs.items()}
        ratio = "—"
        if stock and ours.once_s is None and stock.once_s is None:
            ratio = f"{statistics.median(ours.cpu_ms) / statistics.median(stock.cpu_ms):.2f}x"
        lines.append(
            f"| {name} | {cpu['ours']} | {cpu.get('stock', '—')} "
            f"| {ratio} | {wall['ours']} | {wall.get('stock', '—')} "
            f"| {size_of(ours)} | {size_of(stock) if stock else '—'} |"
        )
    return "\n".join(lines)


def cost_of(cost: Cost, kind: str) -> str:
    if cost.once_s is not None:
        if kind == "cpu_ms":
            return "—"
        return f"> {TIMEOUT_S} s" if cost.once_s == float("inf") else f"{cost.once_s:,.1f} s once"
    return f"{statistics.median(getattr(cost, kind)):.1f}"


def size_of(cost: Cost) -> str:
    return "—" if cost.once_s == float("inf") else f"{cost.size / 1000:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a seeded database (default: fresh SQLite)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    if args.database_url:
        run(args.database_url, args.rounds, args.requests)
        return
    with demo_database() as url:
        run(url, args.rounds, args.requests)


if __name__ == "__main__":
    main()
