"""The server as staff start it: `serve` and `demo`, as real processes on real ports."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from core.database import Database
from core.settings import Settings
from models import AICampaign
from models.base import utcnow
from tests import rows
from tests.databases import TEST_BCRYPT_ROUNDS, TEST_SECRET_KEY

COMMAND = Path(sys.executable).parent / "swipesavvy-admin"
OUR_VARIABLES = (
    "DATABASE_URL",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "ENV",
    "LOG_LEVEL",
    "BCRYPT_ROUNDS",
)
STARTUP_TIMEOUT_S = 60
DEMO_LOGIN = "admin@example.com"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [str(COMMAND), *args],
        env={name: value for name, value in os.environ.items() if name not in OUR_VARIABLES} | env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def wait_until_up(base_url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited early:\n{process.stdout.read() if process.stdout else ''}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"server did not answer within {STARTUP_TIMEOUT_S} s")


@dataclass
class Server:
    base_url: str
    password: str
    folder: Path
    log: list[str]

    @property
    def database(self) -> Path:
        return self.folder / "swipesavvy.db"

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the server's SQLite file directly: the truth the pages are checked against."""
        with closing(sqlite3.connect(self.database)) as connection:
            return connection.execute(sql, params).fetchall()

    def admin_id(self) -> str:
        [(admin_id,)] = self.rows("SELECT id FROM admin_users WHERE email = ?", DEMO_LOGIN)
        return str(admin_id)

    def create_staff(self, email: str, role: str, password: str) -> None:
        """The way an operator adds staff: `create-admin` on the demo's database and key."""
        created = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
            [str(COMMAND), "create-admin", "--email", email, "--role", role, "--password-stdin"],
            input=f"{password}\n",
            env={name: value for name, value in os.environ.items() if name not in OUR_VARIABLES}
            | {"BCRYPT_ROUNDS": str(TEST_BCRYPT_ROUNDS)},
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=STARTUP_TIMEOUT_S,
        )
        assert created.returncode == 0, created.stdout + created.stderr


@contextmanager
def demo_server(folder: Path) -> Iterator[Server]:
    """`swipesavvy-admin demo` in an empty folder: migrated, seeded SQLite, printed password."""
    port = free_port()
    env = {"BCRYPT_ROUNDS": str(TEST_BCRYPT_ROUNDS)}
    with running(["demo", "--port", str(port)], env, folder) as process:
        assert process.stdout is not None
        banner = ""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while "password" not in banner and time.monotonic() < deadline:
            banner += process.stdout.readline()
        match = re.search(r"^  password\s+(\S+)$", banner, re.MULTILINE)
        assert match, f"no password in the demo banner:\n{banner}"
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(base_url, process)
        log = banner.splitlines(keepends=True)
        # Keep reading: a full pipe would block the server mid-request.
        drain = threading.Thread(target=log.extend, args=(process.stdout,), daemon=True)
        drain.start()
        yield Server(base_url, match[1], folder, log)
        # Stop it here, before `running` does, so the drain has read to the end of the pipe.
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
        drain.join(timeout=5)


async def campaign_status(database: Database, campaign_id: uuid.UUID) -> str:
    async with database.session() as db:
        return str(
            await db.scalar(sa.select(AICampaign.status).where(AICampaign.id == campaign_id))
        )


async def test_serve_answers_and_runs_the_campaign_schedule(
    settings: Settings, clean_database: Database, tmp_path: Path
) -> None:
    due = rows.campaign_row(status="scheduled", starts_at=utcnow() - timedelta(minutes=1))
    async with clean_database.session() as db, db.begin():
        await rows.insert(db, "ai_campaigns", due)
    port = free_port()
    env = {"DATABASE_URL": settings.database_url, "SECRET_KEY": str(TEST_SECRET_KEY)}

    with running(["serve", "--port", str(port)], env, tmp_path) as process:
        base = f"http://127.0.0.1:{port}"
        await asyncio.to_thread(wait_until_up, base, process)
        async with httpx.AsyncClient(base_url=base) as client:
            ready = await client.get("/readyz")
            login = await client.get("/admin/login")
        deadline = time.monotonic() + 10
        while await campaign_status(clean_database, due["id"]) != "active":
            assert time.monotonic() < deadline, "the schedule did not start the due campaign"
            await asyncio.sleep(0.2)

    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"
    assert login.status_code == 200
    assert "SwipeSavvy Admin" in login.text


def test_demo_migrates_seeds_prints_a_login_and_serves(tmp_path: Path) -> None:
    """The README's first command, from an empty folder on the embedded SQLite default."""
    with demo_server(tmp_path) as demo, httpx.Client(base_url=demo.base_url) as browser:
        signed_in = browser.post(
            "/admin/login", data={"username": DEMO_LOGIN, "password": demo.password}
        )
        users = browser.get("/admin/users/list")
        banner = "".join(demo.log)

    assert f"SwipeSavvy Admin is starting at {demo.base_url}/admin" in banner
    assert f"sign in as   {DEMO_LOGIN}" in banner
    assert signed_in.status_code == 302
    assert users.status_code == 200
    assert "@example.com" in users.text
    assert (tmp_path / "swipesavvy.db").is_file()
    assert (tmp_path / ".secret_key").is_file()
