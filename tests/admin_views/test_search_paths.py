"""The list search's two paths: exact matches for identifiers, substrings for the rest.

Through the list pages on both databases; on PostgreSQL, also the plans: an identifier is
found through its unique index, a name fragment through a trigram index, and a fragment of a
related table's column (a card's customer's email) through indexes only, never a read of the
whole list's table.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

import admin_views
from admin_views.payments import PaymentMethodAdmin
from admin_views.people import UserAdmin
from admin_views.shared.search import Exact, kind_of
from core.database import Database
from models import PaymentMethod, SupportTicket, User
from tests import rows
from tests.admin_views.screens import ROW_ID, listing

VIEWS = admin_views.discover_views()
ANN = rows.named_id("search-paths/ann")
JOANN = rows.named_id("search-paths/joann")
TXN = rows.named_id("search-paths/txn")
LONGER_TXN = rows.named_id("search-paths/longer_txn")
MESSAGE = rows.named_id("search-paths/message")
QZ = rows.named_id("search-paths/qz")
QZ_CARDS = [rows.named_id("search-paths/qz-card-1"), rows.named_id("qz-card-2")]
NAMED_CARD = rows.named_id("search-paths/named_card")
"""Cards found by "qzvork": two by their customer's email (one by its holder's name too), one
by its holder's name only, on another customer."""
BULK_USERS = 20_000
NEXT = re.compile(r'<a class="page-link" href="([^"]*after=[^"]*)">')


@pytest.fixture(scope="module")
async def found_rows(seeded_once: Database) -> dict[str, Any]:
    """Rows whose identifiers contain one another, on top of the module's demo data."""
    async with seeded_once.session() as db, db.begin():
        ann = rows.user_row(
            id=ANN, email="ann@example.com", phone="+15550102030", last_name="Zyxwardson"
        )
        await rows.insert(db, "users", ann)
        await rows.insert(
            db, "users", rows.user_row(id=JOANN, email="joann@example.com", phone="+15550102031")
        )
        wallet = rows.wallet_row(ANN)
        await rows.insert(db, "wallets", wallet)
        await rows.insert(
            db,
            "wallet_transactions",
            rows.transaction_row(wallet["id"], id=TXN, reference="TXN-20261128-ABCD1234"),
        )
        await rows.insert(
            db,
            "wallet_transactions",
            rows.transaction_row(wallet["id"], id=LONGER_TXN, reference="TXN-20261128-ABCD12345"),
        )
        await rows.insert(db, "users", rows.user_row(id=QZ, email="qzvork@example.com"))
        holders = ["Qzvork Ann", "Pat Smith"]
        for days, (card, holder) in enumerate(zip(QZ_CARDS, holders, strict=True), 1):
            made = rows.NOW - timedelta(days=days)
            await rows.insert(
                db,
                "payment_methods",
                rows.payment_method_row(QZ, id=card, holder_name=holder, created_at=made),
            )
        await rows.insert(
            db,
            "payment_methods",
            rows.payment_method_row(JOANN, id=NAMED_CARD, holder_name="Mira Qzvorkova"),
        )
        ticket = await db.scalar(sa.select(SupportTicket).limit(1))
        assert ticket is not None
        await rows.insert(
            db,
            "ticket_messages",
            rows.message_row(
                ticket.id, id=MESSAGE, body="Write to maria.jones@example.org, please."
            ),
        )
        return {"ticket": ticket.id, "ticket_reference": ticket.reference}


@pytest.fixture
def client(reader: httpx.AsyncClient, found_rows: dict[str, Any]) -> httpx.AsyncClient:
    """Every test here only reads: one seeding serves the module."""
    return reader


async def found(client: httpx.AsyncClient, slug: str, term: str) -> list[str]:
    total, ids = await listing(client, slug, search=term)
    assert total == len(ids)
    return ids


