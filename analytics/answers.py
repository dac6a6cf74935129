"""The dashboard's answers: what the JSON API returns and what the pages draw, built once.

Each answer is a plain dict of JSON values (`core.jsonable.plain`): money and ratios as
exact decimal strings, days as ISO dates, every daily series aligned with `days`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from analytics import campaigns, cohorts, funnel, merchants, money, support, users
from analytics.period import Period
from analytics.ratios import ratio
from core.jsonable import plain
from models.payments import TransactionType

Answer = dict[str, Any]
Question = Callable[[AsyncSession, Period, str], Awaitable[Answer]]
"""An answer for a period, with money in one currency."""


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str
    """count, money or ratio: how the page formats the value."""
    value: Decimal | None
    previous: Decimal | None
    """The same figure over the same number of days just before."""

    @property
    def change(self) -> Decimal | None:
        """(value - previous) / previous to four places; None without a previous figure."""
        if self.value is None or self.previous is None:
            return None
        return ratio(self.value - self.previous, self.previous)


def _kpi_json(kpi: Kpi) -> Answer:
    return {**plain(kpi), "change": plain(kpi.change)}


def _series(values: dict[date, Any]) -> list[Any]:
    return [plain(value) for value in values.values()]


def _frame(period: Period) -> Answer:
    return {"period": period.as_json(), "days": [day.isoformat() for day in period.each_day()]}


async def overview(db: AsyncSession, period: Period, currency: str = "USD") -> Answer:
    """KPI cards against the previous period, and sign-ups and daily active users by day."""
    previous = period.previous()
    both = Period(previous.first, period.last)
    activity = await users.user_activity(db, both)
    flow = await money.money_flow(db, both, currency)

    def split(series: dict[date, Any]) -> tuple[dict[date, Any], dict[date, Any]]:
        return (
            {d: v for d, v in series.items() if d >= period.first},
            {d: v for d, v in series.items() if d < period.first},
        )

    def summed(series: dict[date, Any]) -> tuple[Decimal, Decimal]:
        now, before = split(series)
        return Decimal(sum(now.values())), Decimal(sum(before.values()))

    def mean(series: dict[date, Any]) -> tuple[Decimal, Decimal]:
        now, before = summed(series)
        tenth = Decimal("0.1")
        return (
            (now / period.days).quantize(tenth, ROUND_HALF_UP),
            (before / period.days).quantize(tenth, ROUND_HALF_UP),
        )

    flows = [flow.within(part) for part in (period, previous)]
    kpis = [
        Kpi("signups", "New sign-ups", "count", *summed(activity.signups)),
        Kpi("active_users", "Daily active users (average)", "count", *mean(activity.active_users)),
        Kpi(
            "transactions",
            "Posted transactions",
            "count",
            *(Decimal(f.total_transactions) for f in flows),
        ),
        Kpi("volume", "Volume", "money", *(f.total_volume for f in flows)),
        Kpi("revenue", "Revenue (fees)", "money", *(f.total_revenue for f in flows)),
        Kpi("average_ticket", "Average purchase", "money", *(f.average_ticket for f in flows)),
    ]
    signups, _ = split(activity.signups)
    active, _ = split(activity.active_users)
    return {
        **_frame(period),
        "previous": previous.as_json(),
        "currency": currency,
        "kpis": [_kpi_json(kpi) for kpi in kpis],
        "signups": _series(signups),
        "active_users": _series(active),
    }


async def revenue(db: AsyncSession, period: Period, currency: str = "USD") -> Answer:
    """Transactions and volume by day and type, revenue by day, and the period's totals."""
    flow = await money.money_flow(db, period, currency)
    volume_by_day = {
        day: sum((flow.volume[kind][day] for kind in flow.volume), Decimal(0))
        for day in period.each_day()
    }
    return {
        **_frame(period),
        "currency": currency,
        "transactions": {kind: _series(days) for kind, days in flow.transactions.items()},
        "volume": {kind: _series(days) for kind, days in flow.volume.items()},
        "total_volume": _series(volume_by_day),
        "revenue": _series(flow.revenue),
        "totals": {
            "transactions": flow.total_transactions,
            "volume": plain(flow.total_volume),
            "revenue": plain(flow.total_revenue),
            "average_ticket": plain(flow.average_ticket),
            "purchases": sum(flow.transactions[TransactionType.PURCHASE].values()),
        },
    }


async def funnel_answer(db: AsyncSession, period: Period) -> Answer:
    return {"period": period.as_json(), "steps": plain(await funnel.funnel(db, period))}


async def cohort_answer(db: AsyncSession, period: Period) -> Answer:
    return {"period": period.as_json(), "cohorts": plain(await cohorts.cohorts(db, period))}


async def campaign_answer(db: AsyncSession, period: Period, currency: str = "USD") -> Answer:
    report = await campaigns.campaign_performance(db, period, currency)
    return {"period": period.as_json(), **plain(report)}


async def support_answer(db: AsyncSession, period: Period) -> Answer:
    return {
        "period": period.as_json(),
        "open": plain(await support.open_tickets(db)),
        "times": plain(await support.ticket_times(db, period)),
        "workload": plain(await support.tickets_per_agent(db, period)),
    }


async def merchant_answer(db: AsyncSession, period: Period, currency: str = "USD") -> Answer:
    return {
        "period": period.as_json(),
        "currency": currency,
        **plain(await merchants.merchant_overview(db, period)),
        "top_merchants": plain(await money.top_merchants(db, period, currency)),
    }


async def user_stats(db: AsyncSession, period: Period) -> Answer:
    """Every user by status and KYC now, and sign-ups and daily active users by day."""
    totals = await users.user_totals(db)
    activity = await users.user_activity(db, period)
    return {
        **_frame(period),
        "totals": {**plain(totals), "verification_rate": plain(totals.verification_rate)},
        "signups": _series(activity.signups),
        "active_users": _series(activity.active_users),
    }


def _any_currency(answer: Callable[[AsyncSession, Period], Awaitable[Answer]]) -> Question:
    async def question(db: AsyncSession, period: Period, _currency: str) -> Answer:
        return await answer(db, period)

    return question


QUESTIONS: dict[str, Question] = {
    "overview": overview,
    "revenue": revenue,
    "funnel": _any_currency(funnel_answer),
    "cohorts": _any_currency(cohort_answer),
    "campaigns": campaign_answer,
    "support": _any_currency(support_answer),
    "merchants": merchant_answer,
    "users": _any_currency(user_stats),
}
"""Every answer by name: the API's paths and the pages' sections."""
