"""Money that moved: transactions, volume, revenue, average ticket, top merchants.

Definitions: only *posted* transactions count, on the UTC day they were posted. Volume is
the sum of amounts regardless of sign (a refund of 5 is 5 of refund volume). Revenue is the
sum of fees. The average ticket is purchase volume / number of purchases. Top merchants are
ranked by purchase volume. Every money figure is for one currency: amounts in different
currencies are never added together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.period import Period, Span
from analytics.rollups import DailyFigures, Values, by_day, read
from analytics.sql import utc_day
from models.base import Money
from models.merchants import Merchant
from models.payments import TransactionStatus, TransactionType, WalletTransaction

CENT = Decimal("0.01")


def _posted_in(period: Span) -> list[sa.ColumnElement[bool]]:
    return [
        WalletTransaction.status == TransactionStatus.POSTED,
        WalletTransaction.posted_at >= period.start,
        WalletTransaction.posted_at < period.end,
    ]


def _absolute_sum(column: sa.ColumnElement[Decimal]) -> sa.ColumnElement[Decimal]:
    # abs() loses the column's type; coerce back so SQLite's minor units become Decimal.
    return sa.type_coerce(sa.func.sum(sa.func.abs(column)), Money())


async def _money_by_day(db: AsyncSession, period: Span) -> dict[str, Values]:
    day = utc_day(WalletTransaction.posted_at)
    currency, kind = WalletTransaction.currency, WalletTransaction.type
    rows = await db.execute(
        sa.select(
            day,
            currency,
            kind,
            sa.func.count(),
            _absolute_sum(WalletTransaction.amount),
            sa.func.sum(WalletTransaction.fee),
        )
        .where(*_posted_in(period))
        .group_by(day, currency, kind)
    )
    found: dict[str, Values] = {TRANSACTIONS_METRIC: {}, VOLUME_METRIC: {}, REVENUE_METRIC: {}}
    revenue = found[REVENUE_METRIC]
    for d, cur, typ, count, volume, fee in rows:
        found[TRANSACTIONS_METRIC][(d, f"{cur}:{typ}")] = Decimal(count)
        found[VOLUME_METRIC][(d, f"{cur}:{typ}")] = Decimal(volume)
        revenue[(d, cur)] = revenue.get((d, cur), Decimal(0)) + Decimal(fee)
    return found


def _sales_filter(period: Period) -> list[sa.ColumnElement[bool]]:
    return [
        *_posted_in(period),
        WalletTransaction.type == TransactionType.PURCHASE,
        WalletTransaction.merchant_id.is_not(None),
    ]


TRANSACTIONS_METRIC = "money.transactions"
VOLUME_METRIC = "money.volume"
REVENUE_METRIC = "money.revenue"
MONEY = DailyFigures((TRANSACTIONS_METRIC, VOLUME_METRIC, REVENUE_METRIC), _money_by_day)


def cents(series: dict[date, Decimal]) -> dict[date, Decimal]:
    """Rollups keep four places; money is shown to the cent it was counted in."""
    return {day: value.quantize(CENT) for day, value in series.items()}


@dataclass(frozen=True)
class MoneyFlow:
    currency: str
    transactions: dict[str, dict[date, int]]
    """Per transaction type, a count for every day."""
    volume: dict[str, dict[date, Decimal]]
    """Per transaction type, the volume for every day."""
    revenue: dict[date, Decimal]

    def within(self, period: Period) -> MoneyFlow:
        """The same figures for the days of `period` only."""

        def days(series: dict[date, Any]) -> dict[date, Any]:
            return {d: v for d, v in series.items() if period.first <= d <= period.last}

        return MoneyFlow(
            self.currency,
            {kind: days(series) for kind, series in self.transactions.items()},
            {kind: days(series) for kind, series in self.volume.items()},
            days(self.revenue),
        )

    @property
    def total_transactions(self) -> int:
        return sum(sum(days.values()) for days in self.transactions.values())

    @property
    def total_volume(self) -> Decimal:
        return sum((sum(days.values(), Decimal(0)) for days in self.volume.values()), Decimal(0))

    @property
    def total_revenue(self) -> Decimal:
        return sum(self.revenue.values(), Decimal(0))

    @property
    def average_ticket(self) -> Decimal | None:
        """Purchase volume / purchases, to the cent; None without purchases."""
        purchases = sum(self.transactions[TransactionType.PURCHASE].values())
        if not purchases:
            return None
        spent = sum(self.volume[TransactionType.PURCHASE].values(), Decimal(0))
        return (spent / purchases).quantize(CENT, ROUND_HALF_UP)


async def money_flow(
    db: AsyncSession, period: Period, currency: str = "USD", *, live: bool = False
) -> MoneyFlow:
    """Counts and volume per type and revenue, for every day of the period, in `currency`."""
    found = await read(db, [MONEY], period, live=live, scope=currency)
    counts, volumes = found[TRANSACTIONS_METRIC], found[VOLUME_METRIC]
    return MoneyFlow(
        currency=currency,
        transactions={
            kind.value: {d: int(v) for d, v in by_day(counts, period, f"{currency}:{kind}").items()}
            for kind in TransactionType
        },
        volume={
            kind.value: cents(by_day(volumes, period, f"{currency}:{kind}"))
            for kind in TransactionType
        },
        revenue=cents(by_day(found[REVENUE_METRIC], period, currency)),
    )


@dataclass(frozen=True)
class MerchantSales:
    merchant_id: uuid.UUID
    name: str
    volume: Decimal


async def top_merchants(
    db: AsyncSession, period: Period, currency: str = "USD", limit: int = 10
) -> list[MerchantSales]:
    """The merchants with the most purchase volume in `currency` over the period.

    Computed from the transactions: a day holds about as many merchants with sales as it
    holds purchases, so a per-merchant rollup would be no smaller than the rows it sums.
    """
    volume = _absolute_sum(WalletTransaction.amount).label("volume")
    rows = await db.execute(
        sa.select(Merchant.id, Merchant.name, volume)
        .join(Merchant, Merchant.id == WalletTransaction.merchant_id)
        .where(*_sales_filter(period), WalletTransaction.currency == currency)
        .group_by(Merchant.id, Merchant.name)
        .order_by(volume.desc(), Merchant.name, Merchant.id)
        .limit(limit)
    )
    return [MerchantSales(m, name, Decimal(v).quantize(CENT)) for m, name, v in rows]
