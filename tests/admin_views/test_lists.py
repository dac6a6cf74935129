"""Every table's list: search, every filter, sort, page sizes, labels, formatting.

Expected rows come from our own queries against the database, so each filter is checked
against what it claims to select, not against itself.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

import admin_views
from admin_views.base import StaffView
from admin_views.shared.filters import (
    ChoiceFilter,
    DateRangeFilter,
    DistinctValuesFilter,
    RelatedFilter,
    YesNoFilter,
)
from admin_views.shared.flag_lifecycle import ArchivedFilter, StaleFilter
from models import FeatureFlag, PaymentMethod, SupportTicket, User, Wallet, WalletTransaction
from tests.admin_views.screens import ROW_ID, listing

VIEWS = admin_views.discover_views()


@pytest.fixture
def client(reader: httpx.AsyncClient) -> httpx.AsyncClient:
    """Every test here only reads: one seeding serves the module."""
    return reader


@pytest.fixture
def db(reader_db: AsyncSession) -> AsyncSession:
    return reader_db


FILTERED = [(view, f) for view in VIEWS for f in view.column_filters]


def slug(view: type[StaffView]) -> str:
    return view.resource().replace("_", "-")


async def expected(db: AsyncSession, view: type[StaffView], *where: Any) -> int:
    await db.rollback()
    return int(await db.scalar(sa.select(sa.func.count()).select_from(view.model).where(*where)))


async def a_value(db: AsyncSession, column: Any) -> Any:
    """The most common non-null value, so the filter has rows to find."""
    return await db.scalar(
        sa.select(column)
        .where(column.is_not(None))
        .group_by(column)
        .order_by(sa.func.count().desc())
        .limit(1)
    )


@pytest.mark.parametrize(
    ("view", "filter_"),
    FILTERED,
    ids=[f"{view.resource()}-{f.parameter_name}" for view, f in FILTERED],
)
async def test_each_filter_selects_exactly_its_rows(
    client: httpx.AsyncClient,
    db: AsyncSession,
    view: type[StaffView],
    filter_: Any,
) -> None:
    checks: list[tuple[dict[str, str], Any]] = []
    if isinstance(filter_, ChoiceFilter | DistinctValuesFilter | RelatedFilter):
        value = await a_value(db, filter_.column)
        if value is None:
            pytest.skip(f"the demo data has no {filter_.title}")
        checks.append(({filter_.parameter_name: str(value)}, filter_.column == value))
    elif isinstance(filter_, YesNoFilter):
        checks.append(({filter_.parameter_name: "yes"}, filter_.column))
        checks.append(({filter_.parameter_name: "no"}, sa.not_(filter_.column)))
    elif isinstance(filter_, DateRangeFilter):
        low = await db.scalar(sa.select(sa.func.min(filter_.column)))
        if low is None:
            pytest.skip(f"the demo data has no {filter_.title}")
        moment = isinstance(low, datetime)
        start = low.date() if moment else low
        end = start + timedelta(days=60)
        lower: Any = datetime.combine(start, time(), UTC) if moment else start
        upper: Any = (
            datetime.combine(end + timedelta(days=1), time(), UTC)
            if moment
            else end + timedelta(days=1)
        )
        params = {
            filter_.start_parameter: start.isoformat(),
            filter_.end_parameter: end.isoformat(),
        }
        checks.append((params, sa.and_(filter_.column >= lower, filter_.column < upper)))
    elif isinstance(filter_, StaleFilter):
        stale = FeatureFlag.stale_clause(datetime.now(UTC))
        checks.append(({filter_.parameter_name: "yes"}, stale))
        checks.append(({filter_.parameter_name: "no"}, sa.not_(stale)))
    elif isinstance(filter_, ArchivedFilter):
        archived = FeatureFlag.archived_at.is_not(None)
        checks.append(({filter_.parameter_name: "yes"}, archived))
        checks.append(({filter_.parameter_name: "no"}, sa.not_(archived)))
        checks.append(({filter_.parameter_name: "all"}, sa.true()))
    else:
        pytest.fail(f"no check for {type(filter_).__name__}")

    for params, predicate in checks:
        total, _ = await listing(client, slug(view), **params)
        assert total == await expected(db, view, predicate), params


def own_fields(view: type[StaffView]) -> list[Any]:
    return [f for f in view.column_searchable_list if not (isinstance(f, str) and "." in f)]


@pytest.mark.parametrize("view", [v for v in VIEWS if own_fields(v)], ids=lambda v: v.resource())
async def test_search_finds_a_row_by_part_of_its_text(
    client: httpx.AsyncClient, db: AsyncSession, view: type[StaffView]
) -> None:
    field = own_fields(view)[0]
    column = getattr(view.model, field) if isinstance(field, str) else field
    # A row the list shows first: many rows may share its text (a flag's counts, hour by
    # hour), and the search keeps the list's order, so it stays on the first page.
    _, shown = await listing(client, slug(view))
    texts = dict(
        (
            await db.execute(
                sa.select(view.model.id, column).where(
                    view.model.id.in_([uuid.UUID(i) for i in shown]), column.is_not(None)
                )
            )
        ).all()
    )
    row_id, text = next((i, texts[uuid.UUID(i)]) for i in shown if uuid.UUID(i) in texts)
    term = str(text)[1:7] if len(str(text)) > 7 else str(text)

    total, ids = await listing(client, slug(view), search=term)
    nothing, _ = await listing(client, slug(view), search="zz-no-such-thing-zz")

    assert str(row_id) in ids
    assert 1 <= total <= await expected(db, view)
    assert nothing == 0


async def test_exact_values_and_related_fields_are_searchable(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    ticket_id, email = (
        await db.execute(sa.select(SupportTicket.id, User.email).join(User).limit(1))
    ).one()

    _, ids = await listing(client, "support-tickets", search=email)

    assert str(ticket_id) in ids


async def test_lists_are_newest_first_and_sortable(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    newest = list(await db.scalars(sa.select(User.id).order_by(User.created_at.desc()).limit(5)))
    by_email = list(await db.scalars(sa.select(User.id).order_by(User.email).limit(5)))

    _, default = await listing(client, "users")
    _, sorted_by_email = await listing(client, "users", sortBy="email", sort="asc")

    assert default[:5] == [str(i) for i in newest]
    assert sorted_by_email[:5] == [str(i) for i in by_email]


@pytest.mark.parametrize(("asked", "shown"), [("25", 25), ("50", 50), ("100", 100), ("5000", 100)])
async def test_page_sizes(
    client: httpx.AsyncClient, db: AsyncSession, asked: str, shown: int
) -> None:
    response = await client.get("/admin/wallet-transactions/list", params={"pageSize": asked})

    rows = len(ROW_ID.findall(response.text))
    assert rows == min(shown, await expected(db, view_of(WalletTransaction)))


def view_of(model: type[Any]) -> type[StaffView]:
    return next(v for v in VIEWS if v.model is model)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "flying"}, "is not one of the choices"),
        ({"created_at_from": "yesterday"}, "is not a date"),
        ({"created_at_from": "2026-02-01", "created_at_to": "2026-01-01"}, "ends before it starts"),
        ({"sortBy": "password_hash"}, "Invalid sortBy"),
    ],
)
async def test_bad_list_parameters_are_a_clear_400(
    client: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    response = await client.get("/admin/users/list", params=params)

    assert response.status_code == 400
    assert message in response.text


async def test_screens_read_like_a_person_wrote_them(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    users = (await client.get("/admin/users/list")).text
    card = await db.scalar(sa.select(PaymentMethod).limit(1))
    wallet = await db.scalar(sa.select(Wallet).order_by(Wallet.balance.desc()).limit(1))
    cards = (await client.get(f"/admin/payment-methods/details/{card.id}")).text
    wallets = (await client.get(f"/admin/wallets/details/{wallet.id}")).text

    assert ">KYC status<" in users
    assert '<span class="badge bg-green-lt">active</span>' in users
    assert "<time datetime=" in users
    assert f"•••• {card.last_four}" in cards
    assert f"{wallet.balance:,.2f} {wallet.currency}" in wallets
