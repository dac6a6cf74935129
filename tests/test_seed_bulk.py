"""Bulk seeding: on PostgreSQL demo data goes in with COPY, all of it or none of it, and comes
out the same as the row-by-row inserts SQLite gets from the same seed."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.database import Database
from core.settings import Settings
from demo_data import generate
from demo_data.ahead import read_ahead
from demo_data.load import seed_demo
from demo_data.pg_copy import CopyWriter
from migrations import runner
from models import Base, Merchant, SupportTicket, TicketMessage, User, Wallet, WalletTransaction
from models.merchants import MerchantStatus
from tests.databases import TEST_BCRYPT_ROUNDS, fresh_database_url, make_settings

USERS = 300
SEED = 7
NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
"""Both databases get data generated as of the same moment, so the same seed gives the same rows."""
INDEXES = sa.text(
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
    "ORDER BY indexname"
)


@pytest.fixture(scope="module")
def postgres_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with fresh_database_url("postgresql", tmp_path_factory.mktemp("pg"), "seed") as url:
        settings = make_settings(url)
        runner.upgrade(settings)
        yield settings


@pytest.fixture(scope="module")
def sqlite_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    with fresh_database_url("sqlite", tmp_path_factory.mktemp("sqlite"), "seed") as url:
        settings = make_settings(url)
        runner.upgrade(settings)
        return settings


@pytest.fixture(scope="module")
async def postgres(postgres_settings: Settings) -> AsyncIterator[Database]:
    database = Database(postgres_settings)
    yield database
    await database.dispose()


@pytest.fixture(scope="module")
async def sqlite(sqlite_settings: Settings) -> AsyncIterator[Database]:
    database = Database(sqlite_settings)
    yield database
    await database.dispose()


@pytest.fixture(scope="module")
async def indexes_before(postgres: Database) -> list[tuple[str, str]]:
    async with postgres.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(INDEXES)]


@pytest.fixture(scope="module")
async def seeded(
    postgres: Database, sqlite: Database, indexes_before: list[tuple[str, str]]
) -> dict[str, Any]:
    """Seed both databases alike, recording every COPY the PostgreSQL one took."""
    copied: Counter[str] = Counter()
    copy = CopyWriter.copy

    async def spy(writer: CopyWriter, prepared: Any) -> int:
        copied[prepared.table.name] += len(prepared.records)
        return await copy(writer, prepared)

    migrated = await counts(postgres)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CopyWriter, "copy", spy)
        on_postgres = await seed(postgres)
        on_sqlite = await seed(sqlite)
    return {"postgres": on_postgres, "sqlite": on_sqlite, "copied": copied, "migrated": migrated}


async def seed(database: Database, users: int = USERS) -> Counter[str]:
    return await seed_demo(
        database, users=users, seed=SEED, bcrypt_rounds=TEST_BCRYPT_ROUNDS, now=NOW
    )


async def counts(database: Database) -> dict[str, int]:
    async with database.engine.connect() as connection:
        return {
            table.name: await connection.scalar(sa.select(sa.func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


async def inconsistencies(connection: AsyncConnection) -> dict[str, int]:
    """Rows breaking the generator's promises, counted by SQL; all zero when consistent."""
    posted = (
        sa.select(WalletTransaction.wallet_id, sa.func.sum(WalletTransaction.amount).label("sum"))
        .where(WalletTransaction.status == "posted")
        .group_by(WalletTransaction.wallet_id)
        .subquery()
    )
    original = sa.orm.aliased(WalletTransaction)
    corrections = (
        sa.select(WalletTransaction.related_transaction_id)
        .where(WalletTransaction.type.in_(["refund", "reversal"]))
        .group_by(WalletTransaction.related_transaction_id)
        .having(sa.func.count() > 1)
        .subquery()
    )
    questions = {
        "balance other than its posted sum": sa.select(sa.func.count())
        .select_from(Wallet)
        .outerjoin(posted, posted.c.wallet_id == Wallet.id)
        .where(Wallet.balance != sa.func.coalesce(posted.c.sum, 0)),
        "refund not of a posted purchase": sa.select(sa.func.count())
        .select_from(WalletTransaction)
        .outerjoin(original, WalletTransaction.related_transaction_id == original.id)
        .where(
            WalletTransaction.type == "refund",
            sa.or_(
                original.id.is_(None),
                original.type != "purchase",
                original.status != "posted",
                WalletTransaction.amount != -original.amount,
            ),
        ),
        "reversal other than the opposite of a posted transaction": sa.select(sa.func.count())
        .select_from(WalletTransaction)
        .outerjoin(original, WalletTransaction.related_transaction_id == original.id)
        .where(
            WalletTransaction.type == "reversal",
            sa.or_(
                original.id.is_(None),
                original.status != "posted",
                WalletTransaction.amount != -original.amount,
            ),
        ),
        "purchase refunded or reversed more than once": sa.select(sa.func.count()).select_from(
            corrections
        ),
        "closed wallet holding money": sa.select(sa.func.count())
        .select_from(Wallet)
        .where(Wallet.status == "closed", Wallet.balance != 0),
        "ticket without messages": sa.select(sa.func.count())
        .select_from(SupportTicket)
        .where(~SupportTicket.messages.any()),
        "first response other than the first agent reply": sa.select(sa.func.count()).where(
            SupportTicket.first_response_at
            != sa.select(sa.func.min(TicketMessage.created_at))
            .where(
                TicketMessage.ticket_id == SupportTicket.id, TicketMessage.author_type == "agent"
            )
            .scalar_subquery()
        ),
    }
    return {name: await connection.scalar(question) for name, question in questions.items()}


