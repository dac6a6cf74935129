"""The sign-up funnel: of the users who signed up in a period, how far each has got.

Steps, each counting users who also passed every step before it: signed up → KYC verified
→ funded a wallet (has a posted deposit) → made a purchase (has a posted purchase). The
figures are as of now (live) or as of the last rollup refresh (stored): a user who signs up
in March and pays in May counts as paying in March's funnel. Conversion is a step's users /
the previous step's users.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.period import Period, Span
from analytics.ratios import ratio
from analytics.rollups import DailyFigures, Values, read, total
from analytics.sql import utc_day
from analytics.users import SIGNUPS, SIGNUPS_METRIC
from models.payments import TransactionStatus, TransactionType, Wallet, WalletTransaction
from models.people import KycStatus, User

SETTLES_AFTER_DAYS = 90
"""Signup days younger than this are recomputed at every rollup refresh."""


async def _steps_by_signup_day(db: AsyncSession, period: Span) -> dict[str, Values]:
    signed_up = (
        sa.select(
            User.id.label("id"),
            utc_day(User.created_at).label("day"),
            sa.case((User.kyc_status == KycStatus.VERIFIED, 1), else_=0).label("verified"),
        )
        .where(User.created_at >= period.start, User.created_at < period.end)
        .subquery()
    )

    def ever(kind: TransactionType) -> sa.ColumnElement[int]:
        return sa.func.max(sa.case((WalletTransaction.type == kind, 1), else_=0))

    # One pass over these users' postings, instead of a lookup per user and step.
    paid = (
        sa.select(
            Wallet.user_id.label("id"),
            ever(TransactionType.DEPOSIT).label("funded"),
            ever(TransactionType.PURCHASE).label("bought"),
        )
        .join(WalletTransaction, WalletTransaction.wallet_id == Wallet.id)
        .where(
            Wallet.user_id.in_(sa.select(signed_up.c.id)),
            WalletTransaction.status == TransactionStatus.POSTED,
            WalletTransaction.type.in_([TransactionType.DEPOSIT, TransactionType.PURCHASE]),
        )
        .group_by(Wallet.user_id)
        .subquery()
    )
    verified = signed_up.c.verified
    funded = verified * sa.func.coalesce(paid.c.funded, 0)
    bought = funded * sa.func.coalesce(paid.c.bought, 0)
    rows = await db.execute(
        sa.select(signed_up.c.day, sa.func.sum(verified), sa.func.sum(funded), sa.func.sum(bought))
        .select_from(signed_up.outerjoin(paid, paid.c.id == signed_up.c.id))
        .group_by(signed_up.c.day)
    )
    steps: dict[str, Values] = {name: {} for name in STEPS.names}
    for day, *counts in rows:
        for name, count in zip(STEPS.names, counts, strict=True):
            steps[name][(day, "")] = Decimal(count)
    return steps


STEPS = DailyFigures(
    ("funnel.verified", "funnel.funded", "funnel.purchased"),
    _steps_by_signup_day,
    settles_after_days=SETTLES_AFTER_DAYS,
)
LABELS = {
    SIGNUPS_METRIC: "Signed up",
    "funnel.verified": "KYC verified",
    "funnel.funded": "Funded a wallet",
    "funnel.purchased": "First purchase",
}


@dataclass(frozen=True)
class FunnelStep:
    key: str
    label: str
    users: int
    conversion: Decimal | None
    """Share of the previous step's users, 0 to 1 to four places; None for the first step
    and when the previous step has no users."""


async def funnel(db: AsyncSession, period: Period, *, live: bool = False) -> list[FunnelStep]:
    """The steps for users who signed up in the period, in order."""
    found = await read(db, [SIGNUPS, STEPS], period, live=live)
    steps: list[FunnelStep] = []
    previous: int | None = None
    for name, label in LABELS.items():
        users = int(total(found[name]))
        conversion = ratio(users, previous) if previous is not None else None
        steps.append(FunnelStep(name.rpartition(".")[2], label, users, conversion))
        previous = users
    return steps
