"""The users and transactions screens at scale: ours against stock SQLAdmin and raw SQL.

Run against a PostgreSQL database filled by the scale seeding, e.g.

    swipesavvy-admin seed-demo --users 1000000        # DATABASE_URL pointing at it
    python bench/admin_screens.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

For `users` and `wallet_transactions` it times the default list, page 1,000, a search for
one exact email (a transaction reference for the ledger), a search for a name fragment, a
status filter, a date-range filter, a detail page and an export of about 100,000 rows, each
in three ways, interleaved in every round so drift hits all alike:

- **ours**: the real app (`app.create_app`) in-process through `httpx.ASGITransport`, signed
  in as a superadmin (`bench.screens@staff.example.com`, made or re-keyed by this script:
  the only row it writes);
- **stock**: stock SQLAdmin `ModelView`s over the same models (`bench/admin_screens_stock.py`)
  on a bare Starlette app, same URLs in stock's parameter names. Stock has no date range
  (`greater_than` the first day instead) and its export ignores filters, so its export is
  its own `export_max_rows = 100_000`; the uncapped stock export of all users is tried once;
- **raw**: the SQL the page needs on the same engine: its rows (ORDER BY, LIMIT/OFFSET) and
  the COUNT(*) stock runs; for a detail page the row; for an export, every row.

Each request runs once to warm up (its answer checked: status, the expected row on the
page, the exported row count), then `--runs` times (at most 10; 3 when a warm-up took
over 5 s, 1 over 20 s); a run over 60 s ends that column of the scenario ("> 60 s").
Prints a Markdown table of medians and p95 (nearest rank: with up to 20 runs, the slowest).

Then it serves the app with uvicorn on loopback (one worker; the app without its background
jobs, which would write rollups into the benchmark database), signs in, streams
`/admin/users/export/csv` (1,000,000 rows) to nowhere within 15 minutes while sampling the
server's RSS every 50 ms, and prints the baseline and peak RSS, the duration and row count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench import staff  # noqa: E402
from bench.admin_screens_stock import CAPPED_ROWS, create_stock_app  # noqa: E402
from core.database import Database  # noqa: E402
from core.settings import Settings, load_settings  # noqa: E402

BENCH_EMAIL = "bench.screens@staff.example.com"
HOST = "127.0.0.1"
PAGE_SIZE = 25
DEEP_PAGE = 1_000
EXPORT_ROWS = 100_000
LIMIT_S = 60.0
"""A single run longer than this ends its column of the scenario."""
SLOW_WARMUP_S = 5.0
SLOW_RUNS = 3
VERY_SLOW_WARMUP_S = 20.0
VERY_SLOW_RUNS = 1
MAX_RUNS = 10
EXPORT_LIMIT_S = 15 * 60
SAMPLE_S = 0.05
NO_ENV_FILE = Path("/nonexistent/.env")


@dataclass
class Table:
    """What differs between the two tables' screens."""

    name: str
    ours: str
    stock: str
    capped: str
    key: str
    """The column whose value identifies a row on a page (email, reference)."""
    search_columns: tuple[str, ...]
    status: str
    fragment: str


USERS = Table(
    "users", "users", "user", "user-capped", "email", ("email", "first_name", "last_name", "phone"),
    "suspended", "Sanc",
)  # fmt: skip
TRANSACTIONS = Table(
    "wallet_transactions", "wallet-transactions", "wallet-transaction",
    "wallet-transaction-capped", "reference", ("reference", "description"), "failed", "ashb",
)  # fmt: skip


@dataclass
class Raw:
    """The SQL a page needs: a WHERE, and whether it pages, counts or reads everything."""

    where: str
    params: dict[str, Any]
    offset: int = 0
    export: bool = False
    detail: bool = False


@dataclass
class Scenario:
    table: Table
    name: str
    ours: str
    stock: str | None
    raw: Raw
    stock_offset: int = 0
    stock_note: str = ""
    ours_rows: int | None = None
    stock_rows: int | None = None


@dataclass
class Column:
    times: list[float] = field(default_factory=list)
    over: bool = False
    failed: str = ""


@dataclass
class Result:
    scenario: Scenario
    columns: dict[str, Column] = field(
        default_factory=lambda: {"ours": Column(), "stock": Column(), "raw": Column()}
    )


# Sign-in and data ----------------------------------------------------------------------