async def test_postgres_seeding_copies_every_table_it_writes(seeded: dict[str, Any]) -> None:
    written = seeded["postgres"].copy()
    # The dashboard's rollups are computed from the loaded rows afterwards, not copied.
    assert written.pop("dashboard_analytics") > 0
    assert seeded["copied"] == written
    assert seeded["copied"]["users"] == USERS
    assert seeded["copied"]["wallet_transactions"] > 3 * USERS


async def test_postgres_and_sqlite_get_the_same_rows(
    seeded: dict[str, Any], postgres: Database, sqlite: Database
) -> None:
    on_postgres, on_sqlite = await counts(postgres), await counts(sqlite)

    assert seeded["postgres"] == seeded["sqlite"]
    assert on_postgres == on_sqlite
    # Each table holds what the migrations wrote (roles, settings) and what the seeding did.
    written = {table: on_postgres[table] - seeded["migrated"][table] for table in on_postgres}
    assert {table: written[table] for table in seeded["postgres"]} == seeded["postgres"]
    balances = sa.select(Wallet.id, Wallet.balance, Wallet.status)
    emails = sa.select(User.email)
    async with postgres.engine.connect() as pg, sqlite.engine.connect() as lite:
        assert sorted(await pg.execute(balances)) == sorted(await lite.execute(balances))
        assert sorted(await pg.scalars(emails)) == sorted(await lite.scalars(emails))


async def test_copied_data_keeps_the_generators_promises(
    seeded: dict[str, Any], postgres: Database, sqlite: Database
) -> None:
    async with postgres.engine.connect() as pg, sqlite.engine.connect() as lite:
        on_postgres, on_sqlite = await inconsistencies(pg), await inconsistencies(lite)

    assert on_postgres == dict.fromkeys(on_postgres, 0)
    assert on_sqlite == on_postgres


async def test_indexes_set_aside_for_the_load_come_back_as_they_were(
    seeded: dict[str, Any], postgres: Database, indexes_before: list[tuple[str, str]]
) -> None:
    async with postgres.engine.connect() as connection:
        after = [tuple(row) for row in await connection.execute(INDEXES)]
        plain = await connection.scalar(
            sa.text(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'wallet_transactions' "
                "AND indexdef NOT LIKE 'CREATE UNIQUE%'"
            )
        )

    assert after == indexes_before
    assert plain > 0


def stop_at_second_users_batch(failure: str) -> Any:
    """A `DemoData.batches` that goes wrong at its second batch of customers, once the first
    customers' rows (wallets, transactions) are copied, in one of two ways."""
    original = generate.DemoData.batches

    def batches_then_fail(data: generate.DemoData) -> Iterator[generate.Batch]:
        users = 0
        for batch in original(data):
            users += batch.table == "users"
            if batch.table == "users" and users == 2:
                if failure == "generator raises":
                    raise RuntimeError("generator broke")
                # the server refuses this one: a user whose email is already taken
                batch.rows[-1]["email"] = batch.rows[0]["email"]
            yield batch

    return batches_then_fail


@pytest.fixture
def fresh_postgres_settings(tmp_path: Path) -> Iterator[Settings]:
    with fresh_database_url("postgresql", tmp_path, "seedfail") as url:
        settings = make_settings(url)
        runner.upgrade(settings)
        yield settings


@pytest.fixture
async def fresh_postgres(fresh_postgres_settings: Settings) -> AsyncIterator[Database]:
    database = Database(fresh_postgres_settings)
    yield database
    await database.dispose()


