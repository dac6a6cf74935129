"""The demo reaches every state a screen can show, so every action can be tried on it.

`seed-demo` with its defaults seeds what `swipesavvy-admin demo` seeds. Every choice column
then shows each value its model allows, read from the model so that a state added later fails
here until the demo covers it; every yes/no column shows both answers; the states that are not
one column (a locked account, a live session, a flag not yet started or stale, ...) show up;
and the ledger and the audit trail still verify.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from core.database import Database
from core.settings import Settings
from flags.usage import last_evaluated_of
from models import (
    AdminSession,
    AdminUser,
    AICampaign,
    Base,
    FeatureFlag,
    Merchant,
    PaymentMethod,
    SupportTicket,
    Wallet,
    WalletTransaction,
)
from models.base import utcnow
from tests import discovered
from tests.command_line import invoke
from tests.databases import fresh_database_url, make_settings

CHOICE_COLUMNS = [
    column
    for table in Base.metadata.sorted_tables
    for column in table.columns
    if isinstance(column.type, sa.Enum)
]
YES_NO_COLUMNS = [
    column
    for table in Base.metadata.sorted_tables
    for column in table.columns
    if isinstance(column.type, sa.Boolean)
]


def named(column: sa.Column) -> str:
    return f"{column.table.name}.{column.name}"


@pytest.fixture(scope="module")
def demo_settings(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch, fresh_database_url(backend, folder, "demo") as url:
        patch.chdir(folder)  # no developer's .env or .secret_key leaks in
        yield make_settings(url)


@pytest.fixture(scope="module")
async def demo(demo_settings: Settings) -> AsyncIterator[Database]:
    """A database migrated and seeded from the command line, with the demo's defaults."""
    for command in ("migrate", "seed-demo"):
        result = await invoke(demo_settings, command)
        assert result.exit_code == 0, result.output
    database = Database(demo_settings)
    yield database
    await database.dispose()


async def present(connection: AsyncConnection, model: type[Base], *where: sa.ColumnElement) -> int:
    return await connection.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def states_beyond_one_column(now: datetime) -> dict[str, tuple[type[Base], sa.ColumnElement]]:
    """What a screen shows, or an action needs, that no single column's value says."""
    live = sa.and_(AdminSession.revoked_at.is_(None), AdminSession.expires_at > now)
    expired = sa.and_(AdminSession.revoked_at.is_(None), AdminSession.expires_at <= now)
    correction = aliased(WalletTransaction)
    return {
        "locked staff account": (AdminUser, AdminUser.locked_until > now),
        "staff account not locked": (
            AdminUser,
            sa.or_(AdminUser.locked_until.is_(None), AdminUser.locked_until <= now),
        ),
        "live staff session": (AdminSession, live),
        "expired staff session": (AdminSession, expired),
        "revoked staff session": (AdminSession, AdminSession.revoked_at.is_not(None)),
        "flag scheduled to start": (FeatureFlag, FeatureFlag.starts_at > now),
        "flag within its schedule": (
            FeatureFlag,
            sa.and_(FeatureFlag.starts_at <= now, FeatureFlag.ends_at > now),
        ),
        "flag whose schedule is over": (FeatureFlag, FeatureFlag.ends_at <= now),
        "flag with no schedule": (
            FeatureFlag,
            sa.and_(FeatureFlag.starts_at.is_(None), FeatureFlag.ends_at.is_(None)),
        ),
        "frozen wallet holding money": (
            Wallet,
            sa.and_(Wallet.status == "frozen", Wallet.balance > 0),
        ),
        "active wallet holding money": (
            Wallet,
            sa.and_(Wallet.status == "active", Wallet.balance > 0),
        ),
        "posted purchase left to refund or reverse": (
            WalletTransaction,
            sa.and_(
                WalletTransaction.type == "purchase",
                WalletTransaction.status == "posted",
                ~sa.exists().where(correction.related_transaction_id == WalletTransaction.id),
            ),
        ),
        "ticket nobody is assigned": (SupportTicket, SupportTicket.assignee_id.is_(None)),
        "ticket assigned to an agent": (SupportTicket, SupportTicket.assignee_id.is_not(None)),
        "merchant taken off the platform": (Merchant, Merchant.deactivated_at.is_not(None)),
        "campaign scheduled to start": (
            AICampaign,
            sa.and_(AICampaign.status == "scheduled", AICampaign.starts_at > now),
        ),
        "campaign that ran to its end": (
            AICampaign,
            sa.and_(AICampaign.status == "completed", AICampaign.ends_at <= now),
        ),
    }


