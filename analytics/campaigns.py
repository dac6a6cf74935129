"""Campaign performance over a period, from the daily `campaign_performance` rows.

What the figures mean:

- A period covers the performance rows whose `day` falls in it, both ends included.
- Impressions, clicks, conversions, spend and revenue are sums of those rows.
- CTR is clicks / impressions; conversion rate is conversions / clicks; cost per
  conversion is spend / conversions; ROAS (return on ad spend) is revenue / spend.
- Budget used is the campaign's lifetime spend (`ai_campaigns.spend`) / its budget,
  whatever the period: it answers "how much of the budget is gone", not "what did the
  period cost".
- Every ratio is a Decimal rounded half-up to 4 places, as a fraction (0.0512 is 5.12 %);
  cost per conversion is in the report's currency, also to 4 places. A ratio whose
  denominator is zero is None: there is no rate to show, and 0 would be a false one.

One currency at a time: money in different currencies cannot be added. The report is
for `currency`; campaigns in that currency make up `campaigns`, the daily figures and the
totals, which therefore reconcile with each other. Campaigns in any other currency that
ran in the period are listed apart in `other_currencies`, each in its own currency, and are
left out of the daily figures and the totals (their counts too, so that every ratio in the
totals compares like with like).

A campaign is listed only if it has at least one performance row in the period. Lists are
ordered by spend, largest first, then by name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.period import Period
from analytics.ratios import ratio
from models.campaigns import AICampaign, CampaignPerformance

_NO_MONEY = Decimal("0.00")


@dataclass(frozen=True)
class Figures:
    """Sums over some performance rows and the ratios between them."""

    impressions: int
    clicks: int
    conversions: int
    spend: Decimal
    revenue: Decimal
    ctr: Decimal | None
    conversion_rate: Decimal | None
    cost_per_conversion: Decimal | None
    roas: Decimal | None


@dataclass(frozen=True)
class CampaignFigures:
    id: uuid.UUID
    name: str
    status: str
    channel: str
    currency: str
    budget_used: Decimal | None
    figures: Figures


@dataclass(frozen=True)
class DayFigures:
    day: date
    figures: Figures


@dataclass(frozen=True)
class CampaignReport:
    currency: str
    campaigns: list[CampaignFigures]
    days: list[DayFigures]
    totals: Figures
    other_currencies: list[CampaignFigures]


def _figures(
    impressions: int, clicks: int, conversions: int, spend: Decimal, revenue: Decimal
) -> Figures:
    return Figures(
        impressions=impressions,
        clicks=clicks,
        conversions=conversions,
        spend=spend,
        revenue=revenue,
        ctr=ratio(clicks, impressions),
        conversion_rate=ratio(conversions, clicks),
        cost_per_conversion=ratio(spend, conversions),
        roas=ratio(revenue, spend),
    )


_ZERO = _figures(0, 0, 0, _NO_MONEY, _NO_MONEY)


def _sums() -> list[sa.ColumnElement[Any]]:
    # Money is summed by the column itself so it comes back as an exact Decimal on both
    # databases; the ratios are worked out in Python from those exact sums.
    row = CampaignPerformance
    return [
        sa.func.sum(row.impressions).label("impressions"),
        sa.func.sum(row.clicks).label("clicks"),
        sa.func.sum(row.conversions).label("conversions"),
        sa.func.sum(row.spend).label("spend"),
        sa.func.sum(row.revenue).label("revenue"),
    ]


def _figures_of(row: sa.Row[Any]) -> Figures:
    """Figures from a row of `_sums()`; sums over no rows are NULL and mean zero."""
    return _figures(
        int(row.impressions or 0),
        int(row.clicks or 0),
        int(row.conversions or 0),
        row.spend if row.spend is not None else _NO_MONEY,
        row.revenue if row.revenue is not None else _NO_MONEY,
    )


def _in_period(period: Period) -> sa.ColumnElement[bool]:
    return CampaignPerformance.day.between(period.first, period.last)


async def performance_by_campaign(session: AsyncSession, period: Period) -> list[CampaignFigures]:
    """Every campaign with performance rows in the period, each in its own currency."""
    campaign = AICampaign
    spend = sa.func.sum(CampaignPerformance.spend)
    query = (
        sa.select(
            campaign.id,
            campaign.name,
            campaign.status,
            campaign.channel,
            campaign.currency,
            campaign.budget,
            campaign.spend.label("lifetime_spend"),
            *_sums(),
        )
        .join(CampaignPerformance, CampaignPerformance.campaign_id == campaign.id)
        .where(_in_period(period))
        .group_by(campaign.id)
        .order_by(spend.desc(), campaign.name, campaign.id)
    )
    return [
        CampaignFigures(
            id=row.id,
            name=row.name,
            status=row.status,
            channel=row.channel,
            currency=row.currency,
            budget_used=ratio(row.lifetime_spend, row.budget),
            figures=_figures_of(row),
        )
        for row in await session.execute(query)
    ]


def _in_currency(currency: str) -> sa.ColumnElement[bool]:
    return CampaignPerformance.campaign_id.in_(
        sa.select(AICampaign.id).where(AICampaign.currency == currency)
    )


async def performance_by_day(
    session: AsyncSession, period: Period, currency: str = "USD"
) -> list[DayFigures]:
    """Every day of the period, zeros on days without rows, for campaigns in `currency`."""
    query = (
        sa.select(CampaignPerformance.day, *_sums())
        .where(_in_period(period), _in_currency(currency))
        .group_by(CampaignPerformance.day)
    )
    found = {row.day: _figures_of(row) for row in await session.execute(query)}
    return [DayFigures(day, found.get(day, _ZERO)) for day in period.each_day()]


async def performance_totals(
    session: AsyncSession, period: Period, currency: str = "USD"
) -> Figures:
    """The whole period for campaigns in `currency`."""
    query = sa.select(*_sums()).where(_in_period(period), _in_currency(currency))
    return _figures_of((await session.execute(query)).one())


async def campaign_performance(
    session: AsyncSession, period: Period, currency: str = "USD"
) -> CampaignReport:
    """The campaigns screen: per campaign, per day and in total, in one currency."""
    campaigns = await performance_by_campaign(session, period)
    return CampaignReport(
        currency=currency,
        campaigns=[c for c in campaigns if c.currency == currency],
        days=await performance_by_day(session, period, currency),
        totals=await performance_totals(session, period, currency),
        other_currencies=[c for c in campaigns if c.currency != currency],
    )
