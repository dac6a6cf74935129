"""`serve` stopped with SIGTERM (a deploy, a scale-down) finishes the requests it has begun.

The request in flight is a real admin page made slow by the database: another session locks
the table the page reads, so the page waits inside its query until the test lets it go.
PostgreSQL only: SQLite readers never wait for a lock in WAL mode.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database
from core.settings import Settings
from tests import staff
from tests.databases import TEST_SECRET_KEY
from tests.table_locks import locked, until_a_query_waits_on
from tests.test_processes import free_port, running, wait_until_up

LIST = "/admin/ai-models/list"
IN_FLIGHT_AFTER_SIGTERM_S = 1.5
"""How long the request stays blocked once the server has begun shutting down."""


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the slow request waits on a PostgreSQL table lock")


@pytest.fixture
def server(
    postgres_only: None, settings: Settings, clean_database: Database, tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {"DATABASE_URL": settings.database_url, "SECRET_KEY": str(TEST_SECRET_KEY)}
    with running(["serve", "--port", str(port)], env, tmp_path) as process:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process)
        yield base, process


async def refuses_new_connections(base: str) -> bool:
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            await client.get("/healthz", timeout=1)
    except httpx.ConnectError:
        return True
    return False


async def test_sigterm_lets_the_request_in_flight_finish_with_200(
    server: tuple[str, subprocess.Popen[str]], db: AsyncSession, clean_database: Database
) -> None:
    base, process = server
    account = await staff.make_staff(db, "superadmin")
    async with httpx.AsyncClient(base_url=base, timeout=30) as browser:
        await staff.signed_in(browser, account)
        async with locked(clean_database, "ai_models") as blocker:
            in_flight = asyncio.create_task(browser.get(LIST))
            await until_a_query_waits_on(blocker, "ai_models")
            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 5
            while not await refuses_new_connections(base):
                assert time.monotonic() < deadline, "the server did not begin shutting down"
                await asyncio.sleep(0.05)
            await asyncio.sleep(IN_FLIGHT_AFTER_SIGTERM_S)
            still_running = process.poll() is None
        response = await in_flight
    exit_code = await asyncio.to_thread(process.wait, 15)

    assert still_running, "the server exited with a request in flight"
    assert response.status_code == 200
    assert "AI models" in response.text
    assert exit_code in (0, -signal.SIGTERM)