async def bench_staff(database: Database) -> str:
    return await staff.bench_staff(database, BENCH_EMAIL, "Screens Bench")


async def days_of(engine: AsyncEngine, table: str) -> list[tuple[date, int]]:
    """Rows per UTC day of `created_at`, oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                f"SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) "  # noqa: S608
                f"FROM {table} GROUP BY 1 ORDER BY 1"
            )
        )
        return [(day, int(n)) for day, n in rows]


def window_near(days: list[tuple[date, int]], target: int) -> tuple[date, date, int]:
    """The run of whole days whose rows come closest to `target`."""
    best = (days[-1][0], days[-1][0], days[-1][1])
    for start in range(len(days)):
        total = 0
        for end in range(start, len(days)):
            total += days[end][1]
            if abs(total - target) < abs(best[2] - target):
                best = (days[start][0], days[end][0], total)
            if total >= target:
                break
    return best


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(sa.text(sql), params)).scalar()


async def scenarios(engine: AsyncEngine, table: Table) -> list[Scenario]:
    t = table.name
    days = await days_of(engine, t)
    last = days[-1][0]
    week_start = last - timedelta(days=6)
    export_from, export_to, export_rows = window_near(days, EXPORT_ROWS)
    print(
        f"{t}: {sum(n for _, n in days):,} rows; export window {export_from}..{export_to} "
        f"holds {export_rows:,} rows"
    )
    sample = await scalar(
        engine,
        f"SELECT {table.key} FROM {t} ORDER BY created_at DESC OFFSET 12345 LIMIT 1",  # noqa: S608
    )
    some_id = await scalar(
        engine,
        f"SELECT id FROM {t} ORDER BY created_at DESC OFFSET 54321 LIMIT 1",  # noqa: S608
    )
    matching = await scalar(
        engine,
        f"SELECT count(*) FROM (SELECT 1 FROM {t} WHERE "  # noqa: S608
        + " OR ".join(f"{c} ILIKE :p" for c in table.search_columns)
        + " LIMIT 100000) AS m",
        p=f"%{table.fragment}%",
    )
    print(f"{t}: exact term {sample!r}, fragment {table.fragment!r} ({matching:,}+ rows)")
    fragment_where = "(" + " OR ".join(f"{c} ILIKE :p" for c in table.search_columns) + ")"
    in_days = "created_at >= :start AND created_at < :end"

    def days_params(first: date, last_day: date) -> dict[str, Any]:
        return {
            "start": _midnight(first),
            "end": _midnight(last_day + timedelta(days=1)),
        }

    def ours(path: str, **query: Any) -> str:
        url = f"/admin/{table.ours}/{path}"
        return url + (f"?{urlencode(query)}" if query else "")

    def stock(path: str, identity: str = table.stock, **query: Any) -> str:
        url = f"/admin/{identity}/{path}"
        if path == "list":
            query["pageSize"] = PAGE_SIZE  # stock shows 10 a page unless asked
        return url + (f"?{urlencode(query)}" if query else "")

    deep = (DEEP_PAGE - 1) * PAGE_SIZE
    after = f"{week_start.isoformat()}T00:00:00+00:00"
    return [
        Scenario(table, "default list", ours("list"), stock("list"), Raw("TRUE", {})),
        Scenario(
            table, "page 1,000", ours("list", page=DEEP_PAGE), stock("list", page=DEEP_PAGE),
            Raw("TRUE", {}, offset=deep), stock_offset=deep,
        ),
        Scenario(
            table, f"search exact {table.key}", ours("list", search=sample),
            stock("list", search=sample), Raw(f"{table.key} = :v", {"v": sample}),
        ),
        Scenario(
            table, f"search fragment {table.fragment!r}", ours("list", search=table.fragment),
            stock("list", search=table.fragment),
            Raw(fragment_where, {"p": f"%{table.fragment}%"}),
        ),
        Scenario(
            table, f"status = {table.status}", ours("list", status=table.status),
            stock("list", status=table.status), Raw("status = :s", {"s": table.status}),
        ),
        Scenario(
            table, f"created {week_start}..{last}",
            ours("list", created_at_from=week_start.isoformat(), created_at_to=last.isoformat()),
            stock("list", created_at=after, created_at_op="greater_than"),
            Raw(in_days, days_params(week_start, last)),
            stock_note="stock: created_at greater_than the first day",
        ),
        Scenario(
            table, "detail page", ours(f"details/{some_id}"), stock(f"details/{some_id}"),
            Raw("id = :id", {"id": some_id}, detail=True),
        ),
        Scenario(
            table, f"export {export_rows:,} rows (CSV)",
            ours("export/csv", created_at_from=export_from.isoformat(),
                 created_at_to=export_to.isoformat()),
            stock("export/csv", identity=table.capped),
            Raw(in_days, days_params(export_from, export_to), export=True),
            stock_note=f"stock: export_max_rows={CAPPED_ROWS:,} (its export ignores filters)",
            ours_rows=export_rows, stock_rows=CAPPED_ROWS,
        ),
    ]  # fmt: skip


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# Timing --------------------------------------------------------------------------------


async def raw_run(engine: AsyncEngine, table: Table, raw: Raw) -> tuple[int, Any]:
    """Run the page's SQL; returns the rows read and the first row's key."""
    t = table.name
    async with engine.connect() as conn:
        if raw.detail:
            rows = (
                await conn.execute(sa.text(f"SELECT * FROM {t} WHERE {raw.where}"), raw.params)  # noqa: S608
            ).all()
            return len(rows), rows[0]._mapping[table.key] if rows else None
        order = f"SELECT * FROM {t} WHERE {raw.where} ORDER BY created_at DESC"  # noqa: S608
        if raw.export:
            rows = (await conn.execute(sa.text(order), raw.params)).all()
            return len(rows), None
        rows = (
            await conn.execute(
                sa.text(f"{order} LIMIT {PAGE_SIZE} OFFSET {raw.offset}"), raw.params
            )
        ).all()
        count = (
            await conn.execute(
                sa.text(f"SELECT count(*) FROM {t} WHERE {raw.where}"),  # noqa: S608
                raw.params,
            )
        ).scalar()
        return int(count or 0), rows[0]._mapping[table.key] if rows else None


async def stock_first(engine: AsyncEngine, scenario: Scenario) -> Any:
    """The key of the first row stock's page shows (stock sorts by primary key)."""
    t, raw = scenario.table.name, scenario.raw
    where = raw.where
    if scenario.stock and "created_at_op" in scenario.stock:
        where = "created_at > :start"
    sql = (
        f"SELECT {scenario.table.key} FROM {t} WHERE {where} "  # noqa: S608
        f"ORDER BY id LIMIT 1 OFFSET {scenario.stock_offset}"
    )
    return await scalar(engine, sql, **raw.params)


