"""The `swipesavvy-admin` command line, run as staff run it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
import sqlalchemy as sa

from audit.chain import GENESIS_HASH, row_hash
from core.database import Database
from core.settings import Settings
from migrations import runner
from models import (
    AdminUser,
    AICampaign,
    AuditLog,
    Base,
    CampaignPerformance,
    Role,
    SupportTicket,
    TicketMessage,
    User,
    Wallet,
    WalletTransaction,
)
from tests import discovered
from tests.command_line import invoke
from tests.databases import TEST_BCRYPT_ROUNDS, fresh_database_url, make_settings

GOOD_PASSWORD = "correct horse battery staple"
GRANT_LINE = re.compile(r"granted \w+ \w+:\S+ \(declared by its screen\)")


async def count(database: Database, model: type[Base]) -> int:
    async with database.session() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(model)))


@pytest.fixture(autouse=True)
def isolated_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer's .env or .secret_key leaks into a test."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fresh_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    with fresh_database_url(backend, tmp_path, "cli") as url:
        yield make_settings(url)


async def test_migrate_brings_an_empty_database_to_head(fresh_settings: Settings) -> None:
    result = await invoke(fresh_settings, "migrate")

    # A screen added after the default roles' migration gets its grants printed here.
    *granted, at = result.stdout.splitlines()
    assert result.exit_code == 0, result.output
    assert at == f"database is at revision {runner.head_revision()}"
    assert [line for line in granted if not GRANT_LINE.fullmatch(line)] == []
    database = Database(fresh_settings)
    try:
        assert await count(database, Role) == 7
    finally:
        await database.dispose()


async def test_create_admin_reads_the_password_from_stdin(
    settings: Settings, clean_database: Database
) -> None:
    result = await invoke(
        settings,
        "create-admin",
        "--email",
        " Rosa.Diaz@Example.com ",
        "--role",
        "support",
        "--password-stdin",
        stdin=GOOD_PASSWORD + "\n",
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "created support account rosa.diaz@example.com"
    async with clean_database.session() as session:
        admin = await session.scalar(
            sa.select(AdminUser).where(AdminUser.email == "rosa.diaz@example.com")
        )
        role = await session.get(Role, admin.role_id)
    assert role.name == "support"
    assert admin.is_active
    assert admin.password_hash.startswith(f"$2b${TEST_BCRYPT_ROUNDS:02d}$")
    assert bcrypt.checkpw(GOOD_PASSWORD.encode(), admin.password_hash.encode())
    assert GOOD_PASSWORD not in result.output


async def test_create_admin_prompts_twice_for_the_password(
    settings: Settings, clean_database: Database
) -> None:
    result = await invoke(
        settings,
        "create-admin",
        "--email",
        "amy@example.com",
        "--role",
        "analyst",
        stdin=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert await count(clean_database, AdminUser) == 1
    assert GOOD_PASSWORD not in result.output


@pytest.mark.parametrize(
    ("email", "role", "password", "message"),
    [
        (
            "new@example.com",
            "wizard",
            GOOD_PASSWORD,
            "unknown role 'wizard'; choose one of: admin,",
        ),
        (
            "taken@example.com",
            "support",
            GOOD_PASSWORD,
            "a staff account with email taken@example.com already exists.",
        ),
        ("TAKEN@example.com", "support", GOOD_PASSWORD, "already exists"),
        (
            "new@example.com",
            "support",
            "short-pw",
            "password is too short: use at least 12 characters.",
        ),
        ("new@example.com", "support", "a" * 20, "password repeats too few characters"),
        ("new@example.com", "support", "x" * 73, "password is too long"),
        ("not-an-email", "support", GOOD_PASSWORD, "'not-an-email' is not an email address."),
    ],
)
async def test_create_admin_refuses_bad_input_and_writes_nothing(
    settings: Settings,
    clean_database: Database,
    email: str,
    role: str,
    password: str,
    message: str,
) -> None:
    await invoke(
        settings,
        "create-admin",
        "--email",
        "taken@example.com",
        "--role",
        "viewer",
        "--password-stdin",
        stdin=GOOD_PASSWORD,
    )

    result = await invoke(
        settings,
        "create-admin",
        "--email",
        email,
        "--role",
        role,
        "--password-stdin",
        stdin=password,
    )

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert await count(clean_database, AdminUser) == 1


async def test_seed_demo_fills_every_table_consistently(
    settings: Settings, clean_database: Database
) -> None:
    result = await invoke(settings, "seed-demo", "--users", "80")

    assert result.exit_code == 0, result.output
    async with clean_database.session() as session:
        empty = await discovered.tables_without_rows(session)
        assert not empty, empty
        assert await session.scalar(sa.select(sa.func.count()).select_from(User)) == 80

        posted = (
            sa.select(
                WalletTransaction.wallet_id, sa.func.sum(WalletTransaction.amount).label("total")
            )
            .where(WalletTransaction.status == "posted")
            .group_by(WalletTransaction.wallet_id)
            .subquery()
        )
        mismatched = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Wallet)
            .outerjoin(posted, posted.c.wallet_id == Wallet.id)
            .where(Wallet.balance != sa.func.coalesce(posted.c.total, 0))
        )
        assert mismatched == 0

        original = sa.orm.aliased(WalletTransaction)
        refunds = (
            await session.execute(
                sa.select(WalletTransaction.amount, original.amount, original.type)
                .join(original, WalletTransaction.related_transaction_id == original.id)
                .where(WalletTransaction.type == "refund")
            )
        ).all()
        assert refunds
        assert all(kind == "purchase" and refund == -paid for refund, paid, kind in refunds)

        answered = (
            await session.execute(
                sa.select(SupportTicket.first_response_at, sa.func.min(TicketMessage.created_at))
                .join(TicketMessage)
                .where(TicketMessage.author_type == "agent")
                .group_by(SupportTicket.id, SupportTicket.first_response_at)
            )
        ).all()
        assert answered
        assert all(first == earliest for first, earliest in answered)
        assert (
            await session.scalar(
                sa.select(sa.func.count())
                .select_from(SupportTicket)
                .where(~SupportTicket.messages.any())
            )
            == 0
        )

        spend = (
            await session.execute(
                sa.select(
                    AICampaign.spend, sa.func.coalesce(sa.func.sum(CampaignPerformance.spend), 0)
                )
                .outerjoin(CampaignPerformance)
                .group_by(AICampaign.id, AICampaign.spend)
            )
        ).all()
        assert all(total == summed for total, summed in spend)

        trail = (await session.scalars(sa.select(AuditLog).order_by(AuditLog.sequence))).all()
    previous = GENESIS_HASH
    for entry in trail:
        fields = {column.key: getattr(entry, column.key) for column in AuditLog.__table__.columns}
        assert entry.prev_hash == previous
        assert entry.row_hash == row_hash(fields)
        previous = entry.row_hash


async def test_seed_demo_refuses_a_database_with_data_unless_forced(
    settings: Settings, clean_database: Database
) -> None:
    await invoke(
        settings,
        "create-admin",
        "--email",
        "keep@example.com",
        "--role",
        "admin",
        "--password-stdin",
        stdin=GOOD_PASSWORD,
    )
    assert (await invoke(settings, "seed-demo", "--users", "30")).exit_code == 0
    staff_before = await count(clean_database, AdminUser)

    refused = await invoke(settings, "seed-demo", "--users", "30")

    assert refused.exit_code == 1
    assert "error: the database already holds data; pass --force" in refused.stderr
    assert await count(clean_database, User) == 30

    forced = await invoke(settings, "seed-demo", "--users", "40", "--force")

    assert forced.exit_code == 0, forced.output
    assert await count(clean_database, User) == 40
    assert await count(clean_database, AdminUser) == staff_before
    async with clean_database.session() as session:
        assert await session.scalar(
            sa.select(AdminUser.id).where(AdminUser.email == "keep@example.com")
        )


async def test_seed_demo_is_refused_in_production(
    settings: Settings, clean_database: Database
) -> None:
    result = await invoke(settings, "seed-demo", ENV="production")

    assert result.exit_code == 1
    assert (
        result.stderr == "error: seed-demo writes demo data and is refused when ENV=production.\n"
    )
    assert await count(clean_database, User) == 0


@pytest.mark.parametrize(
    ("database_url", "message"),
    [
        (
            "postgresql://postgres@127.0.0.1:1/swipesavvy",
            "error: cannot reach the database at postgresql+asyncpg://postgres@127.0.0.1:1/swipesavvy:",
        ),
        (
            "sqlite+aiosqlite:////nonexistent/directory/swipesavvy.db",
            "error: cannot reach the database at sqlite+aiosqlite:////nonexistent/directory/swipesavvy.db:",
        ),
        (
            "mysql://root@127.0.0.1/swipesavvy",
            "error: DATABASE_URL must point at PostgreSQL or SQLite, got 'mysql'.",
        ),
        ("not a url", "error: DATABASE_URL is not a database URL: 'not a url'."),
    ],
)
async def test_serve_names_the_database_it_cannot_use(
    settings: Settings, database_url: str, message: str
) -> None:
    result = await invoke(settings, "serve", DATABASE_URL=database_url)

    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


async def test_serve_refuses_a_database_that_is_not_migrated(fresh_settings: Settings) -> None:
    result = await invoke(fresh_settings, "serve")

    assert result.exit_code == 1
    head = runner.head_revision()
    assert f"is at revision none, not {head}: run `swipesavvy-admin migrate`." in result.stderr


async def test_production_without_a_secret_key_stops_every_command(settings: Settings) -> None:
    result = await invoke(settings, "serve", ENV="production", SECRET_KEY="")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: SECRET_KEY is not set: production needs a random key")