async def test_every_choice_column_shows_every_value_its_model_allows(demo: Database) -> None:
    missing: dict[str, list[str]] = {}
    async with demo.engine.connect() as connection:
        empty = await discovered.tables_without_rows(connection)
        assert not empty, empty
        for column in CHOICE_COLUMNS:
            seen = set(await connection.scalars(sa.select(column).distinct()))
            if lacking := [value for value in column.type.enums if value not in seen]:
                missing[named(column)] = lacking

    assert {"merchants.status", "wallets.status", "support_tickets.status"} <= {
        named(column) for column in CHOICE_COLUMNS
    }
    assert missing == {}


async def test_every_yes_no_column_shows_both_answers(demo: Database) -> None:
    missing: dict[str, list[bool]] = {}
    async with demo.engine.connect() as connection:
        empty = await discovered.tables_without_rows(connection)
        assert not empty, empty
        for column in YES_NO_COLUMNS:
            seen = set(await connection.scalars(sa.select(column).distinct()))
            if lacking := [answer for answer in (True, False) if answer not in seen]:
                missing[named(column)] = lacking

    assert {"admin_users.is_active", "feature_flags.enabled", "settings.is_secret"} <= {
        named(column) for column in YES_NO_COLUMNS
    }
    assert missing == {}


async def test_states_beyond_one_column_each_show_up(demo: Database) -> None:
    now = utcnow()
    async with demo.engine.connect() as connection:
        found = {
            state: await present(connection, model, where)
            for state, (model, where) in states_beyond_one_column(now).items()
        }
    async with demo.session() as session:
        flags = (await session.scalars(sa.select(FeatureFlag))).all()
        evaluated = await last_evaluated_of(session, [flag.key for flag in flags])

    assert [state for state, rows in found.items() if rows == 0] == []
    assert {flag.is_stale(now, evaluated.get(flag.key)) for flag in flags} == {True, False}
    # The demo counts two days of polls: every flag is in use.
    assert set(evaluated) == {flag.key for flag in flags}


def broken_rules(now: datetime) -> dict[str, tuple[type[Base], sa.ColumnElement]]:
    """Rows in a state that contradicts the rest of the row; none may exist."""
    return {
        "closed wallet holding money": (
            Wallet,
            sa.and_(Wallet.status == "closed", Wallet.balance != 0),
        ),
        "disabled staff account still signed in": (
            AdminSession,
            sa.and_(
                AdminSession.revoked_at.is_(None),
                AdminSession.admin_user.has(AdminUser.is_active.is_(False)),
            ),
        ),
        "removed payment method still the default": (
            PaymentMethod,
            sa.and_(PaymentMethod.status == "removed", PaymentMethod.is_default),
        ),
        "expired card not past its expiry": (
            PaymentMethod,
            sa.and_(PaymentMethod.status == "expired", PaymentMethod.exp_year >= now.year),
        ),
        "card in use past its expiry": (
            PaymentMethod,
            sa.and_(PaymentMethod.status == "active", PaymentMethod.exp_year < now.year),
        ),
    }


async def test_no_state_contradicts_the_rest_of_its_row(demo: Database) -> None:
    async with demo.engine.connect() as connection:
        closed = await present(connection, Wallet, Wallet.status == "closed")
        found = {
            rule: await present(connection, model, where)
            for rule, (model, where) in broken_rules(utcnow()).items()
        }

    assert closed > 0
    assert found == dict.fromkeys(found, 0)


async def test_the_ledger_and_the_audit_trail_verify(
    demo: Database, demo_settings: Settings
) -> None:
    ledger = await invoke(demo_settings, "ledger", "verify")
    audit = await invoke(demo_settings, "audit", "verify")

    assert ledger.exit_code == 0, ledger.output
    assert "ledger balanced" in ledger.stdout
    assert audit.exit_code == 0, audit.output
    assert "audit trail intact" in audit.stdout