def check(
    scenario: Scenario, which: str, response: httpx.Response, expect: Any, rows: int | None
) -> str:
    """Why the answer is not what the scenario should show; empty when it is."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]!r}"
    if rows is not None:
        got = response.content.count(b"\n") - 1
        return "" if got == rows else f"exported {got:,} rows, expected {rows:,}"
    if expect is not None and str(expect) not in response.text:
        return f"{which}: the page does not show {expect!r}"
    if expect is None and not scenario.raw.detail:
        return f"{which}: no rows expected? (raw SQL found none)"
    return ""


async def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    async with asyncio.timeout(LIMIT_S):
        result = await work()
    return time.perf_counter() - started, result


async def run_scenario(
    scenario: Scenario,
    ours: httpx.AsyncClient,
    stock: httpx.AsyncClient,
    engine: AsyncEngine,
    runs: int,
) -> Result:
    result = Result(scenario)
    expect_ours: Any = None
    expect_stock: Any = None
    planned = runs
    for round_number in range(1 + MAX_RUNS):
        if round_number > planned:
            break
        for which in ("raw", "ours", "stock"):
            column = result.columns[which]
            if column.over or column.failed or (which == "stock" and scenario.stock is None):
                continue
            try:
                if which == "raw":
                    spent, (_, first) = await timed(
                        lambda: raw_run(engine, scenario.table, scenario.raw)
                    )
                    if round_number == 0:
                        expect_ours = first
                        if not scenario.raw.detail and not scenario.raw.export:
                            expect_stock = await stock_first(engine, scenario)
                        elif scenario.raw.detail:
                            expect_stock = first
                else:
                    client = ours if which == "ours" else stock
                    url = scenario.ours if which == "ours" else scenario.stock
                    spent, response = await timed(lambda c=client, u=url: c.get(u))
                    if round_number == 0:
                        rows = scenario.ours_rows if which == "ours" else scenario.stock_rows
                        expect = expect_ours if which == "ours" else expect_stock
                        column.failed = check(scenario, which, response, expect, rows)
                        if column.failed:
                            print(f"  ! {scenario.table.name} / {scenario.name}: {column.failed}")
                            continue
            except TimeoutError:
                column.over = True
                print(f"  ! {scenario.table.name} / {scenario.name} / {which}: > {LIMIT_S:.0f} s")
                continue
            except Exception as error:  # reported in the table; the rest runs
                column.failed = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
                print(f"  ! {scenario.table.name} / {scenario.name} / {which}: {column.failed}")
                continue
            if round_number == 0:
                if spent > VERY_SLOW_WARMUP_S:
                    planned = min(planned, VERY_SLOW_RUNS)
                elif spent > SLOW_WARMUP_S:
                    planned = min(planned, SLOW_RUNS)
            else:
                column.times.append(spent)
    return result


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def cell(column: Column) -> str:
    if column.failed:
        return "failed"
    if column.over and not column.times:
        return f"> {LIMIT_S:.0f} s"
    if not column.times:
        return "-"
    text = f"{statistics.median(column.times) * 1000:,.0f} / {p95(column.times) * 1000:,.0f}"
    return text + (" (then > 60 s)" if column.over else "")


def table_lines(results: list[Result]) -> list[str]:
    lines = [
        "| scenario | ours median/p95 ms | stock median/p95 ms | raw ms | ours vs stock (x) "
        "| ours - raw (ms) | runs |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        ours, stock, raw = (result.columns[k] for k in ("ours", "stock", "raw"))
        mine = statistics.median(ours.times) if ours.times and not ours.failed else None
        base = statistics.median(raw.times) if raw.times else None
        theirs = statistics.median(stock.times) if stock.times and not stock.failed else None
        if mine and stock.over and not stock.times:
            ratio = f"> {LIMIT_S / mine:,.0f}"
        elif mine and theirs:
            ratio = f"{theirs / mine:,.1f}"
        else:
            ratio = "-"
        gap = f"{(mine - base) * 1000:+,.0f}" if mine is not None and base is not None else "-"
        raw_text = f"{base * 1000:,.0f}" if base is not None else cell(raw)
        name = f"{result.scenario.table.name}: {result.scenario.name}"
        if result.scenario.stock_note:
            name += f" ({result.scenario.stock_note})"
        counts = "/".join(str(len(c.times)) for c in (ours, stock, raw))
        lines.append(
            f"| {name} | {cell(ours)} | {cell(stock)} | {raw_text} | {ratio} | {gap} | {counts} |"
        )
    return lines


# The in-process apps -------------------------------------------------------------------


def bench_settings(database_url: str, secret: str) -> Settings:
    return load_settings(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secret,
            "ENV": "development",
            "LOG_LEVEL": "WARNING",
            "BCRYPT_ROUNDS": "4",
            "DB_STATEMENT_TIMEOUT_MS": "900000",
        },
        env_file=NO_ENV_FILE,
    )


async def uncapped_stock_export(stock: httpx.AsyncClient) -> str:
    """Stock's export as it comes: every user, no limit. Tried once."""
    try:
        spent, response = await timed(lambda: stock.get("/admin/user/export/csv"))
    except TimeoutError:
        return f"> {LIMIT_S:.0f} s (abandoned)"
    rows = response.content.count(b"\n") - 1
    return f"{spent:,.1f} s, HTTP {response.status_code}, {rows:,} rows"