@pytest.mark.parametrize("failure", ["generator raises", "server refuses a row"])
async def test_a_failure_in_the_middle_of_copy_leaves_nothing(
    fresh_postgres: Database, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    before = await counts(fresh_postgres)
    async with fresh_postgres.engine.connect() as connection:
        indexes = (await connection.execute(INDEXES)).all()
    copied: Counter[str] = Counter()
    copy = CopyWriter.copy

    async def spy(writer: CopyWriter, prepared: Any) -> int:
        copied[prepared.table.name] += 1
        return await copy(writer, prepared)

    monkeypatch.setattr(CopyWriter, "copy", spy)
    monkeypatch.setattr(generate.DemoData, "batches", stop_at_second_users_batch(failure))
    monkeypatch.setattr(generate, "USER_BATCH", 50)

    with pytest.raises(Exception, match=r"generator broke|duplicate key"):
        await seed(fresh_postgres, users=200)

    assert copied["wallet_transactions"] >= 1
    assert await counts(fresh_postgres) == before
    async with fresh_postgres.engine.connect() as connection:
        assert (await connection.execute(INDEXES)).all() == indexes


async def test_copy_stores_what_an_insert_stores(postgres: Database) -> None:
    """Values as the app hands them to SQLAlchemy, and columns left to their defaults."""
    given = {
        "name": "Corner Shop",
        "status": MerchantStatus.ACTIVE,  # an enum member, stored as its value
        "category": "grocery",
        "cashback_rate": Decimal("1.5"),
        "tags": ["local", "organic"],
        "address": {"city": "Leeds", "lines": ["1 Main St"]},
        "approved_at": datetime(2026, 1, 2, 3, 4, 5),  # naive: taken to be UTC
        "rejection_reason": None,
    }
    copied_id, inserted_id = uuid.uuid4(), uuid.uuid4()
    table = Merchant.__table__
    async with postgres.engine.connect() as connection, connection.begin() as transaction:
        copy = await CopyWriter.open(connection)
        await copy.write(
            table, [{**given, "id": copied_id, "contact_email": "copy@shop.example.com"}]
        )
        await connection.execute(
            sa.insert(table),
            [{**given, "id": inserted_id, "contact_email": "insert@shop.example.com"}],
        )
        rows = (
            (
                await connection.execute(
                    sa.select(table).where(table.c.id.in_([copied_id, inserted_id]))
                )
            )
            .mappings()
            .all()
        )
        await transaction.rollback()

    by_id = {row["id"]: dict(row) for row in rows}
    copied, inserted = by_id[copied_id], by_id[inserted_id]
    for row in (copied, inserted):
        for column in ("id", "contact_email", "created_at", "updated_at"):
            row.pop(column)
    assert copied == inserted
    assert copied["status"] == "active"
    assert copied["address"] == given["address"]
    assert copied["approved_at"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def test_copy_refuses_a_column_the_table_lacks(postgres: Database) -> None:
    async with postgres.engine.connect() as connection, connection.begin():
        copy = await CopyWriter.open(connection)
        with pytest.raises(ValueError, match="merchants has no column colour"):
            await copy.write(Merchant.__table__, [{"name": "x", "colour": "red"}])


async def test_copy_runs_only_inside_a_transaction(postgres: Database) -> None:
    async with postgres.engine.connect() as connection:
        with pytest.raises(RuntimeError, match="inside the caller's transaction"):
            await CopyWriter.open(connection)


async def test_read_ahead_hands_on_the_items_and_their_error() -> None:
    def items() -> Iterator[int]:
        yield from range(5)
        raise LookupError("item 5 went missing")

    got: list[int] = []

    async def read() -> None:
        async for item in read_ahead(items(), depth=2):
            got.append(item)

    with pytest.raises(LookupError, match="item 5 went missing"):
        await read()
    assert got == [0, 1, 2, 3, 4]


async def test_read_ahead_stops_its_worker_when_the_reader_stops() -> None:
    made = []

    def items() -> Iterator[int]:
        for n in range(1_000):
            made.append(n)
            yield n

    reader = read_ahead(items(), depth=3)
    assert await anext(reader) == 0
    await reader.aclose()
    stopped_at = len(made)

    assert stopped_at <= 5
    assert len(made) == stopped_at  # nothing runs on after the close


def test_the_progress_bar_expects_about_as_many_rows_as_are_written() -> None:
    data = generate.DemoData(
        5_000, role_ids=defaultdict(uuid.uuid4), password_hash="x", seed=SEED, now=NOW
    )
    written = sum(len(batch.rows) for batch in data.batches())

    assert 0.9 < generate.estimated_rows(5_000) / written < 1.1
