"""Load: staff browsing, the flag feed at a steady rate and a burst of sign-ins, all at once.

Against `swipesavvy-admin serve --workers 2` on PostgreSQL, for 60 s (`--seconds`, at most
120), from this one asyncio process over HTTP/1.1 keep-alive connections: httpx for the staff
(a client each, as a browser each), a small hand-written client for the feed (httpx spends
about 40 times the CPU per request, which on 2 cores is taken from the server being
measured; `--feed-client httpx` uses httpx anyway, to compare):

- 50 staff sessions (`--sessions`), each signed in once through the sign-in form before the
  window opens, then looping with 0.5-1.5 s of think time (seeded) over: the users list, a
  user's detail page, a search for an exact email, a search for a name fragment, the wallets
  list, transactions filtered to `failed`, the tickets list, page 2 of users, the dashboard;
- the mobile flag feed at 500 requests/s (`--feed-rate`), open loop: each request leaves at
  its scheduled time whether or not earlier ones have been answered, so a slow server shows
  as latency, not as less load. Real user ids (5% anonymous), platforms, versions and
  countries; a quarter are revalidations of an answer already held (`If-None-Match`);
- at half time (`--burst-at`), 20 sign-ins at once (`--burst`), each a different account,
  each from its own connection as from its own browser.

By default it creates the database `bench_load` (dropped first if it exists), migrates,
seeds 20,000 users (`--users`), brings the dashboard rollups up to date (so the workers'
start-up pass has little to do), adds 50 + 20 staff accounts (admin and support: no second
factor) sharing a password made for the run, hashed at the server's cost, and issues a flag
app key. `--database-url` reuses a seeded database at the newest revision instead (it is
not migrated; `serve` refuses an older one): the accounts are made or re-keyed, and the key
is revoked after the run. The server runs with ENV=production on a
free loopback port; the script waits for /readyz, signs the sessions in, warms up for 2 s,
then loads. Afterwards the server gets SIGTERM, and the database is dropped unless `--keep`
(a reused database is never dropped).

    python bench/load.py --quick    # smoke: 15 s, 10 sessions, 100 feed req/s, 2,000 users
    python bench/load.py            # the issue's run, about 3 minutes with the seeding

Prints requests and errors by kind, the feed's achieved rate and latency with no sign-ins
and during the burst, staff page latency overall and per page, the sign-ins' latency, the
CPU used by the server, its database backends, this process and the rest of the machine,
a 5-second timeline, then Markdown tables for bench/README.md. Loopback only; every loop is
bounded by a count or a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import random
import re
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import bcrypt
import httpx
import sqlalchemy as sa
import uvicorn
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audit import trail  # noqa: E402
from auth.middleware import cookie_name  # noqa: E402
from core.database import Database, database_url  # noqa: E402
from core.settings import DEFAULTS, INTEGER_SETTINGS, load_settings  # noqa: E402
from flags import client_keys  # noqa: E402
from models.people import AdminUser, Role  # noqa: E402

HOST = "127.0.0.1"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_load"
FEED = "/api/feature-flags/mobile/active"
LOGIN = "/admin/login"
MAX_SECONDS = 120
MAX_SESSIONS = 200
MAX_FEED_RATE = 2_000
MAX_BURST = 100
FEED_TIMEOUT_S = 10.0
PAGE_TIMEOUT_S = 30.0
SIGN_IN_TIMEOUT_S = 30.0
MAX_IN_FLIGHT = 2_000
"""Feed requests in flight beyond this are not sent but counted as dropped: the bound that
keeps an open loop against a stalled server from piling up tasks without end."""
MAX_PAGES_PER_SESSION = 1_000
DRAIN_S = 35.0
"""After the window, requests still in flight get this long (longer than any timeout)."""
READY_S = 90.0
STOP_S = 30.0
SETUP_TIMEOUT_S = 3_600.0
WARM_UP_S = 2.0
SIGN_IN_CONCURRENCY = 4
"""Sessions sign in four at a time before the window: bcrypt at cost 12 is the point of
the burst, not of the set-up."""
THINK_S = (0.5, 1.5)
REVALIDATE_SHARE = 0.25
ANONYMOUS_SHARE = 0.05
KNOWN_DEVICES = 5_000
FEED_CONNECTIONS = 64
"""At most this many feed requests at once on their own connections; more wait their turn."""
FEED_CONNECTIONS_OPENED = 16
"""Opened before the window and reused in turn, so the feed's load spreads over both
workers (the kernel hands each new connection to whichever worker accepts first)."""
FEED_CLIENTS = 8
"""With `--feed-client httpx`: several pools, for the same spread."""
SAMPLE_USERS = 5_000
BUCKET_S = 5.0
BURST_TAIL_S = 1.0
LAG_WARNING_S = 0.010
COST_PAGES = 8
COST_PROBES = 20
HEALTHZ = "healthz, kept alive"
STALL_S = 0.020
COST_IDLE_S = 2.0
COST_FEED = 400
COST_SIGN_INS = 2
KEEP_ALIVE_S = 4.0
"""A feed connection idle this long is not reused: uvicorn closes them after 5 s."""
PAGE_KINDS = (
    "users list",
    "user detail",
    "search email",
    "search name",
    "wallets list",
    "failed transactions",
    "tickets list",
    "users page 2",
    "dashboard",
)
PLATFORMS = ("ios",) * 9 + ("android",) * 9 + ("web",) * 2
VERSIONS = ("4.0.0", "4.1.0", "4.1.9", "4.2.0", "4.2.3", "4.3.1", "4.4.0", "4.5.2", "5.0.0")
COUNTRIES = ("US", "US", "US", "GB", "CA", "DE", "FR", "NG")
SERVER_SETTINGS = frozenset(INTEGER_SETTINGS) | {
    "ENV",
    "DATABASE_URL",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "LOG_LEVEL",
    "TOTP_REQUIRED_ROLES",
    "TRUSTED_PROXIES",
    "ALLOWED_HOSTS",
    "PUBLIC_URL",
    "FLAGS_PUBLIC",
}
"""Inherited variables that would change the served app: dropped, so a run is what it says."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# Configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    seconds: float
    sessions: int
    feed_rate: int
    burst: int
    burst_at: float
    users: int
    seed: int
    feed_client: str


@dataclass(frozen=True)
class Target:
    url: str
    name: str
    fresh: bool
    """Made by this run (and so dropped by it unless --keep)."""


