"""Two `serve` processes behind HAProxy, on PostgreSQL behind PgBouncer pooling by transaction:
the configuration docs/operations.md describes, started whole on 127.0.0.1.

The test client connects from 127.0.0.77 (all of 127.0.0.0/8 is this machine) and writes a
forged X-Forwarded-For; only HAProxy, at 127.0.0.1, is a trusted proxy. An address of
127.0.0.77 in the audit trail can only have come from the balancer's header.
PostgreSQL only. Skipped without the haproxy and pgbouncer binaries, a failure when CI=true.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from core.database import Database
from core.settings import ConfigError, load_settings
from migrations import runner
from models import AdminSession, FeatureFlag
from tests import staff, topology
from tests.databases import (
    TEST_BCRYPT_ROUNDS,
    TEST_SECRET_KEY,
    make_settings,
    throwaway_postgres_database,
)
from tests.table_locks import locked

PUBLIC_HOST = "admin.test"
CLIENT_ADDRESS = "127.0.0.77"
FORGED_ADDRESS = "203.0.113.9"
SESSION_COOKIE = "__Host-swipesavvy_session"
ME = "/api/v1/admin/auth/me"
FEED = "/api/feature-flags/mobile/active"
STATEMENT_TIMEOUT_MS = 1_500
SERVERS = ("one", "two")
CLIENTS = 4
REQUESTS = 300
KILL_AFTER = 100
LOAD_LIMIT_S = 60


@dataclass
class Site:
    balancer: str
    servers: dict[str, str]
    processes: dict[str, topology.Process]

    def served(self, name: str, path: str) -> int:
        """Requests for `path` in the server's own access log, from the test client."""
        line = re.compile(rf'{re.escape(CLIENT_ADDRESS)}:\d+ - "GET {re.escape(path)} HTTP')
        return len(line.findall(self.processes[name].output()))


@pytest.fixture(scope="module")
def daemons() -> dict[str, str]:
    return topology.daemons()


@pytest.fixture(scope="module")
def postgres(daemons: dict[str, str]) -> Iterator[str]:
    """A migrated database, reached directly (migrations, LISTEN and the test's own reads)."""
    with throwaway_postgres_database("topology") as url:
        runner.upgrade(make_settings(url))
        yield url


@pytest.fixture(scope="module")
def pooled(
    daemons: dict[str, str], postgres: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The same database through PgBouncer, pooling by transaction."""
    folder = tmp_path_factory.mktemp("pgbouncer")
    with topology.pgbouncer(daemons["pgbouncer"], postgres, folder) as url:
        yield url


@pytest.fixture(scope="module")
def site(
    daemons: dict[str, str], postgres: str, pooled: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("topology")
    with ExitStack() as stack:
        environment = {
            "ENV": "production",
            "SECRET_KEY": str(TEST_SECRET_KEY),
            "DATABASE_URL": pooled,
            "DB_BEHIND_PGBOUNCER": "true",
            "DATABASE_LISTEN_URL": postgres,
            "DB_POOL_SIZE": "4",
            "DB_STATEMENT_TIMEOUT_MS": str(STATEMENT_TIMEOUT_MS),
            "TRUSTED_PROXIES": "127.0.0.1",
            "ALLOWED_HOSTS": PUBLIC_HOST,
            "PUBLIC_URL": f"https://{PUBLIC_HOST}",
            "FLAGS_PUBLIC": "true",
            "BCRYPT_ROUNDS": str(TEST_BCRYPT_ROUNDS),
            # INFO: uvicorn's access log, each server's own record of what it served.
            "LOG_LEVEL": "INFO",
        }
        started = {
            name: stack.enter_context(topology.server(environment, folder / name))
            for name in SERVERS
        }
        servers = {name: f"http://127.0.0.1:{port}" for name, (port, _) in started.items()}
        for name, (_, process) in started.items():
            topology.wait_until_healthy(servers[name], process)
        ports = {name: port for name, (port, _) in started.items()}
        balancer = stack.enter_context(
            topology.haproxy(daemons["haproxy"], ports, folder / "haproxy")
        )
        yield Site(
            f"http://127.0.0.1:{balancer}",
            servers,
            {name: process for name, (_, process) in started.items()},
        )


@pytest.fixture(scope="module")
async def direct(postgres: str) -> AsyncIterator[Database]:
    database = Database(make_settings(postgres))
    yield database
    await database.dispose()


@asynccontextmanager
async def browser(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A staff browser at CLIENT_ADDRESS, for the public host, claiming to be someone else."""
    transport = httpx.AsyncHTTPTransport(local_address=CLIENT_ADDRESS)
    headers = {"host": PUBLIC_HOST, "x-forwarded-for": FORGED_ADDRESS}
    async with httpx.AsyncClient(
        base_url=base_url, transport=transport, headers=headers, timeout=10
    ) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, account: staff.Account) -> None:
    """Sign in and carry the session cookie by hand: it is Secure (production), and the
    client talks plain HTTP to the balancer, as a TLS terminator in front of it would."""
    response = await staff.sign_in(client, account.email)
    assert response.status_code == 302, response.text
    cookies = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        cookies.load(header)
    client.headers["cookie"] = f"{SESSION_COOKIE}={cookies[SESSION_COOKIE].value}"