async def in_process(args: argparse.Namespace, settings: Settings) -> None:
    database = Database(settings)
    password = await bench_staff(database)
    engine = database.engine
    ours_app = create_app(settings)
    stock_app = create_stock_app(engine)
    gc.collect()
    gc.freeze()  # as the app's lifespan does once started
    base = "http://testserver"
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=ours_app), base_url=base) as ours,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=stock_app), base_url=base) as stock,
    ):
        signed = await ours.post(
            "/admin/login", data={"username": BENCH_EMAIL, "password": password}
        )
        assert signed.status_code == 302, signed.text[:300]
        results: list[Result] = []
        for table in (USERS, TRANSACTIONS):
            for scenario in await scenarios(engine, table):
                if args.only and args.only not in f"{table.name}: {scenario.name}":
                    continue
                started = time.monotonic()
                results.append(await run_scenario(scenario, ours, stock, engine, args.runs))
                print(
                    f"  {table.name} / {scenario.name}: {time.monotonic() - started:.0f} s",
                    flush=True,
                )
        uncapped = await uncapped_stock_export(stock) if args.uncapped else "not run"
    await ours_app.state.database.dispose()
    await database.dispose()
    print()
    print("\n".join(table_lines(results)))
    print(
        "\nruns = timed runs of ours/stock/raw after one warm-up; p95 is the nearest rank "
        "(the slowest of up to 20 runs)."
    )
    print(f"stock export of all 1,000,000 users (no limit, filters ignored): {uncapped}")


