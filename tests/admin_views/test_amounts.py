"""Amounts are typed as staff type them: ASCII digits, at most two decimals after a point,
nothing else. What Python's Decimal would also take (`1_000`, `١٢`, `1e6`) is refused on
the field with one message, and nothing is written; every amount field checks the same way."""

from __future__ import annotations

import ast
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

import admin_views
from admin_views.base import StaffView
from admin_views.shared import money
from models import AICampaign, Wallet
from models.base import FixedPoint
from tests import rows, staff
from tests.admin_views.screens import act, audit_for, field_error, save
from tests.admin_views.test_form_fuzz import rendered_form, table_snapshot
from tests.admin_views.test_money_actions import form_key, submitted
from tests.ledger.conftest import Ledger, make_ledger

TYPED_AS = "Enter digits, with at most two decimals after a point: 12, 12.5 or 12.50."
REFUSED = [
    "1_000",
    "\u0661\u0662",  # Arabic-Indic digits
    "\uff11\uff12",  # full-width digits
    "1e6",
    "1E2",
    " 12",
    "12 ",
    "+12",
    "\u221212",  # a minus sign, not a hyphen-minus
    "--12",
    "12.",
    ".5",
    "1,000",
    "12.505",
    "0x10",
    "NaN",
    "Infinity",
    "12\u00a0",
]
ACCEPTED = {"12": "12.00", "12.5": "12.50", "12.50": "12.50", "0.01": "0.01", "007": "7.00"}


@pytest.fixture
async def ledger(db: AsyncSession, boss: staff.Account) -> Ledger:
    return await make_ledger(db)


async def balance(db: AsyncSession, wallet_id: uuid.UUID) -> Decimal:
    await db.commit()
    return Decimal(await db.scalar(sa.select(Wallet.balance).where(Wallet.id == wallet_id)))


async def adjust(
    client: httpx.AsyncClient, ledger: Ledger, amount: str, direction: str = "credit"
) -> httpx.Response:
    key = await form_key(client, "wallets", "adjust", ledger.wallet_id)
    return await act(
        client,
        "wallets",
        "adjust",
        [ledger.wallet_id],
        direction=direction,
        amount=amount,
        reason="Goodwill for an outage",
        idempotency_key=key,
    )


@pytest.mark.parametrize("amount", REFUSED)
async def test_an_adjustment_typed_other_than_digits_is_refused_with_nothing_written(
    client: httpx.AsyncClient, db: AsyncSession, ledger: Ledger, amount: str
) -> None:
    response = await adjust(client, ledger, amount)

    assert response.status_code == 400
    assert field_error(response.text, TYPED_AS), response.text[-1500:]
    assert response.text.count('<div class="invalid-feedback">') == 1
    assert await balance(db, ledger.wallet_id) == Decimal("100.00")
    assert await audit_for(db, "action:adjust", ledger.wallet_id) == []


@pytest.mark.parametrize("amount", ["-12", "-0.01", "0", "0.00"])
async def test_an_adjustment_takes_positive_amounts_only(
    client: httpx.AsyncClient, db: AsyncSession, ledger: Ledger, amount: str
) -> None:
    response = await adjust(client, ledger, amount, direction="debit")

    assert response.status_code == 400
    assert field_error(response.text, "Between 0.01 and 1,000,000.00 for one action.")
    assert await balance(db, ledger.wallet_id) == Decimal("100.00")
    assert await audit_for(db, "action:adjust", ledger.wallet_id) == []


@pytest.mark.parametrize(("amount", "moved"), ACCEPTED.items())
async def test_an_adjustment_in_plain_digits_moves_that_amount(
    client: httpx.AsyncClient, db: AsyncSession, ledger: Ledger, amount: str, moved: str
) -> None:
    response = await adjust(client, ledger, amount)

    assert response.status_code == 303, response.text[-1500:]
    assert await balance(db, ledger.wallet_id) == Decimal("100.00") + Decimal(moved)
    [entry] = await audit_for(db, "action:adjust", ledger.wallet_id)
    assert Decimal(entry.after["amount"]) == Decimal(moved)