async def operations_staff(database: Database) -> staff.Account:
    async with database.session() as db:
        return await staff.make_staff(db, "operations")


async def test_a_session_begun_through_the_balancer_works_on_both_servers(
    site: Site, direct: Database
) -> None:
    account = await operations_staff(direct)
    async with browser(site.balancer) as client:
        await sign_in(client, account)
        through_balancer = [await client.get(ME) for _ in range(6)]
        cookie = client.headers["cookie"]
    served = {name: site.served(name, ME) for name in SERVERS}
    directly = {}
    for name, base in site.servers.items():
        async with browser(base) as client:
            directly[name] = await client.get(ME, headers={"cookie": cookie})

    assert [r.status_code for r in through_balancer] == [200] * 6
    assert {r.json()["email"] for r in through_balancer} == {account.email}
    # Round robin: each server's own access log has some of them.
    assert sum(served.values()) == 6
    assert min(served.values()) > 0, served
    assert {name: r.status_code for name, r in directly.items()} == {"one": 200, "two": 200}
    assert {r.json()["email"] for r in directly.values()} == {account.email}


async def test_pages_leave_the_balancer_compressed(site: Site, direct: Database) -> None:
    """The proxy compresses (docs/operations.md says why): a staff list arrives gzipped, at
    a fraction of its size, and reads the same."""
    account = await operations_staff(direct)
    async with browser(site.balancer) as client:
        await sign_in(client, account)
        page = await client.get("/admin/users/list", headers={"accept-encoding": "gzip"})
        plain = await client.get("/admin/users/list", headers={"accept-encoding": "identity"})
    assert page.status_code == plain.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert page.num_bytes_downloaded * 3 < plain.num_bytes_downloaded
    assert page.text == plain.text


async def add_flag(database: Database, key: str) -> uuid.UUID:
    async with database.session() as db, db.begin():
        flag = FeatureFlag(
            key=key, name=key, enabled=True, rollout_percentage=Decimal(100), platforms=[]
        )
        db.add(flag)
    return flag.id


async def serving(base: str, key: str) -> bool:
    async with browser(base) as client:
        return key in (await client.get(FEED)).json()["flags"]


async def off_after(base: str, key: str, limit_s: float = 3.0) -> float:
    """Seconds until the server's feed no longer has `key`, asked every 10 ms."""
    began = time.monotonic()
    async with browser(base) as client:
        while key in (await client.get(FEED)).json()["flags"]:
            assert time.monotonic() - began < limit_s, f"{base} still served {key}"
            await asyncio.sleep(0.01)
    return time.monotonic() - began


async def test_a_flag_turned_off_through_one_server_is_off_on_both_within_a_second(
    site: Site, direct: Database
) -> None:
    key = f"topology-{uuid.uuid4().hex[:6]}"
    flag_id = await add_flag(direct, key)
    deadline = time.monotonic() + 5
    while not all([await serving(base, key) for base in site.servers.values()]):
        assert time.monotonic() < deadline, "the servers never served the new flag"
        await asyncio.sleep(0.05)
    account = await operations_staff(direct)
    async with browser(site.balancer) as client:
        await sign_in(client, account)
        token = await staff.csrf_token(client)
        turned_off = await client.post(
            "/admin/feature-flags/action/disable", data={"pks": str(flag_id), "csrf_token": token}
        )
    took = await asyncio.gather(*(off_after(site.servers[name], key) for name in SERVERS))

    assert turned_off.status_code == 303, turned_off.text
    assert max(took) < 1.0, dict(zip(SERVERS, took, strict=True))


async def test_the_audit_trail_records_the_client_the_balancer_saw(
    site: Site, direct: Database
) -> None:
    account = await operations_staff(direct)
    async with browser(site.balancer) as client:
        await sign_in(client, account)
    async with direct.session() as db:
        [success] = [
            entry
            for entry in await staff.audit_entries(db, "login.success")
            if entry.actor_id == account.id
        ]
        session_addresses = list(
            await db.scalars(
                sa.select(AdminSession.ip_address).where(AdminSession.admin_user_id == account.id)
            )
        )

    assert success.ip_address == CLIENT_ADDRESS  # not HAProxy's 127.0.0.1, nor the forgery
    assert session_addresses == [CLIENT_ADDRESS]