def parse_args() -> tuple[Plan, Target, bool]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="reuse this migrated, seeded database")
    parser.add_argument("--users", type=int, help="users to seed (default 20,000; quick 2,000)")
    parser.add_argument(
        "--seconds", type=float, help=f"load window (default 60, max {MAX_SECONDS})"
    )
    parser.add_argument("--sessions", type=int, help="staff sessions (default 50)")
    parser.add_argument("--feed-rate", type=int, help="flag feed requests/s (default 500)")
    parser.add_argument("--burst", type=int, default=20, help="sign-ins at once (default 20)")
    parser.add_argument("--burst-at", type=float, help="seconds into the window (default half)")
    parser.add_argument("--seed", type=int, default=7, help="same seed, same choices")
    parser.add_argument("--quick", action="store_true", help="15 s, 10 sessions, 100 req/s")
    parser.add_argument("--keep", action="store_true", help="keep the database made")
    parser.add_argument(
        "--feed-client", choices=("raw", "httpx"), default="raw",
        help="the feed's HTTP client: hand-written over asyncio streams (default), or httpx",
    )  # fmt: skip
    args = parser.parse_args()
    quick = args.quick
    seconds = args.seconds or (15.0 if quick else 60.0)
    sessions = args.sessions or (10 if quick else 50)
    feed_rate = args.feed_rate or (100 if quick else 500)
    users = args.users or (2_000 if quick else 20_000)
    if not 1 <= seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be between 1 and {MAX_SECONDS}")
    if not 1 <= sessions <= MAX_SESSIONS:
        parser.error(f"--sessions must be between 1 and {MAX_SESSIONS}")
    if not 1 <= feed_rate <= MAX_FEED_RATE:
        parser.error(f"--feed-rate must be between 1 and {MAX_FEED_RATE}")
    if not 1 <= args.burst <= MAX_BURST:
        parser.error(f"--burst must be between 1 and {MAX_BURST}")
    burst_at = seconds / 2 if args.burst_at is None else args.burst_at
    if not 0 <= burst_at < seconds:
        parser.error("--burst-at must fall inside the window")
    plan = Plan(
        seconds, sessions, feed_rate, args.burst, burst_at, users, args.seed, args.feed_client
    )
    url = database_url(args.database_url or DEFAULT_URL)
    if url.get_backend_name() != "postgresql" or url.host not in (HOST, "localhost"):
        parser.error("the database must be PostgreSQL on loopback")
    name = url.database or ""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        parser.error(f"database name {name!r}: lower-case letters, digits and _ only")
    shown = url.render_as_string(hide_password=False)
    return plan, Target(shown, name, fresh=args.database_url is None), args.keep


# Setting up: database, data, accounts, key -----------------------------------------------


def cli_path() -> Path:
    found = Path(sys.executable).with_name("swipesavvy-admin")
    if not found.is_file():
        raise SystemExit(f"{found} not found: install the project into this virtualenv")
    return found


def clean_environment(**settings: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k not in SERVER_SETTINGS}
    return inherited | settings