@pytest.mark.parametrize("term", ["ann@example.com", "ANN@Example.com", " ann@example.com "])
async def test_an_email_finds_its_user_and_not_one_that_contains_it(
    client: httpx.AsyncClient, term: str
) -> None:
    assert await found(client, "users", term) == [str(ANN)]


async def test_part_of_an_email_is_still_a_substring(client: httpx.AsyncClient) -> None:
    ids = await found(client, "users", "ann@example")

    assert str(ANN) in ids
    assert str(JOANN) in ids


@pytest.mark.parametrize("term", [str(ANN), ANN.hex, str(ANN).upper()])
async def test_a_uuid_finds_its_row(client: httpx.AsyncClient, term: str) -> None:
    assert await found(client, "users", term) == [str(ANN)]


async def test_a_transaction_id_finds_its_transaction(client: httpx.AsyncClient) -> None:
    assert await found(client, "wallet-transactions", str(TXN)) == [str(TXN)]


@pytest.mark.parametrize("term", ["+15550102030", "+1 555 010-2030", "15550102030"])
async def test_a_phone_number_finds_its_user(client: httpx.AsyncClient, term: str) -> None:
    assert await found(client, "users", term) == [str(ANN)]


@pytest.mark.parametrize("term", ["TXN-20261128-ABCD1234", "txn-20261128-abcd1234"])
async def test_a_transaction_reference_finds_its_transaction_only(
    client: httpx.AsyncClient, term: str
) -> None:
    assert await found(client, "wallet-transactions", term) == [str(TXN)]


async def test_part_of_a_reference_is_still_a_substring(client: httpx.AsyncClient) -> None:
    ids = await found(client, "wallet-transactions", "TXN-20261128-ABCD")

    assert sorted(ids) == sorted([str(TXN), str(LONGER_TXN)])


async def test_a_ticket_reference_finds_its_ticket(
    client: httpx.AsyncClient, found_rows: dict[str, Any]
) -> None:
    ids = await found(client, "support-tickets", found_rows["ticket_reference"])

    assert ids == [str(found_rows["ticket"])]


async def test_a_name_fragment_is_found_as_a_substring(client: httpx.AsyncClient) -> None:
    assert await found(client, "users", "xwards") == [str(ANN)]
    assert await found(client, "users", "XWARDS") == [str(ANN)]


async def test_an_email_is_a_substring_where_the_view_has_no_email_column(
    client: httpx.AsyncClient,
) -> None:
    assert await found(client, "ticket-messages", "jones@example.org") == [str(MESSAGE)]


async def test_a_customer_email_finds_their_wallets(client: httpx.AsyncClient) -> None:
    ids = await found(client, "wallets", "ann@example.com")

    assert len(ids) == 1


async def test_a_fragment_finds_cards_by_holder_or_customer_email_once_each_newest_first(
    client: httpx.AsyncClient,
) -> None:
    total, ids = await listing(client, "payment-methods", search="QZVORK")

    assert ids == [str(NAMED_CARD), *map(str, QZ_CARDS)]
    assert total == 3


async def test_a_term_shorter_than_a_trigram_finds_the_same_cards_through_the_join(
    client: httpx.AsyncClient,
) -> None:
    cards = [str(NAMED_CARD), *map(str, QZ_CARDS)]

    ids = await found(client, "payment-methods", "qZ")

    assert [card for card in ids if card in cards] == cards


async def test_a_fragment_of_a_customer_email_pages_their_cards_by_key(
    client: httpx.AsyncClient,
) -> None:
    url = "/admin/payment-methods/list?search=qzvork&pageSize=1"
    seen = []
    while url:
        response = await client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200, response.text[:300]
        seen += ROW_ID.findall(response.text)
        link = NEXT.search(response.text)
        url = link[1] if link else ""

    assert seen == [str(NAMED_CARD), *map(str, QZ_CARDS)]


