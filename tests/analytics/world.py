"""A small world built by hand, whose every figure is worked out in the comments below.

The week under study is Monday 2 to Sunday 8 November 2026 (`WEEK`); the week before
(26 October to 1 November) is its previous period. Times written with an offset land
on another UTC day than their local one, which is the day that counts.

Users (status, KYC, signed up UTC):
  u0  active       verified  2026-10-20 10:00   (before the previous period)
  u1  active       verified  2026-11-02 09:00
  u2  suspended    pending   2026-11-01 23:30-01:00 = 2026-11-02 00:30
  u3  deactivated  verified  2026-11-04 12:00
  u4  active       verified  2026-11-01 23:59:59 (the previous period's last second)
  u5  active       verified  2026-11-09 00:00    (the day after the week)
  u6  active       verified  2026-11-03 15:00

Posted transactions (UTC day):
  t0  u0 USD deposit   +80.00            2026-10-28
  t1  u1 USD deposit  +100.00            2026-11-02
  t2  u1 USD purchase  -40.00 fee 1.00   2026-11-03 23:30-02:00 = 2026-11-04 01:30
  t3  u1 USD purchase  -10.00 fee 0.25   pending: never counted
  t4  u1 USD refund     +5.00 (of t2)    2026-11-06
  t5  u2 USD deposit   +50.00            2026-11-05
  t6  u4 EUR deposit  +200.00            2026-11-02
  t7  u4 EUR purchase  -20.00 fee 0.50   2026-11-06
  t8  u5 USD deposit   +30.00            2026-11-09 00:00
  t9  u6 USD deposit   +20.00            2026-11-04
  t10 u6 USD purchase   -7.50 fee 0.19   2026-11-04
  t11 u1 USD purchase   -3.00 fee 0.08   2026-11-10
Activity reported by the app (last_active_at): u1 2026-11-03, u4 2026-11-08 23:59:59,
u5 2026-11-09 00:00, u6 2026-11-04 08:00.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.period import Period
from tests import rows

WEEK = Period(date(2026, 11, 2), date(2026, 11, 8))
TWO_WEEKS = Period(date(2026, 11, 2), date(2026, 11, 15))
EMPTY = Period(date(2026, 6, 1), date(2026, 6, 7))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class World:
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    wallets: dict[str, uuid.UUID] = field(default_factory=dict)
    transactions: dict[str, uuid.UUID] = field(default_factory=dict)
    merchant: uuid.UUID = field(default_factory=uuid.uuid4)


USERS = {
    "u0": ("active", "verified", "2026-10-20T10:00:00+00:00", None),
    "u1": ("active", "verified", "2026-11-02T09:00:00+00:00", "2026-11-03T10:00:00+00:00"),
    "u2": ("suspended", "pending", "2026-11-01T23:30:00-01:00", None),
    "u3": ("deactivated", "verified", "2026-11-04T12:00:00+00:00", None),
    "u4": ("active", "verified", "2026-11-01T23:59:59+00:00", "2026-11-08T23:59:59+00:00"),
    "u5": ("active", "verified", "2026-11-09T00:00:00+00:00", "2026-11-09T00:00:00+00:00"),
    "u6": ("active", "verified", "2026-11-03T15:00:00+00:00", "2026-11-04T08:00:00+00:00"),
}
WALLETS = {"u0": "USD", "u1": "USD", "u2": "USD", "u4": "EUR", "u5": "USD", "u6": "USD"}
# name: (user, type, amount, fee, posted at or None for pending, refund of)
TRANSACTIONS: dict[str, tuple[str, str, str, str, str | None, str | None]] = {
    "t0": ("u0", "deposit", "80.00", "0.00", "2026-10-28T10:00:00+00:00", None),
    "t1": ("u1", "deposit", "100.00", "0.00", "2026-11-02T10:00:00+00:00", None),
    "t2": ("u1", "purchase", "-40.00", "1.00", "2026-11-03T23:30:00-02:00", None),
    "t3": ("u1", "purchase", "-10.00", "0.25", None, None),
    "t4": ("u1", "refund", "5.00", "0.00", "2026-11-06T12:00:00+00:00", "t2"),
    "t5": ("u2", "deposit", "50.00", "0.00", "2026-11-05T12:00:00+00:00", None),
    "t6": ("u4", "deposit", "200.00", "0.00", "2026-11-02T08:00:00+00:00", None),
    "t7": ("u4", "purchase", "-20.00", "0.50", "2026-11-06T09:00:00+00:00", None),
    "t8": ("u5", "deposit", "30.00", "0.00", "2026-11-09T00:00:00+00:00", None),
    "t9": ("u6", "deposit", "20.00", "0.00", "2026-11-04T09:00:00+00:00", None),
    "t10": ("u6", "purchase", "-7.50", "0.19", "2026-11-04T10:00:00+00:00", None),
    "t11": ("u1", "purchase", "-3.00", "0.08", "2026-11-10T12:00:00+00:00", None),
}


async def build(db: AsyncSession) -> World:
    world = World()
    await rows.insert(db, "merchants", rows.merchant_row(id=world.merchant))
    for name, (status, kyc, created, seen) in USERS.items():
        row = rows.user_row(
            status=status,
            kyc_status=kyc,
            created_at=at(created),
            updated_at=at(created),
            last_active_at=at(seen) if seen else None,
            deactivated_at=at(created) if status == "deactivated" else None,
        )
        world.users[name] = (await rows.insert(db, "users", row))["id"]
    for name, currency in WALLETS.items():
        wallet = rows.wallet_row(world.users[name], currency=currency)
        world.wallets[name] = (await rows.insert(db, "wallets", wallet))["id"]
    for name, (user, kind, amount, fee, posted, original) in TRANSACTIONS.items():
        await add_transaction(db, world, name, user, kind, amount, fee, posted, original)
    await db.commit()
    return world


async def add_transaction(
    db: AsyncSession,
    world: World,
    name: str,
    user: str,
    kind: str,
    amount: str,
    fee: str,
    posted: str | None,
    original: str | None = None,
) -> None:
    row = rows.transaction_row(
        world.wallets[user],
        type=kind,
        status="posted" if posted else "pending",
        amount=Decimal(amount),
        fee=Decimal(fee),
        currency=WALLETS[user],
        merchant_id=world.merchant if kind == "purchase" else None,
        related_transaction_id=world.transactions[original] if original else None,
        posted_at=at(posted) if posted else None,
    )
    world.transactions[name] = (await rows.insert(db, "wallet_transactions", row))["id"]