# The served app and its memory ---------------------------------------------------------


def served_app() -> Starlette:
    """The app as `serve` builds it, without its background jobs (the rollup refresh and
    the campaign schedule would write into the benchmark database and use the memory
    being measured); for uvicorn's `--factory`."""
    app = create_app()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await app.state.database.dispose()

    app.router.lifespan_context = lifespan
    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@contextmanager
def server(
    database_url: str,
    secret: str,
    factory: str = "bench.admin_screens:served_app",
    ready: str = "/healthz",
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A one-worker uvicorn on loopback serving `factory` (an app factory) over the
    database, once `ready` answers 200."""
    port = free_port()
    environment = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret,
        "ENV": "development",
        "LOG_LEVEL": "WARNING",
        "BCRYPT_ROUNDS": "4",
        "DB_STATEMENT_TIMEOUT_MS": "900000",
    }
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory",
        "--app-dir", str(ROOT), "--host", HOST, "--port", str(port),
        "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as cwd:
        process = subprocess.Popen(command, env=os.environ | environment, cwd=cwd)
        base = f"http://{HOST}:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(base + ready, timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the server did not come up")
                time.sleep(0.2)
            yield base, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def export_memory(database_url: str, password: str) -> None:
    secret = secrets.token_urlsafe(32)
    with (
        server(database_url, secret) as (base, process),
        httpx.Client(base_url=base, timeout=120) as client,
    ):
        signed = client.post("/admin/login", data={"username": BENCH_EMAIL, "password": password})
        assert signed.status_code == 302, signed.text[:300]
        assert client.get("/admin/users/list").status_code == 200
        time.sleep(1)
        baseline = rss_bytes(process.pid)
        peak = baseline
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.wait(SAMPLE_S):
                with contextlib.suppress(OSError):
                    peak = max(peak, rss_bytes(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        lines, size, status, finished = 0, 0, 0, True
        try:
            with client.stream("GET", "/admin/users/export/csv") as response:
                status = response.status_code
                for chunk in response.iter_bytes():
                    lines += chunk.count(b"\n")
                    size += len(chunk)
                    if time.monotonic() - started > EXPORT_LIMIT_S:
                        finished = False
                        break
        finally:
            spent = time.monotonic() - started
            stop.set()
            sampler.join()
    mb = 1024 * 1024
    print(
        f"\nexport of users under uvicorn (HTTP {status}): {max(lines - 1, 0):,} rows, "
        f"{size / mb:,.0f} MB in {spent:,.1f} s{'' if finished else ' (stopped at 15 min)'}; "
        f"server RSS baseline {baseline / mb:,.0f} MB, peak {peak / mb:,.0f} MB "
        f"(+{(peak - baseline) / mb:,.0f} MB), sampled every {SAMPLE_S * 1000:.0f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1/bench")
    parser.add_argument("--runs", type=int, default=7, help=f"timed runs (max {MAX_RUNS})")
    parser.add_argument("--only", default="", help="only scenarios whose name contains this")
    parser.add_argument("--skip-memory", action="store_true", help="no served-export run")
    parser.add_argument("--skip-screens", action="store_true", help="only the memory run")
    parser.add_argument(
        "--uncapped", action=argparse.BooleanOptionalAction, default=True,
        help="try stock's unlimited export of every user once",
    )  # fmt: skip
    args = parser.parse_args()
    args.runs = max(1, min(args.runs, MAX_RUNS))
    settings = bench_settings(args.database_url, secrets.token_urlsafe(32))
    if not args.skip_screens:
        await in_process(args, settings)
    if not args.skip_memory:
        database = Database(settings)
        password = await bench_staff(database)
        await database.dispose()
        await asyncio.to_thread(export_memory, args.database_url, password)


if __name__ == "__main__":
    asyncio.run(main())