async def test_a_statement_held_past_the_timeout_is_a_503_behind_pgbouncer(
    site: Site, direct: Database
) -> None:
    account = await operations_staff(direct)
    async with browser(site.balancer) as client:
        await sign_in(client, account)
        async with locked(direct, "merchants"):
            began = time.monotonic()
            waited = await client.get("/admin/merchants/list")
            took = time.monotonic() - began
        after = await client.get("/admin/merchants/list")

    assert waited.status_code == 503
    assert STATEMENT_TIMEOUT_MS / 1000 <= took < STATEMENT_TIMEOUT_MS / 1000 + 2
    assert after.status_code == 200


async def test_no_prepared_statement_outlives_its_transaction_behind_pgbouncer(
    postgres: str, pooled: str
) -> None:
    database = Database(
        make_settings(pooled, db_behind_pgbouncer=True, database_listen_url=postgres)
    )

    async def busy() -> None:
        for n in range(25):
            async with database.session() as db:
                await db.scalar(sa.select(FeatureFlag.id).where(FeatureFlag.key == f"k{n}"))

    async def left_on_its_server() -> int:
        async with database.session() as db:
            found = await db.scalar(sa.text("SELECT count(*) FROM pg_prepared_statements"))
            await asyncio.sleep(0.05)  # hold this server connection while the others look
            return int(found)

    try:
        await asyncio.gather(*(busy() for _ in range(CLIENTS)))
        left = await asyncio.gather(*(left_on_its_server() for _ in range(CLIENTS)))
    finally:
        await database.dispose()

    assert left == [1] * CLIENTS  # only the statement counting them


async def test_a_server_killed_mid_load_loses_at_most_the_requests_in_flight(
    site: Site, direct: Database
) -> None:
    """Last in the module: server one stays dead."""
    account = await operations_staff(direct)
    async with browser(site.balancer) as client:
        await sign_in(client, account)
        cookie = client.headers["cookie"]
    outcomes: list[tuple[float, int | str]] = []
    asked = 0
    killed_at = float("inf")
    half_done = asyncio.Event()

    async def load() -> None:
        nonlocal asked
        async with browser(site.balancer) as client:
            client.headers["cookie"] = cookie
            while asked < REQUESTS:
                asked += 1
                try:
                    outcome: int | str = (await client.get(ME)).status_code
                except httpx.TransportError as exc:
                    outcome = type(exc).__name__
                outcomes.append((time.monotonic(), outcome))
                if len(outcomes) == KILL_AFTER:
                    half_done.set()

    async def kill() -> None:
        nonlocal killed_at
        await half_done.wait()
        killed_at = time.monotonic()
        site.processes["one"].kill()

    async with asyncio.timeout(LOAD_LIMIT_S):
        await asyncio.gather(kill(), *(load() for _ in range(CLIENTS)))
    failed = [(at, outcome) for at, outcome in outcomes if outcome != 200]
    after_kill = [outcome for at, outcome in outcomes if at > killed_at]

    assert len(outcomes) == REQUESTS
    assert len(failed) <= CLIENTS, failed  # at most one request in flight per client
    assert all(at >= killed_at for at, _ in failed), "a request failed before the kill"
    assert after_kill.count(200) >= REQUESTS - KILL_AFTER - CLIENTS
    assert site.served("one", ME) > 0
    assert site.processes["one"].popen.returncode is not None


def test_behind_pgbouncer_serving_needs_a_listen_url(tmp_path: Path) -> None:
    environ = {
        "DATABASE_URL": "postgresql://app@pgbouncer.internal:6432/swipesavvy",
        "DB_BEHIND_PGBOUNCER": "true",
        "SECRET_KEY": str(TEST_SECRET_KEY),
    }
    alone = load_settings(environ, env_file=tmp_path / ".env")
    listening = load_settings(
        environ | {"DATABASE_LISTEN_URL": "postgresql://app@db.internal/swipesavvy"},
        env_file=tmp_path / ".env",
    )

    with pytest.raises(ConfigError, match="DATABASE_LISTEN_URL is not set"):
        alone.check_serving()
    listening.check_serving()
    assert listening.listen_url == "postgresql://app@db.internal/swipesavvy"
    direct = load_settings(environ | {"DB_BEHIND_PGBOUNCER": "false"}, env_file=tmp_path / ".env")
    assert direct.listen_url == environ["DATABASE_URL"]
