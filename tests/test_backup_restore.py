"""scripts/backup_restore.sh, run as operators run it: a pg_dump of a seeded database restores
into a new one with every row, and the ledger and the audit trail verify there; a tampered copy
fails its verification loudly. PostgreSQL only (the script wraps pg_dump and pg_restore)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.database import Database
from core.settings import VARIABLES
from demo_data.load import seed_demo
from migrations import runner
from tests.databases import (
    POSTGRES_SERVER_URL,
    TEST_BCRYPT_ROUNDS,
    TEST_SECRET_KEY,
    make_settings,
    throwaway_postgres_database,
)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "backup_restore.sh"
COMMAND = Path(sys.executable).parent / "swipesavvy-admin"
SCRIPT_TIMEOUT_S = 300
DEMO_USERS = 20


def run_script(*args: str, scratch: Path) -> subprocess.CompletedProcess[str]:
    """The script with the command line it verifies with, and no inherited app settings."""
    environ = {name: value for name, value in os.environ.items() if name not in VARIABLES}
    environ |= {
        "SWIPESAVVY_ADMIN": str(COMMAND),
        "SECRET_KEY": str(TEST_SECRET_KEY),
        "BCRYPT_ROUNDS": str(TEST_BCRYPT_ROUNDS),
        "TMPDIR": str(scratch),
    }
    return subprocess.run(  # noqa: S603 - our own script, arguments we chose
        ["bash", str(SCRIPT), *args],  # noqa: S607 - bash from PATH, as operators run it
        env=environ,
        cwd=scratch,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
    )


async def _seed(url: str) -> None:
    database = Database(make_settings(url))
    try:
        await seed_demo(database, users=DEMO_USERS, seed=7, bcrypt_rounds=TEST_BCRYPT_ROUNDS)
    finally:
        await database.dispose()


async def _row_counts(url: str) -> dict[str, int]:
    database = Database(make_settings(url))
    try:
        async with database.engine.connect() as connection:
            names = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
            return {
                name: int(await connection.scalar(sa.text(f'SELECT count(*) FROM "{name}"')))
                for name in names
            }
    finally:
        await database.dispose()


def row_counts(url: str) -> dict[str, int]:
    return asyncio.run(_row_counts(url))


async def _tamper_audit_entry(url: str) -> int:
    """Rewrite one entry's action as someone with the database's keys could; its number."""
    database = Database(make_settings(url))
    try:
        async with database.engine.begin() as connection:
            # The owner may switch off the append-only trigger; the hash chain still tells.
            await connection.execute(
                sa.text("ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only")
            )
            sequence = await connection.scalar(
                sa.text("SELECT sequence FROM audit_logs ORDER BY sequence OFFSET 3 LIMIT 1")
            )
            await connection.execute(
                sa.text("UPDATE audit_logs SET action = 'nothing.happened' WHERE sequence = :n"),
                {"n": sequence},
            )
        return int(sequence)
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def seeded() -> Iterator[str]:
    """A migrated database with demo data: customers, wallets, the ledger, the audit trail."""
    with throwaway_postgres_database("backup_source") as url:
        runner.upgrade(make_settings(url))
        asyncio.run(_seed(url))
        yield url


@contextmanager
def new_database_url() -> Iterator[str]:
    """The URL of a database that does not exist yet; whatever creates it, it is dropped."""
    name = f"swipesavvy_test_restored_{uuid.uuid4().hex[:10]}"
    server = make_url(POSTGRES_SERVER_URL)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        maintenance = server.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(  # noqa: S603 - fixed arguments
            ["dropdb", "--if-exists", "--force", f"--maintenance-db={maintenance}", name],  # noqa: S607
            check=True,
            capture_output=True,
            timeout=60,
        )


def test_a_drill_restores_every_row_and_both_verifications_pass(
    seeded: str, tmp_path: Path
) -> None:
    with new_database_url() as restored:
        drill = run_script("drill", seeded, restored, scratch=tmp_path)
        source, copy = row_counts(seeded), row_counts(restored)

    assert drill.returncode == 0, drill.stdout + drill.stderr
    lines = drill.stdout.splitlines()
    assert lines[0].startswith("backup   ok")
    assert lines[1].startswith("restore  ok")
    assert f"{len(source)} tables, {sum(source.values())} rows" in lines[1]
    assert lines[2].startswith("ledger   ok      ledger balanced")
    assert lines[3].startswith("audit    ok      audit trail intact")
    assert lines[4] == "verdict  ok"
    assert copy == source
    assert min(source[table] for table in ("audit_logs", "wallets", "wallet_transactions")) > 0
    assert not list(tmp_path.iterdir()), "the drill's dump is removed"


def test_a_tampered_copy_fails_its_verification_with_a_clear_message(
    seeded: str, tmp_path: Path
) -> None:
    dump = tmp_path / "swipesavvy.dump"
    with throwaway_postgres_database("restored_empty") as restored:
        backup = run_script("backup", seeded, str(dump), scratch=tmp_path)
        restore = run_script("restore", str(dump), restored, scratch=tmp_path)
        entry = asyncio.run(_tamper_audit_entry(restored))
        verify = run_script("verify", restored, scratch=tmp_path)
        again = run_script("restore", str(dump), restored, scratch=tmp_path)

    assert backup.returncode == 0, backup.stdout + backup.stderr
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "audit    ok" in restore.stdout, "the restore into an existing empty database verified"
    assert verify.returncode == 1
    assert verify.stdout.splitlines() == [
        "ledger   ok      ledger balanced: every wallet equals the sum of its posted transactions",
        f"audit    failed  error: audit trail broken at entry #{entry}: its contents do not "
        "match its hash (edited).",
        "verdict  FAILED: see the steps above",
    ]
    assert again.returncode == 1, "a database that holds tables is never restored over"
    assert "restore only into a new or empty one" in again.stdout
    assert "ledger" not in again.stdout


def test_a_failed_backup_leaves_no_file_that_could_pass_for_one(
    seeded: str, tmp_path: Path
) -> None:
    missing = make_url(seeded).set(database=f"absent_{uuid.uuid4().hex[:10]}")
    dump = tmp_path / "swipesavvy.dump"

    backup = run_script(
        "backup", missing.render_as_string(hide_password=False), str(dump), scratch=tmp_path
    )

    assert backup.returncode == 1
    assert backup.stdout.startswith("backup   failed  pg_dump: error: ")
    assert "does not exist" in backup.stdout
    assert not dump.exists()