async def test_a_fragment_of_a_customer_email_finds_their_tickets_and_nothing_else(
    client: httpx.AsyncClient, reader_db: AsyncSession
) -> None:
    owner = await reader_db.scalar(sa.select(SupportTicket.user_id).limit(1))
    email = await reader_db.scalar(sa.select(User.email).where(User.id == owner))
    expected = await reader_db.scalars(
        sa.select(SupportTicket.id).where(SupportTicket.user_id == owner)
    )

    ids = await found(client, "support-tickets", email.split("@")[0])

    assert sorted(ids) == sorted(str(ticket) for ticket in expected)


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("ann@example.com", (Exact.EMAIL, ["ann@example.com"])),
        ("Ann@Example.COM", (Exact.EMAIL, ["ann@example.com"])),
        ("+44 20 7946 0958", (Exact.PHONE, ["+442079460958"])),
        ("(555) 010-2030", (Exact.PHONE, ["5550102030", "+5550102030"])),
        ("TCK-7KQ2M9XD", (Exact.REFERENCE, ["TCK-7KQ2M9XD"])),
        ("tck-7kq2m9xd", (Exact.REFERENCE, ["TCK-7KQ2M9XD", "tck-7kq2m9xd"])),
        ("TXN-20261127-000000001", (Exact.REFERENCE, ["TXN-20261127-000000001"])),
        (
            "0b7e3c1e-8f1a-4d59-9a43-5b6f6f0c2d11",
            (Exact.UUID, [uuid.UUID("0b7e3c1e-8f1a-4d59-9a43-5b6f6f0c2d11")]),
        ),
        ("ann@", None),
        ("@example.com", None),
        ("ann smith@example.com", None),
        ("123456", None),
        ("1234567890123456", None),
        ("TXN-20261127", None),
        ("TCK-7KQ2", None),
        ("Lovelace", None),
    ],
)
def test_what_a_term_looks_like(term: str, expected: tuple[Exact, list[Any]] | None) -> None:
    assert kind_of(term) == expected


@pytest.mark.parametrize("view", [v for v in VIEWS if v.search_exact], ids=lambda v: v.resource())
def test_exact_columns_are_indexed_and_emails_stored_in_lower_case(view: Any) -> None:
    for kind, fields in view.search_exact.items():
        for field in fields:
            column = _column(view.model, field)
            indexed = column.primary_key or column.unique or column.index
            assert indexed, f"{view.resource()}: {column} has no index for {kind}"
            if kind is Exact.EMAIL:
                checks = [
                    str(c.sqltext)
                    for c in column.table.constraints
                    if isinstance(c, sa.CheckConstraint)
                ]
                assert f"{column.key} = lower({column.key})" in checks, column


def _column(model: Any, field: Any) -> Any:
    if not isinstance(field, str):
        return field.property.columns[0]
    *path, name = field.split(".")
    for part in path:
        model = getattr(model, part).mapper.class_
    return getattr(model, name).property.columns[0]


# On PostgreSQL: the plans. Rows go in, and are analyzed, inside a transaction rolled back after.
@pytest.fixture
async def many_users(backend: str, seeded_once: Database) -> AsyncIterator[AsyncSession]:
    if backend != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    async with seeded_once.session() as db:
        await db.execute(
            sa.text(
                """
                INSERT INTO users (id, email, phone, first_name, last_name, country, status,
                                   kyc_status, email_verified, created_at, updated_at)
                SELECT gen_random_uuid(), 'bulk' || g || '@example.net',
                       '+1444' || lpad(g::text, 7, '0'),
                       'First' || md5(g::text), 'Last' || md5((g * 7)::text), 'US', 'active',
                       'verified', true, now(), now()
                FROM generate_series(1, :n) AS g
                """
            ),
            {"n": BULK_USERS},
        )
        # New rows wait in each GIN index's pending list until (auto)vacuum merges them;
        # merge now, as a table that has been live a while would have it.
        await db.execute(
            sa.text(
                "SELECT gin_clean_pending_list(indexrelid) FROM pg_index"
                " WHERE indrelid = 'users'::regclass AND indexrelid::regclass::text LIKE '%trgm'"
            )
        )
        await db.execute(sa.text("ANALYZE users"))
        yield db
        await db.rollback()