@pytest.mark.parametrize("amount", ["1e1", "\u0661\u0660", "+10", "10."])
async def test_a_refund_amount_is_typed_the_same_way(
    client: httpx.AsyncClient, db: AsyncSession, ledger: Ledger, amount: str
) -> None:
    response = await submitted(
        client,
        "wallet-transactions",
        "refund",
        ledger.purchase_id,
        amount=amount,
        reason="Damaged item",
    )

    assert response.status_code == 400
    assert field_error(response.text, TYPED_AS), response.text[-1500:]
    assert await balance(db, ledger.shop_wallet_id) == Decimal("60.00")
    assert await audit_for(db, "action:refund", ledger.purchase_id) == []


async def edit_budget(
    client: httpx.AsyncClient, campaign_id: uuid.UUID, budget: str
) -> httpx.Response:
    """The campaign's edit form as rendered, its budget typed over."""
    url = f"/admin/ai-campaigns/edit/{campaign_id}"
    form = await rendered_form(client, url)
    assert form is not None
    fields = {name: value for name, value in form.values if name != "csrf_token"}
    return await save(client, "ai-campaigns", fields | {"budget": budget}, campaign_id)


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        *((typed, TYPED_AS) for typed in ("1_000", "\u0661\u0662", "1e6", " 12", "12.", "+5")),
        ("-5", "Budget cannot be negative."),
        ("1" * 17, "At most 9,999,999,999,999,999.99: that is all it can hold."),
        ("1" * 40, "At most 9,999,999,999,999,999.99: that is all it can hold."),
    ],
)
async def test_a_budget_typed_other_than_digits_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, budget: str, message: str
) -> None:
    campaign = await rows.insert(db, "ai_campaigns", rows.campaign_row())
    await db.commit()
    view = next(v for v in admin_views.discover_views() if v.model is AICampaign)
    before = await table_snapshot(db, view)

    response = await edit_budget(client, campaign["id"], budget)

    assert response.status_code == 400
    assert field_error(response.text, message), response.text[-1500:]
    assert await table_snapshot(db, view) == before


async def test_a_budget_in_plain_digits_is_saved(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    campaign = await rows.insert(db, "ai_campaigns", rows.campaign_row())
    await db.commit()

    response = await edit_budget(client, campaign["id"], "1250.5")

    assert response.status_code == 302, response.text[-1500:]
    await db.commit()
    saved = await db.scalar(sa.select(AICampaign.budget).where(AICampaign.id == campaign["id"]))
    assert saved == Decimal("1250.50")


@pytest.mark.parametrize("view", admin_views.discover_views(), ids=lambda view: view.__name__)
def test_every_money_column_in_a_form_is_checked_as_an_amount(
    view: type[StaffView],
) -> None:
    screen = view()
    money_columns = [
        column.key
        for column in view.model.__table__.columns
        if isinstance(column.type, FixedPoint) and column.type.scale == 2
    ]
    for name in money_columns:
        checks = screen.form_args.get(name, {}).get("validators", [])
        assert money.typed_amount in checks, f"{view.__name__}.{name}"
        assert money.storable_amount in checks, f"{view.__name__}.{name}"


def test_every_decimal_field_of_the_screens_is_an_amount_field() -> None:
    made_elsewhere = []
    for path in Path(admin_views.__file__).parent.rglob("*.py"):
        if path.name == "money.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            called = node.func if isinstance(node, ast.Call) else None
            name = getattr(called, "id", getattr(called, "attr", None))
            if name == "DecimalField":
                made_elsewhere.append(f"{path.name}:{node.lineno}")

    assert made_elsewhere == [], "use admin_views.shared.money.amount_field"