async def run_cli(arguments: Sequence[str], environment: dict[str, str], cwd: Path) -> str:
    """One `swipesavvy-admin` command; its last lines on failure, its output otherwise."""
    done = await asyncio.to_thread(
        subprocess.run,
        [str(cli_path()), *arguments],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
        raise SystemExit(f"swipesavvy-admin {' '.join(arguments)} failed:\n{tail}")
    return done.stdout.strip()


def maintenance_url(target: Target) -> URL:
    return database_url(target.url).set(database="postgres")


async def recreate_database(target: Target) -> None:
    engine = create_async_engine(maintenance_url(target), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)'))
            await conn.execute(sa.text(f'CREATE DATABASE "{target.name}"'))
    finally:
        await engine.dispose()


async def drop_database(target: Target) -> None:
    engine = create_async_engine(maintenance_url(target), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


@dataclass
class Catalog:
    """What the simulated people ask about, read from the seeded data."""

    users: list[tuple[str, str, str]]
    """(id, email, last name) of a sample of users."""
    user_count: int
    flag_count: int
    postgres: str


async def read_catalog(database: Database, seed: int) -> Catalog:
    async with database.session() as db:
        rows = (
            await db.execute(
                sa.text(
                    "SELECT id::text, email, last_name FROM users "
                    "ORDER BY md5(id::text || :seed) LIMIT :n"
                ),
                {"seed": str(seed), "n": SAMPLE_USERS},
            )
        ).all()
        users = int(await db.scalar(sa.text("SELECT count(*) FROM users")) or 0)
        flags = int(await db.scalar(sa.text("SELECT count(*) FROM feature_flags")) or 0)
        version = str(await db.scalar(sa.text("SHOW server_version")))
    if not rows:
        raise SystemExit("the database has no users: seed it (swipesavvy-admin seed-demo)")
    return Catalog([(r[0], r[1], r[2]) for r in rows], users, flags, version)


def account_emails(plan: Plan) -> tuple[list[str], list[str]]:
    browsing = [f"load.staff{n:03d}@staff.example.com" for n in range(plan.sessions)]
    burst = [f"load.burst{n:03d}@staff.example.com" for n in range(plan.burst)]
    return browsing, burst


async def staff_accounts(database: Database, emails: list[str], password_hash: str) -> None:
    """Make or re-key the accounts, alternately admin and support: roles that see users,
    wallets, transactions, tickets and the dashboard, and need no second factor."""
    async with database.session() as db, db.begin():
        roles = {name: role_id for name, role_id in await db.execute(sa.select(Role.name, Role.id))}
        found = {
            account.email: account
            for account in await db.scalars(sa.select(AdminUser).where(AdminUser.email.in_(emails)))
        }
        for n, email in enumerate(emails):
            role_id = roles["admin" if n % 2 == 0 else "support"]
            account = found.get(email)
            if account is None:
                full_name = email.split("@")[0].replace(".", " ").title()
                db.add(
                    AdminUser(
                        email=email,
                        full_name=full_name,
                        password_hash=password_hash,
                        role_id=role_id,
                        is_active=True,
                    )
                )
                continue
            account.password_hash = password_hash
            account.role_id = role_id
            account.is_active = True
            account.totp_secret = None
            account.locked_until = None
            account.failed_login_count = 0
            account.lockout_count = 0


async def issue_key(database: Database) -> tuple[str, str]:
    name = f"bench-load-{secrets.token_hex(4)}"
    async with database.session() as db, db.begin():
        key = await client_keys.create_key(db, name, trail.Actor(email="bench/load.py"))
    return name, key


async def revoke_key(database: Database, name: str) -> None:
    async with database.session() as db, db.begin():
        await client_keys.revoke_key(db, name, trail.Actor(email="bench/load.py"))


# The server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    port: int
    log: Path
    workers: list[int] = field(default_factory=list)


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state is [0], ppid [1])."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float | None:
    fields = proc_stat(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = proc_stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def spawn(
    command: list[str], environment: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            command, env=environment, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT
        )


async def start_server(environment: dict[str, str], cwd: Path) -> Server:
    port = free_port()
    log = cwd / "server.log"
    command = [str(cli_path()), "serve", "--workers", "2", "--host", HOST, "--port", str(port)]
    process = spawn(command, environment, cwd, log)
    server = Server(process, f"http://{HOST}:{port}", port, log)
    deadline = time.monotonic() + READY_S
    async with httpx.AsyncClient(base_url=server.base, timeout=2) as client:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/readyz")).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                await stop_server(server)
                raise SystemExit(f"the server did not become ready:\n{tail(log, 20)}")
            await asyncio.sleep(0.25)
        # /readyz answers once one worker is up; uvicorn starts them one by one.
        while time.monotonic() < deadline:
            workers = [c for c in children_of(process.pid) if "spawn_main" in command_line(c)]
            if len(workers) >= 2:
                server.workers = workers
                break
            await asyncio.sleep(0.25)
        else:
            await stop_server(server)
            raise SystemExit("the server did not start two workers")
    return server


async def stop_server(server: Server) -> int | None:
    """SIGTERM to the supervisor (it stops its workers), then wait; kill only if stuck."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, STOP_S)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, STOP_S)
    for pid in server.workers:
        if "spawn_main" in command_line(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # a worker its supervisor left behind
    return process.returncode


def tail(log: Path, lines: int) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def connections_per_worker(server: Server) -> dict[int, int]:
    """Established connections to the server's port held by each worker, from /proc."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                local_port = int(parts[1].rsplit(":", 1)[1], 16)
                if local_port == server.port and parts[3] == "01":
                    inodes.add(parts[9])
    counts = {}
    for pid in server.workers:
        held = 0
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        held += 1
        counts[pid] = held
    return counts


# CPU accounting --------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuSnapshot:
    at: float
    client: float
    server: dict[int, float]
    backends: dict[int, float]
    machine_busy: float
    """CPU seconds the whole machine spent not idle, all cores together."""


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> float:
    first = Path("/proc/stat").read_text().splitlines()[0].split()
    ticks = [int(v) for v in first[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS


def snapshot(server: Server, backend_pids: Sequence[int]) -> CpuSnapshot:
    pids = [server.process.pid, *server.workers]
    return CpuSnapshot(
        at=time.monotonic(),
        client=client_cpu(),
        server={pid: cpu_seconds(pid) or 0.0 for pid in pids},
        backends={pid: cpu_seconds(pid) or 0.0 for pid in backend_pids},
        machine_busy=machine_busy(),
    )


async def backend_pids(database: Database, name: str) -> list[int]:
    """The PostgreSQL backends serving the benchmark database, except this script's own."""
    async with database.session() as db:
        rows = await db.execute(
            sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        return [int(r[0]) for r in rows]


# Recording -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    stream: str
    """feed, page or sign-in."""
    kind: str
    """The page kind; for the feed the status answered; for sign-ins, burst."""
    at: float
    """Seconds into the window it was due (feed) or sent (others)."""
    latency: float
    error: str
    """Empty when the answer was the expected one; else its kind."""
    lag: float = 0.0
    """Feed only: how late the request left against its schedule (the client's own delay)."""
    detail: str = ""
    """For an error: the path asked and what went wrong, for the report."""


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    retries: Counter[str] = field(default_factory=Counter)
    """Requests sent again once because the server had just closed the kept-alive
    connection they went out on, as browsers and mobile HTTP stacks do (RFC 9112, 9.3.1)."""

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)


def failure(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "timeout"
    return f"connection error ({type(exc).__name__})"


async def timed(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    recorder: Recorder | None = None,
    **kwargs: Any,
) -> tuple[httpx.Response | None, float, str, str]:
    """The answer, its latency, the error kind and its message (both empty when answered)."""
    started = time.perf_counter()
    for attempt in range(2):
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.RemoteProtocolError as exc:
            # "Server disconnected without sending a response": a kept-alive connection
            # the server closed as this request went out; a GET may be sent again once.
            if attempt == 0 and method == "GET" and recorder is not None:
                recorder.retries[url.split("?")[0]] += 1
                continue
            return None, time.perf_counter() - started, failure(exc), str(exc)[:120]
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            return None, time.perf_counter() - started, failure(exc), str(exc)[:120]
        return response, time.perf_counter() - started, "", ""
    raise AssertionError("unreachable: the loop returns")


def new_client(base: str, timeout: float, connections: int = 1) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base,
        timeout=timeout,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        headers={"user-agent": "bench/load.py"},
    )


def session_cookie(response: httpx.Response, name: str) -> str | None:
    # httpx's cookie jar keeps a Secure cookie from going out over http://, so in production
    # mode the script carries the session cookie itself, as the TLS proxy's client side would.
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar and jar[name].value:
            return jar[name].value
    return None


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str, cookie: str
) -> tuple[str | None, float, str, str]:
    response, latency, error, detail = await timed(
        client, "POST", LOGIN, data={"username": email, "password": password}
    )
    if response is None:
        return None, latency, error, detail
    token = session_cookie(response, cookie)
    if response.status_code != 302 or token is None:
        return None, latency, f"HTTP {response.status_code} (sign-in refused)", email
    return token, latency, "", ""


# The staff sessions ----------------------------------------------------------------------


def page_url(kind: str, rng: random.Random, catalog: Catalog) -> str:
    user_id, email, last_name = rng.choice(catalog.users)
    return {
        "users list": "/admin/users/list",
        "user detail": f"/admin/users/details/{user_id}",
        "search email": "/admin/users/list?" + urlencode({"search": email}),
        "search name": "/admin/users/list?" + urlencode({"search": last_name[:4]}),
        "wallets list": "/admin/wallets/list",
        "failed transactions": "/admin/wallet-transactions/list?status=failed",
        "tickets list": "/admin/support-tickets/list",
        "users page 2": "/admin/users/list?page=2",
        "dashboard": "/admin/",
    }[kind]


async def browse(
    client: httpx.AsyncClient,
    rng: random.Random,
    catalog: Catalog,
    recorder: Recorder,
    t0: float,
    end: float,
) -> None:
    loop = asyncio.get_running_loop()
    start = rng.randrange(len(PAGE_KINDS))
    # Sessions start spread over one think time, not all at the window's first instant.
    await asyncio.sleep(rng.uniform(0, THINK_S[1]))
    for n in range(MAX_PAGES_PER_SESSION):
        if loop.time() >= end:
            return
        kind = PAGE_KINDS[(start + n) % len(PAGE_KINDS)]
        url = page_url(kind, rng, catalog)
        at = loop.time() - t0
        response, latency, error, detail = await timed(client, "GET", url, recorder)
        if response is not None and response.status_code != 200:
            error = f"HTTP {response.status_code}"
        recorder.add(Sample("page", kind, at, latency, error, detail=f"{url} {detail}"[:200]))
        think = rng.uniform(*THINK_S)
        if loop.time() + think >= end:
            return
        await asyncio.sleep(think)


# The flag feed ---------------------------------------------------------------------------


class FeedMix:
    """Who asks: new questions from a realistic spread of users and devices, and devices
    asking again with the ETag of the answer they hold."""

    def __init__(self, rng: random.Random, user_ids: list[str]) -> None:
        self.rng = rng
        self.user_ids = user_ids
        self.known: list[str] = []
        self.etags: dict[str, str] = {}

    def next(self) -> tuple[str, str | None]:
        if self.known and self.rng.random() < REVALIDATE_SHARE:
            query = self.rng.choice(self.known)
            return query, self.etags[query]
        params = {
            "platform": self.rng.choice(PLATFORMS),
            "app_version": self.rng.choice(VERSIONS),
            "attr.country": self.rng.choice(COUNTRIES),
        }
        if self.rng.random() >= ANONYMOUS_SHARE:
            params["user_id"] = self.rng.choice(self.user_ids)
        return urlencode(params), None

    def remember(self, query: str, etag: str) -> None:
        if query not in self.etags:
            if len(self.known) < KNOWN_DEVICES:
                self.known.append(query)
            else:
                slot = self.rng.randrange(KNOWN_DEVICES)
                del self.etags[self.known[slot]]
                self.known[slot] = query
        self.etags[query] = etag


@dataclass(frozen=True)
class Answer:
    status: int
    etag: str | None
    body: bytes


class ClosedBeforeAnswerError(ConnectionError):
    """The server closed the connection before one byte of the answer."""


class RawFeedClient:
    """The feed's client: HTTP/1.1 keep-alive over asyncio streams, written by hand.

    httpx costs about 1.2 ms of CPU a request on this machine against about 30 us for this
    (measured against a bare uvicorn app); at 500 requests/s httpx alone would take some 0.6
    of the 2 cores the server is being measured on. Pages and sign-ins, at a few dozen a
    second, keep httpx. Connections are reused in turn (first idle, first used), so requests
    spread over every connection, and the connections over both workers. Like any HTTP
    stack, it drops connections idle for longer than the server keeps them, and sends a
    request again, on a new connection, when a reused one turns out closed.
    """

    def __init__(self, port: int, key: str, connections: int, recorder: Recorder) -> None:
        self.port = port
        self.key = key
        self.gate = asyncio.Semaphore(connections)
        self.idle: deque[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = deque()
        self.recorder = recorder

    async def open(self, count: int) -> None:
        opened = await asyncio.gather(
            *(asyncio.open_connection(HOST, self.port) for _ in range(count))
        )
        now = time.monotonic()
        self.idle.extend((reader, writer, now) for reader, writer in opened)

    def _kept(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """The longest-idle connection the server has not yet timed out, if any."""
        while self.idle:
            reader, writer, since = self.idle.popleft()
            if time.monotonic() - since < KEEP_ALIVE_S and not reader.at_eof():
                return reader, writer
            writer.close()
        return None

    async def get(self, path: str, headers: dict[str, str]) -> Answer:
        lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{self.port}", "User-Agent: bench/load.py"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        async with self.gate:
            for attempt in range(2):
                kept = self._kept() if attempt == 0 else None
                reader, writer = kept or await asyncio.open_connection(HOST, self.port)
                try:
                    answer, keep = await self._exchange(reader, writer, request)
                except ClosedBeforeAnswerError:
                    writer.close()
                    if kept is not None:
                        self.recorder.retries[FEED] += 1
                        continue
                    raise
                except BaseException:  # timeouts and cancellation too: the stream is spent
                    writer.close()
                    raise
                if keep:
                    self.idle.append((reader, writer, time.monotonic()))
                else:
                    writer.close()
                return answer
        raise AssertionError("unreachable: the loop returns or raises")

    @staticmethod
    async def _exchange(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> tuple[Answer, bool]:
        try:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise ClosedBeforeAnswerError("closed before the answer") from None
            raise
        except ConnectionResetError:
            raise ClosedBeforeAnswerError("reset before the answer") from None
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
        keep = fields.get("connection", "").lower() != "close"
        if status in (204, 304) or status < 200:
            body = b""
        elif "content-length" in fields:
            body = await reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            body = await read_chunked(reader)
        else:
            body, keep = await reader.read(), False
        return Answer(status, fields.get("etag"), body), keep

    async def close(self) -> None:
        while self.idle:
            _, writer, _ = self.idle.popleft()
            writer.close()


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    for _ in range(100_000):  # bounded: a feed answer is a few kB
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
    raise ValueError("a chunked answer without end")


class HttpxFeedClient:
    """The feed through httpx (`--feed-client httpx`), several pools in turn."""

    def __init__(self, base: str, key: str, recorder: Recorder) -> None:
        self.key = key
        self.clients = [
            new_client(base, FEED_TIMEOUT_S, connections=64) for _ in range(FEED_CLIENTS)
        ]
        self.turn = 0
        self.recorder = recorder

    async def open(self, count: int) -> None:
        # One request per client opens its first connection; the pools grow on demand.
        del count
        await asyncio.gather(*(c.get("/healthz") for c in self.clients))

    async def get(self, path: str, headers: dict[str, str]) -> Answer:
        self.turn = (self.turn + 1) % len(self.clients)
        client = self.clients[self.turn]
        for attempt in range(2):
            try:
                response = await client.get(path, headers=headers)
            except httpx.RemoteProtocolError:
                if attempt == 0:
                    self.recorder.retries[FEED] += 1
                    continue
                raise
            return Answer(response.status_code, response.headers.get("etag"), response.content)
        raise AssertionError("unreachable: the loop returns or raises")

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


FeedClient = RawFeedClient | HttpxFeedClient


async def feed_one(
    client: FeedClient, mix: FeedMix, key: str, recorder: Recorder, due: float, t0: float
) -> None:
    query, etag = mix.next()
    headers = {"X-API-Key": key}
    if etag:
        headers["If-None-Match"] = etag
    path = f"{FEED}?{query}"
    lag = asyncio.get_running_loop().time() - due
    started = time.perf_counter()
    kind, error, detail = "-", "", ""
    try:
        async with asyncio.timeout(FEED_TIMEOUT_S):
            answer = await client.get(path, headers)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, httpx.TransportError) as exc:
        error, detail = failure(exc), f"{path} {exc}"[:200]
    else:
        kind = str(answer.status)
        expected = (200, 304) if etag else (200,)
        if answer.status not in expected:
            error, detail = f"HTTP {answer.status}", path
        elif answer.status == 200 and not answer.body.startswith(b'{"revision"'):
            error, detail = "HTTP 200, not a feed", f"{path} {answer.body[:80]!r}"
        elif answer.status == 200 and answer.etag:
            mix.remember(query, answer.etag)
    latency = time.perf_counter() - started
    recorder.add(Sample("feed", kind, due - t0, latency, error, lag, detail))


async def feed(
    client: FeedClient,
    mix: FeedMix,
    key: str,
    recorder: Recorder,
    t0: float,
    seconds: float,
    rate: int,
) -> None:
    """Open loop: request i leaves at t0 + i/rate; only the in-flight bound holds one back.

    Each wake-up starts every request already due, not one: a wake-up that comes late (a
    busy machine) then delays those requests by its own lateness, instead of the schedule
    slipping further with every late wake-up.
    """
    loop = asyncio.get_running_loop()
    in_flight: set[asyncio.Task[None]] = set()
    total = int(seconds * rate)
    deadline = t0 + seconds + DRAIN_S
    i = 0
    for _ in range(10 * total + 10):  # a pass starts requests or sleeps until one is due
        if i >= total or loop.time() > deadline:
            break
        now = loop.time()
        while i < total and t0 + i / rate <= now:
            due = t0 + i / rate
            i += 1
            if len(in_flight) >= MAX_IN_FLIGHT:
                error = f"dropped: {MAX_IN_FLIGHT:,} already in flight"
                recorder.add(Sample("feed", "-", due - t0, 0.0, error))
                continue
            task = asyncio.create_task(feed_one(client, mix, key, recorder, due, t0))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if i < total:
            await asyncio.sleep(max(t0 + i / rate - loop.time(), 0.0))
    if in_flight:
        await asyncio.wait(in_flight, timeout=DRAIN_S)


# The sign-in burst -----------------------------------------------------------------------


@dataclass
class Burst:
    start: float = 0.0
    end: float = 0.0
    """Seconds into the window: the burst's first request, its last answer."""


async def sign_in_burst(
    clients: list[httpx.AsyncClient],
    emails: list[str],
    password: str,
    cookie: str,
    recorder: Recorder,
    t0: float,
    at: float,
    burst: Burst,
) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, t0 + at - loop.time()))
    burst.start = loop.time() - t0

    async def one(client: httpx.AsyncClient, email: str) -> float:
        sent = loop.time() - t0
        _, latency, error, detail = await sign_in(client, email, password, cookie)
        recorder.add(Sample("sign-in", "burst", sent, latency, error, detail=detail))
        return loop.time() - t0

    finished = await asyncio.gather(
        *(one(client, email) for client, email in zip(clients, emails, strict=True))
    )
    burst.end = max(finished)


# What one request costs the server -------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    kind: str
    n: int
    cpu: float
    """Server CPU seconds per request, both workers, threads included."""
    wall: float
    """Median latency, one request at a time."""


def workers_cpu(server: Server) -> float:
    return sum(cpu_seconds(pid) or 0.0 for pid in server.workers)


async def idle_cpu(server: Server) -> float:
    """Cores the workers use with nothing asked of them (each polls the flags twice a
    second): taken off every cost below."""
    before, started = workers_cpu(server), time.monotonic()
    await asyncio.sleep(COST_IDLE_S)
    return (workers_cpu(server) - before) / (time.monotonic() - started)


async def cost_of(
    server: Server,
    kind: str,
    n: int,
    send: Callable[[int], Awaitable[object]],
    idle: float,
    at_once: int = 1,
) -> Cost:
    walls: list[float] = []

    async def worker(first: int) -> None:
        for i in range(first, n, at_once):
            started = time.perf_counter()
            await send(i)
            walls.append(time.perf_counter() - started)

    before, started = workers_cpu(server), time.monotonic()
    await asyncio.gather(*(worker(first) for first in range(at_once)))
    spent = workers_cpu(server) - before - idle * (time.monotonic() - started)
    return Cost(kind, n, max(spent, 0.0) / n, statistics.median(walls))


async def measure_costs(
    server: Server,
    staff: httpx.AsyncClient,
    feed_client: FeedClient,
    mix: FeedMix,
    catalog: Catalog,
    sign_in_as: tuple[list[str], str, str],
    seed: int,
) -> list[Cost]:
    """Each kind of request alone, one at a time, before the window: what it costs the
    server, so the load's demand can be set against the CPU the server got."""
    rng = random.Random(seed)  # noqa: S311 - choosing pages, not secrets
    idle = await idle_cpu(server)

    async def probe(_: int) -> None:
        await feed_client.get("/healthz", {})

    # The smallest answer there is, one after another on one kept-alive connection: any
    # latency well above a millisecond here is the network stack's, not the app's.
    costs = [await cost_of(server, HEALTHZ, COST_PROBES, probe, idle)]
    for kind in PAGE_KINDS:

        async def page(_: int, kind: str = kind) -> None:
            await timed(staff, "GET", page_url(kind, rng, catalog))

        costs.append(await cost_of(server, kind, COST_PAGES, page, idle))
    key = feed_client.key

    async def ask(_: int) -> None:
        await feed_one(feed_client, mix, key, Recorder(), asyncio.get_running_loop().time(), 0.0)

    # Eight at a time: the feed's cost is small against the workers' idle polling, so the
    # measurement is kept short.
    costs.append(await cost_of(server, "flag feed", COST_FEED, ask, idle, at_once=8))
    emails, password, cookie = sign_in_as

    async def sign(i: int) -> None:
        async with new_client(server.base, SIGN_IN_TIMEOUT_S) as client:
            await sign_in(client, emails[i % len(emails)], password, cookie)

    costs.append(await cost_of(server, "sign-in", COST_SIGN_INS, sign, idle))
    return costs


@dataclass(frozen=True)
class Demand:
    """Server CPU the planned load needs, from the costs of its requests alone."""

    feed: float
    pages: float
    page_rate: float
    """Pages per second if every page were answered at once (think time only)."""
    sign_ins: float
    """Averaged over the window; the burst itself needs `burst_cpu` within a few seconds."""
    burst_cpu: float

    @property
    def total(self) -> float:
        return self.feed + self.pages + self.sign_ins


def demand(run: Run, plan: Plan) -> Demand:
    cost = {c.kind: c.cpu for c in run.costs}
    page_cpu = statistics.mean(cost[kind] for kind in PAGE_KINDS)
    page_rate = run.sessions_signed_in / statistics.mean(THINK_S)
    burst_cpu = plan.burst * cost["sign-in"]
    return Demand(
        feed=plan.feed_rate * cost["flag feed"],
        pages=page_rate * page_cpu,
        page_rate=page_rate,
        sign_ins=burst_cpu / plan.seconds,
        burst_cpu=burst_cpu,
    )


# The run ---------------------------------------------------------------------------------


@dataclass
class Run:
    recorder: Recorder
    burst: Burst
    timeline: list[CpuSnapshot]
    """CPU counters at the window's start, every 5 s, and at its end."""
    connections: dict[int, int]
    sessions_signed_in: int
    feed_client: str
    load_average: tuple[float, float, float]
    """The machine's, just before the window: how busy the other tenants kept it."""
    costs: list[Cost]

    @property
    def before(self) -> CpuSnapshot:
        return self.timeline[0]

    @property
    def after(self) -> CpuSnapshot:
        return self.timeline[-1]


async def sample_cpu(
    server: Server,
    backends: list[int],
    t0: float,
    seconds: float,
    into: list[CpuSnapshot],
    database: Database,
    name: str,
) -> None:
    loop = asyncio.get_running_loop()
    ticks = math.ceil(seconds / BUCKET_S)
    for n in range(1, ticks + 1):
        await asyncio.sleep(max(0.0, t0 + min(n * BUCKET_S, seconds) - loop.time()))
        if n == ticks:
            # Backends the pools opened during the window count too (from their start).
            backends = sorted(set(backends) | set(await backend_pids(database, name)))
        into.append(snapshot(server, backends))


async def load(
    plan: Plan,
    server: Server,
    catalog: Catalog,
    database: Database,
    target: Target,
    secrets_: tuple[str, str],
    cookie: str,
) -> Run:
    loop = asyncio.get_running_loop()
    password, key = secrets_
    browsing_emails, burst_emails = account_emails(plan)
    recorder = Recorder()
    sessions = [new_client(server.base, PAGE_TIMEOUT_S) for _ in browsing_emails]
    burst_clients = [new_client(server.base, SIGN_IN_TIMEOUT_S) for _ in burst_emails]
    feed_client: FeedClient = (
        HttpxFeedClient(server.base, key, recorder)
        if plan.feed_client == "httpx"
        else RawFeedClient(server.port, key, FEED_CONNECTIONS, recorder)
    )
    try:
        gate = asyncio.Semaphore(SIGN_IN_CONCURRENCY)

        async def open_session(client: httpx.AsyncClient, email: str) -> bool:
            async with gate:
                token, _, error, _ = await sign_in(client, email, password, cookie)
            if token is None:
                print(f"  ! {email} could not sign in: {error}")
                return False
            client.headers["cookie"] = f"{cookie}={token}"
            return True

        print(f"signing in {len(sessions)} sessions ({SIGN_IN_CONCURRENCY} at a time)...")
        opened = await asyncio.gather(
            *(open_session(c, e) for c, e in zip(sessions, browsing_emails, strict=True))
        )
        live = [client for client, ok in zip(sessions, opened, strict=True) if ok]
        if not live:
            raise SystemExit("no session could sign in")
        mix = FeedMix(random.Random(plan.seed + 1), [u[0] for u in catalog.users])  # noqa: S311
        print("measuring each kind of request alone, one at a time...")
        costs = await measure_costs(
            server,
            live[0],
            feed_client,
            mix,
            catalog,
            (browsing_emails, password, cookie),
            plan.seed,
        )
        print(f"warming up for {WARM_UP_S:.0f} s (feed, every session's first pages)...")
        await feed_client.open(FEED_CONNECTIONS_OPENED)
        warm_t0 = loop.time()
        warm_recorder = Recorder()
        await asyncio.gather(
            feed(feed_client, mix, key, warm_recorder, warm_t0, WARM_UP_S, plan.feed_rate),
            *(timed(client, "GET", "/admin/", warm_recorder) for client in live),
        )
        connections = connections_per_worker(server)
        backends = await backend_pids(database, target.name)

        burst = Burst()
        print(f"loading for {plan.seconds:.0f} s...")
        load_average = os.getloadavg()
        timeline = [snapshot(server, backends)]
        t0 = loop.time()
        end = t0 + plan.seconds
        tasks = [
            feed(feed_client, mix, key, recorder, t0, plan.seconds, plan.feed_rate),
            sign_in_burst(
                burst_clients, burst_emails, password, cookie, recorder, t0, plan.burst_at, burst
            ),
            sample_cpu(server, backends, t0, plan.seconds, timeline, database, target.name),
            *(
                browse(client, random.Random(plan.seed * 1_000 + n), catalog, recorder, t0, end)  # noqa: S311
                for n, client in enumerate(live)
            ),
        ]
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=plan.seconds + DRAIN_S + 30)
    finally:
        for client in [*sessions, *burst_clients]:
            await client.aclose()
        await feed_client.close()
    return Run(
        recorder, burst, timeline, connections, len(live), plan.feed_client, load_average, costs
    )


# Reporting -------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], share: float) -> float:
    """Nearest rank on sorted values."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True)
class Stats:
    n: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, latencies: Sequence[float]) -> Stats:
        if not latencies:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        ordered = sorted(latencies)
        return cls(
            len(ordered),
            percentile(ordered, 0.50),
            percentile(ordered, 0.95),
            percentile(ordered, 0.99),
            ordered[-1],
        )


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    value = seconds * 1000
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def stats_line(label: str, stats: Stats, width: int = 24) -> str:
    return (
        f"  {label:<{width}} {stats.n:>7,} {ms(stats.p50):>8} {ms(stats.p95):>8} "
        f"{ms(stats.p99):>8} {ms(stats.max):>8}"
    )


def stats_header(label: str, width: int = 24) -> str:
    return f"  {label:<{width}} {'n':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"


@dataclass
class Figures:
    """What the report says, computed once for the text and the Markdown."""

    feed_total: int
    feed_ok: int
    feed_rate: float
    feed_statuses: Counter[str]
    feed_idle: Stats
    feed_burst: Stats
    feed_all: Stats
    lag: Stats
    pages: Stats
    page_rate: float
    per_page: dict[str, Stats]
    sign_ins: Stats
    sign_in_errors: int
    errors: Counter[tuple[str, str]]
    requests: Counter[str]
    server_cores: dict[int, float]
    backend_cores: float
    client_cores: float
    machine_cores: float

    @property
    def ratio(self) -> float:
        return self.feed_burst.p99 / self.feed_idle.p99 if self.feed_idle.p99 else math.nan

    @property
    def error_total(self) -> int:
        return sum(self.errors.values())


def figures(run: Run, plan: Plan) -> Figures:
    samples = run.recorder.samples
    window_start = run.burst.start
    window_end = run.burst.end + BURST_TAIL_S
    feed = [s for s in samples if s.stream == "feed"]
    feed_good = [s for s in feed if not s.error]
    in_burst = [s for s in feed_good if window_start <= s.at <= window_end]
    idle = [s for s in feed_good if not window_start <= s.at <= window_end]
    last_answer = max((s.at + s.lag + s.latency for s in feed_good), default=plan.seconds)
    pages = [s for s in samples if s.stream == "page"]
    pages_good = [s for s in pages if not s.error]
    sign_ins = [s for s in samples if s.stream == "sign-in"]
    wall = run.after.at - run.before.at
    server_cores = {
        pid: (run.after.server.get(pid, 0.0) - run.before.server.get(pid, 0.0)) / wall
        for pid in run.after.server
    }
    backend_cpu = sum(
        max(0.0, run.after.backends[pid] - run.before.backends.get(pid, 0.0))
        for pid in run.after.backends
    )
    return Figures(
        feed_total=len(feed),
        feed_ok=len(feed_good),
        feed_rate=len(feed_good) / max(last_answer, plan.seconds),
        feed_statuses=Counter(s.kind for s in feed_good),
        feed_idle=Stats.of([s.latency for s in idle]),
        feed_burst=Stats.of([s.latency for s in in_burst]),
        feed_all=Stats.of([s.latency for s in feed_good]),
        lag=Stats.of([s.lag for s in feed if not s.error.startswith("dropped")]),
        pages=Stats.of([s.latency for s in pages_good]),
        page_rate=len(pages) / plan.seconds,
        per_page={
            kind: Stats.of([s.latency for s in pages_good if s.kind == kind]) for kind in PAGE_KINDS
        },
        sign_ins=Stats.of([s.latency for s in sign_ins if not s.error]),
        sign_in_errors=sum(1 for s in sign_ins if s.error),
        errors=Counter((s.stream, s.error) for s in samples if s.error),
        requests=Counter(s.stream for s in samples),
        server_cores=server_cores,
        backend_cores=backend_cpu / wall,
        client_cores=(run.after.client - run.before.client) / wall,
        machine_cores=(run.after.machine_busy - run.before.machine_busy) / wall,
    )


def timeline_lines(run: Run) -> list[str]:
    samples = run.recorder.samples
    lines = [
        "  from-to s   feed n  feed p99  pages n  page p95  sign-ins  server  client  machine",
        "                           ms                ms               cores   cores    cores",
    ]
    previous = run.before
    for current in run.timeline[1:]:
        low, high = previous.at - run.before.at, current.at - run.before.at
        inside = [s for s in samples if low <= s.at < high and not s.error]
        feed = Stats.of([s.latency for s in inside if s.stream == "feed"])
        pages = Stats.of([s.latency for s in inside if s.stream == "page"])
        signs = sum(1 for s in inside if s.stream == "sign-in")
        span = current.at - previous.at
        server = sum(current.server.values()) - sum(previous.server.values())
        lines.append(
            f"  {low:>4.0f}-{high:<4.0f} {feed.n:>8,} {ms(feed.p99):>9} {pages.n:>8,} "
            f"{ms(pages.p95):>9} {signs:>9} {server / span:>7.2f} "
            f"{(current.client - previous.client) / span:>7.2f} "
            f"{(current.machine_busy - previous.machine_busy) / span:>8.2f}"
        )
        previous = current
    return lines


def server_errors(log: Path) -> list[str]:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if re.search(r"\b(ERROR|CRITICAL|Traceback)\b", line)]


def report(
    run: Run,
    plan: Plan,
    f: Figures,
    catalog: Catalog,
    server: Server,
    log_errors: list[str],
    cookie: str,
) -> str:
    out: list[str] = []
    say = out.append
    say("")
    say(
        f"== {plan.seconds:.0f} s: {run.sessions_signed_in} staff sessions, flag feed "
        f"{plan.feed_rate:,}/s open loop, {plan.burst} sign-ins at once at "
        f"t = {plan.burst_at:.0f} s =="
    )
    say(
        f"server: swipesavvy-admin serve --workers 2 on {server.base}, ENV=production, "
        f"LOG_LEVEL=WARNING (no access log), BCRYPT_ROUNDS={DEFAULTS['bcrypt_rounds']}, "
        f"DB_POOL_SIZE={DEFAULTS['db_pool_size']} per worker; session cookie {cookie}"
    )
    say(
        f"data: PostgreSQL {catalog.postgres}, {catalog.user_count:,} users, "
        f"{catalog.flag_count} feature flags; a flag app key required (X-API-Key)"
    )
    say(
        f"sign-in limits: LOGIN_IP_LIMIT={DEFAULTS['login_ip_limit']} failed sign-ins per "
        f"{DEFAULTS['login_ip_window_s']} s per address (default, unchanged): only failures "
        "count, so successful sign-ins from one address cannot trip it; each account signs "
        "in once, so no lockout"
    )
    client = (
        f"hand-written HTTP/1.1 over asyncio streams, {FEED_CONNECTIONS_OPENED} keep-alive "
        f"connections opened first, at most {FEED_CONNECTIONS} at once"
        if run.feed_client == "raw"
        else f"httpx.AsyncClient, {FEED_CLIENTS} pools of at most {FEED_CONNECTIONS} connections"
    )
    say(f"feed client: {client}; staff pages and sign-ins: httpx.AsyncClient, one per person")
    say(
        "connections per worker after warm-up: "
        + ", ".join(f"pid {pid}: {n}" for pid, n in run.connections.items())
    )
    say(
        f"machine: {os.cpu_count()} cores, load average before the window "
        f"{' '.join(f'{x:.2f}' for x in run.load_average)}; Python {platform.python_version()}, "
        f"uvicorn {uvicorn.__version__}, httpx {httpx.__version__}"
    )
    say("")
    total = sum(f.requests.values())
    say(
        f"requests: {total:,} (feed {f.requests['feed']:,}, staff pages {f.requests['page']:,}, "
        f"sign-ins {f.requests['sign-in']:,}; plus {run.sessions_signed_in} sign-ins and "
        "warm-up before the window)"
    )
    say(f"errors: {f.error_total:,}")
    for (stream, kind), n in sorted(f.errors.items()):
        say(f"  {stream:<8} {kind:<50} {n:>7,}")
    failed = [s for s in run.recorder.samples if s.error]
    for sample in failed[:10]:
        say(f"  e.g. t={sample.at:5.1f} s {sample.stream} {sample.error}: {sample.detail[:110]}")
    retried = sum(run.recorder.retries.values())
    say(
        f"sent again once after the server closed a kept-alive connection as they left "
        f"(not errors; browsers and mobile HTTP stacks do the same): {retried}"
        + (
            f" ({', '.join(f'{k} {v}' for k, v in run.recorder.retries.items())})"
            if retried
            else ""
        )
    )
    if log_errors:
        say(f"server log: {len(log_errors)} ERROR/Traceback lines; first ones:")
        for line in list(dict.fromkeys(log_errors))[:10]:
            say(f"  | {line[:160]}")
    else:
        say("server log: no ERROR or Traceback lines")
    say("")
    statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(f.feed_statuses.items()))
    say(
        f"flag feed: {f.feed_total:,} scheduled at {plan.feed_rate:,}/s, {f.feed_ok:,} answered "
        f"as expected ({statuses}); achieved {f.feed_rate:,.1f} req/s"
    )
    say(stats_header("latency"))
    say(stats_line("no sign-ins", f.feed_idle))
    say(
        stats_line(
            f"burst {run.burst.start:.1f}-{run.burst.end + BURST_TAIL_S:.1f} s", f.feed_burst
        )
    )
    say(stats_line("whole window", f.feed_all))
    say(stats_line("client lag vs schedule", f.lag))
    if f.lag.p99 > LAG_WARNING_S:
        say(
            f"  ! the load generator started 1% of feed requests over {LAG_WARNING_S * 1000:.0f} "
            f"ms late while using {f.client_cores:.2f} cores: its process waited for a CPU, so "
            "the feed's load came in lumps (latencies are timed from the send, not the schedule)"
        )
    say(
        f"  p99 during the burst / p99 with no sign-ins: {f.ratio:.2f}x (target <= 2x); "
        f"p99 with no sign-ins {ms(f.feed_idle.p99)} ms (target <= 50 ms)"
    )
    say("")
    say(f"staff pages: {f.requests['page']:,} in {plan.seconds:.0f} s ({f.page_rate:.1f}/s)")
    say(stats_header("page"))
    say(stats_line("all pages", f.pages))
    for kind, stats in f.per_page.items():
        say(stats_line(kind, stats))
    say("")
    say(
        f"sign-in burst: {plan.burst} at once, {f.sign_ins.n} signed in, "
        f"{f.sign_in_errors} refused or failed; p50 {ms(f.sign_ins.p50)} ms, "
        f"max {ms(f.sign_ins.max)} ms; window {run.burst.start:.1f}-{run.burst.end:.1f} s"
    )
    say("")
    say(
        "each kind of request alone before the window, one at a time (the feed 8 at a time); "
        "server CPU of both workers per request, their idle polling taken off (on a busy "
        "machine CPU per request inflates too):"
    )
    say(f"  {'request':<22} {'n':>5} {'server CPU ms':>14} {'median latency ms':>18}")
    for cost in run.costs:
        say(f"  {cost.kind:<22} {cost.n:>5} {ms(cost.cpu):>14} {ms(cost.wall):>18}")
    probe = next(c for c in run.costs if c.kind == HEALTHZ)
    if probe.wall > STALL_S:
        say(
            f"  ! /healthz one after another on one kept-alive connection: median "
            f"{ms(probe.wall)} ms for a 20-byte answer. The answer's head and body leave in "
            "two writes; with Nagle's algorithm on, the body waits for the client's delayed "
            "ACK (about 40 ms on Linux). `serve --workers N` hands uvicorn a socket it bound "
            "itself without IPPROTO_TCP, so asyncio does not set TCP_NODELAY on accepted "
            "connections (uvicorn issue #3149); --workers 1 does not have it"
        )
    need = demand(run, plan)
    server_total = sum(f.server_cores.values())
    say(
        f"  so the planned load needs about {need.total:.2f} cores of server CPU: feed "
        f"{need.feed:.2f} + pages {need.pages:.2f} (at {need.page_rate:.0f} pages/s, were each "
        f"answered at once) + sign-ins {need.sign_ins:.2f} (the burst: {need.burst_cpu:.1f} CPU "
        f"seconds at once); the server got {server_total:.2f}"
    )
    say("")
    say("CPU over the window (cores = CPU seconds per second of wall time):")
    for pid, cores in f.server_cores.items():
        role = "supervisor" if pid == server.process.pid else "worker"
        say(f"  server {role:<10} pid {pid:<8} {cores:5.2f}")
    say(f"  server total                  {sum(f.server_cores.values()):5.2f}")
    say(f"  PostgreSQL backends (bench db) {f.backend_cores:5.2f}")
    say(f"  load generator (this process)  {f.client_cores:5.2f}")
    others = f.machine_cores - sum(f.server_cores.values()) - f.backend_cores - f.client_cores
    say(
        f"  whole machine busy             {f.machine_cores:5.2f} of {os.cpu_count()}, "
        f"of which other tenants about {max(others, 0.0):.2f}"
    )
    say("")
    say("timeline (5 s buckets; server/client/machine in cores):")
    out.extend(timeline_lines(run))
    return "\n".join(out)


def markdown(run: Run, plan: Plan, f: Figures, catalog: Catalog) -> str:
    def trio(stats: Stats) -> str:
        return f"{ms(stats.p50)} / {ms(stats.p95)} / {ms(stats.p99)}"

    day = datetime.now(UTC).date().isoformat()
    kinds = ", ".join(f"{k} {n:,}" for (_, k), n in sorted(f.errors.items())) or "none"
    server = sum(f.server_cores.values())
    need = demand(run, plan)
    cost = {c.kind: c for c in run.costs}
    rows = [
        f"### Recorded - {day}, PostgreSQL {catalog.postgres.split()[0]}, "
        f"{os.cpu_count()} cores (shared), {catalog.user_count:,} users, {plan.seconds:.0f} s, "
        f"feed client {plan.feed_client}",
        "",
        "| measure | result | target |",
        "|---|---:|---:|",
        f"| requests: feed / staff pages / sign-ins | {f.requests['feed']:,} / "
        f"{f.requests['page']:,} / {f.requests['sign-in']:,} | |",
        f"| errors (non-2xx/304, timeouts, connection errors): {kinds} | {f.error_total:,} | 0 |",
        f"| feed rate achieved | {f.feed_rate:,.1f} req/s | {plan.feed_rate:,} req/s |",
        f"| feed p50 / p95 / p99, no sign-ins | {trio(f.feed_idle)} ms | p99 <= 50 ms |",
        f"| feed p50 / p95 / p99, during the sign-in burst "
        f"({run.burst.end + BURST_TAIL_S - run.burst.start:.1f} s) | {trio(f.feed_burst)} ms | |",
        f"| feed p99 burst / no sign-ins | {f.ratio:.2f}x | <= 2x |",
        f"| staff pages p50 / p95 / p99 ({f.page_rate:.1f} pages/s) | {trio(f.pages)} ms | |",
        f"| {plan.burst} sign-ins at once: p50 / max | {ms(f.sign_ins.p50)} / "
        f"{ms(f.sign_ins.max)} ms | |",
        f"| /healthz one after another on one kept-alive connection, median | "
        f"{ms(cost[HEALTHZ].wall)} ms | |",
        f"| server CPU, 2 workers | {server:.2f} cores | |",
        f"| server CPU the planned load needs (costs alone x rates) | {need.total:.2f} cores "
        f"(feed {need.feed:.2f}, pages {need.pages:.2f}, sign-ins {need.sign_ins:.2f}) | |",
        f"| PostgreSQL backends CPU | {f.backend_cores:.2f} cores | |",
        f"| load generator CPU (one process) | {f.client_cores:.2f} cores | |",
        f"| whole machine busy | {f.machine_cores:.2f} of {os.cpu_count()} cores | |",
        "",
        "| staff page | n | p50 ms | p95 ms | p99 ms | max ms | alone: ms / server CPU ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, stats in f.per_page.items():
        rows.append(
            f"| {kind} | {stats.n:,} | {ms(stats.p50)} | {ms(stats.p95)} | {ms(stats.p99)} "
            f"| {ms(stats.max)} | {ms(cost[kind].wall)} / {ms(cost[kind].cpu)} |"
        )
    return "\n".join(rows)


# Main ------------------------------------------------------------------------------------


async def main() -> None:
    plan, target, keep = parse_args()
    secret = secrets.token_urlsafe(48)
    password = secrets.token_urlsafe(18)
    setup = clean_environment(
        DATABASE_URL=target.url, SECRET_KEY=secret, ENV="development", LOG_LEVEL="WARNING"
    )
    served = clean_environment(
        DATABASE_URL=target.url,
        SECRET_KEY=secret,
        ENV="production",
        LOG_LEVEL="WARNING",
        # Production serves only its own host; the public URL is the TLS proxy's side.
        ALLOWED_HOSTS=HOST,
        PUBLIC_URL=f"https://{HOST}",
    )
    settings = load_settings(served, env_file=Path("/nonexistent/.env"))
    cookie = cookie_name(settings)
    database: Database | None = None
    server: Server | None = None
    key_name = ""
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        cwd = Path(scratch)  # no .env or .secret_key of the checkout is read or written
        try:
            started = time.monotonic()
            if target.fresh:
                print(f"creating database {target.name} (dropped first if it exists)...")
                await recreate_database(target)
                print(await run_cli(["migrate"], setup, cwd))
                print(f"seeding {plan.users:,} users...")
                print(await run_cli(["seed-demo", "--users", str(plan.users)], setup, cwd))
            print(await run_cli(["analytics", "refresh"], setup, cwd))
            database = Database(settings)
            browsing, burst = account_emails(plan)
            # One hash for every account: same password, at the server's cost, so a sign-in
            # costs what it costs in production and never rehashes.
            hashed = await asyncio.to_thread(
                bcrypt.hashpw, password.encode(), bcrypt.gensalt(settings.bcrypt_rounds)
            )
            await staff_accounts(database, browsing + burst, hashed.decode())
            key_name, key = await issue_key(database)
            catalog = await read_catalog(database, plan.seed)
            print(
                f"set-up done in {time.monotonic() - started:.0f} s: "
                f"{len(browsing) + len(burst)} staff accounts, flag key {key_name!r}"
            )
            server = await start_server(served, cwd)
            print(f"server ready at {server.base}, workers {server.workers}")
            run = await load(plan, server, catalog, database, target, (password, key), cookie)
            code = await stop_server(server)
            print(f"server stopped (exit code {code})")
            numbers = figures(run, plan)
            print(report(run, plan, numbers, catalog, server, server_errors(server.log), cookie))
            print("\nMarkdown for bench/README.md:\n")
            print(markdown(run, plan, numbers, catalog))
        finally:
            if server is not None:
                await stop_server(server)
            if database is not None:
                if key_name and not target.fresh:
                    await revoke_key(database, key_name)
                await database.dispose()
            if target.fresh and not keep:
                await drop_database(target)
                print(f"database {target.name} dropped")


if __name__ == "__main__":
    asyncio.run(main())