async def plan(db: AsyncSession, term: str) -> str:
    stmt = UserAdmin().search_query(sa.select(User), term)
    connection = await db.connection()
    sql = stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    return "\n".join((await connection.exec_driver_sql(f"EXPLAIN {sql}")).scalars())


@pytest.mark.parametrize(
    ("term", "index"),
    [
        ("bulk12345@example.net", "uq_users_email"),
        ("+1 444 001 2345", "uq_users_phone"),
    ],
)
async def test_an_identifier_is_found_through_its_unique_index(
    many_users: AsyncSession, term: str, index: str
) -> None:
    shown = await plan(many_users, term)

    assert f"Index Scan using {index} on users" in shown, shown
    assert "Seq Scan" not in shown, shown


async def test_a_uuid_is_found_through_the_primary_key(many_users: AsyncSession) -> None:
    shown = await plan(many_users, str(ANN))

    assert "Index Scan using pk_users on users" in shown, shown
    assert "Seq Scan" not in shown, shown


async def test_a_name_fragment_is_found_through_the_trigram_indexes(
    many_users: AsyncSession,
) -> None:
    fragment = (await many_users.scalar(sa.text("SELECT md5('4242')")))[5:12]

    shown = await plan(many_users, fragment)

    assert "Bitmap Index Scan on ix_users_first_name_trgm" in shown, shown
    assert "Seq Scan" not in shown, shown


@pytest.fixture
async def many_cards(many_users: AsyncSession) -> AsyncSession:
    """A card for each bulk customer, holder named as the customer: a list's table far
    bigger than what one customer's email fragment finds."""
    await many_users.execute(
        sa.text(
            """
            INSERT INTO payment_methods (id, user_id, kind, brand, last_four, exp_month,
                                         exp_year, holder_name, is_default, status,
                                         created_at, updated_at)
            SELECT gen_random_uuid(), id, 'card', 'visa', right(phone, 4), 12, 2030,
                   first_name || ' ' || last_name, false, 'active', created_at, created_at
            FROM users WHERE email LIKE 'bulk%'
            """
        )
    )
    await many_users.execute(
        sa.text(
            "SELECT gin_clean_pending_list(indexrelid) FROM pg_index"
            " WHERE indrelid = 'payment_methods'::regclass"
            " AND indexrelid::regclass::text LIKE '%trgm'"
        )
    )
    await many_users.execute(sa.text("ANALYZE payment_methods"))
    return many_users


async def test_a_fragment_of_a_customer_email_reads_cards_through_indexes_only(
    many_cards: AsyncSession,
) -> None:
    request = Request({"type": "http", "query_string": b"search=bulk12345", "headers": []})
    stmt = PaymentMethodAdmin().filtered_query(request).limit(25)
    connection = await many_cards.connection()
    sql = stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})

    shown = "\n".join((await connection.exec_driver_sql(f"EXPLAIN {sql}")).scalars())

    assert "Bitmap Index Scan on ix_users_email_trgm" in shown, shown
    assert "Bitmap Index Scan on ix_payment_methods_user_id" in shown, shown
    assert "Bitmap Index Scan on ix_payment_methods_holder_name_trgm" in shown, shown
    assert "Seq Scan" not in shown, shown
    found = (await connection.exec_driver_sql(sql.string)).all()
    assert [row.holder_name for row in found] == [
        await many_cards.scalar(
            sa.select(PaymentMethod.holder_name)
            .join(User)
            .where(User.email == "bulk12345@example.net")
        )
    ]


async def test_the_bulk_rows_do_not_outlive_the_plan_tests(reader_db: AsyncSession) -> None:
    bulk = await reader_db.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.email.like("bulk%"))
    )
    assert bulk == 0
