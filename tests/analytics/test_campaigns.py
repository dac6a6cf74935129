"""Campaign performance: sums, ratios, days, currencies, and the JSON door, checked by hand.

The main dataset (USD unless said otherwise), for the period 2026-11-02 to 2026-11-05:

    Alpha   USD budget 1000.00 lifetime spend 250.00
        2026-11-01  9999 imp  999 clicks 99 conv  99.00 spend  99.00 revenue  (day before)
        2026-11-02  1000 imp   50 clicks  5 conv  20.00 spend  75.00 revenue  (first day)
        2026-11-05  3000 imp   90 clicks  4 conv  30.00 spend  25.00 revenue  (last day)
        2026-11-06  7777 imp  777 clicks 77 conv  77.00 spend  77.00 revenue  (day after)
    Bravo   USD budget 0.00 lifetime spend 0.00
        2026-11-02   500 imp    0 clicks  0 conv  10.00 spend   0.00 revenue
        2026-11-04     0 imp    0 clicks  0 conv   0.00 spend   0.00 revenue
    Charlie EUR budget 200.00 lifetime spend 150.00
        2026-11-03  2000 imp  100 clicks 10 conv  40.00 spend  60.00 revenue
    Delta   USD, rows only on 2026-11-01 (outside the period)

2026-11-03 has no USD row at all: the daily list shows zeros there.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.campaigns import (
    CampaignFigures,
    DayFigures,
    Figures,
    campaign_performance,
    performance_by_campaign,
    performance_by_day,
    performance_totals,
)
from analytics.period import MAX_DAYS, BadPeriodError, Period
from core.jsonable import plain
from tests import rows
from tests.staff import make_staff, signed_in

PATH = "/api/v1/admin/dashboard/campaigns"
PERIOD = Period(date(2026, 11, 2), date(2026, 11, 5))
ZERO = Figures(0, 0, 0, Decimal("0.00"), Decimal("0.00"), None, None, None, None)


async def add_campaign(db: AsyncSession, **overrides: Any) -> uuid.UUID:
    row = await rows.insert(db, "ai_campaigns", rows.campaign_row(**overrides))
    return row["id"]


async def add_day(
    db: AsyncSession,
    campaign: uuid.UUID,
    day: date,
    counts: tuple[int, int, int],
    spend: str,
    revenue: str,
) -> None:
    impressions, clicks, conversions = counts
    await rows.insert(
        db,
        "campaign_performance",
        rows.performance_row(
            campaign,
            day=day,
            impressions=impressions,
            clicks=clicks,
            conversions=conversions,
            spend=Decimal(spend),
            revenue=Decimal(revenue),
        ),
    )


async def main_dataset(db: AsyncSession) -> dict[str, uuid.UUID]:
    alpha = await add_campaign(
        db,
        name="Alpha",
        status="active",
        channel="push",
        budget=Decimal("1000.00"),
        spend=Decimal("250.00"),
        starts_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    bravo = await add_campaign(
        db,
        name="Bravo",
        status="paused",
        channel="email",
        budget=Decimal("0.00"),
        spend=Decimal("0.00"),
    )
    charlie = await add_campaign(
        db,
        name="Charlie",
        status="active",
        channel="sms",
        currency="EUR",
        budget=Decimal("200.00"),
        spend=Decimal("150.00"),
    )
    delta = await add_campaign(db, name="Delta", status="completed", channel="in_app")
    await add_day(db, alpha, date(2026, 11, 1), (9999, 999, 99), "99.00", "99.00")
    await add_day(db, alpha, date(2026, 11, 2), (1000, 50, 5), "20.00", "75.00")
    await add_day(db, alpha, date(2026, 11, 5), (3000, 90, 4), "30.00", "25.00")
    await add_day(db, alpha, date(2026, 11, 6), (7777, 777, 77), "77.00", "77.00")
    await add_day(db, bravo, date(2026, 11, 2), (500, 0, 0), "10.00", "0.00")
    await add_day(db, bravo, date(2026, 11, 4), (0, 0, 0), "0.00", "0.00")
    await add_day(db, charlie, date(2026, 11, 3), (2000, 100, 10), "40.00", "60.00")
    await add_day(db, delta, date(2026, 11, 1), (400, 40, 4), "44.00", "88.00")
    await db.commit()
    return {"alpha": alpha, "bravo": bravo, "charlie": charlie, "delta": delta}


# Alpha in the period: 1000 + 3000 = 4000 imp, 50 + 90 = 140 clicks, 5 + 4 = 9 conv,
# 20.00 + 30.00 = 50.00 spend, 75.00 + 25.00 = 100.00 revenue.
# CTR 140/4000 = 0.0350; conversion 9/140 = 0.06428... -> 0.0643;
# cost per conversion 50.00/9 = 5.5555... -> 5.5556; ROAS 100.00/50.00 = 2.0000;
# budget used 250.00/1000.00 = 0.2500.
ALPHA = Figures(
    4000,
    140,
    9,
    Decimal("50.00"),
    Decimal("100.00"),
    Decimal("0.0350"),
    Decimal("0.0643"),
    Decimal("5.5556"),
    Decimal("2.0000"),
)
# Bravo: 500 imp, 0 clicks, 0 conv, 10.00 spend, 0.00 revenue.
# CTR 0/500 = 0.0000; conversion 0/0 -> None; cost 10.00/0 -> None; ROAS 0.00/10.00 = 0.0000;
# budget used 0.00/0.00 -> None.
BRAVO = Figures(
    500,
    0,
    0,
    Decimal("10.00"),
    Decimal("0.00"),
    Decimal("0.0000"),
    None,
    None,
    Decimal("0.0000"),
)
# Charlie (EUR): CTR 100/2000 = 0.0500; conversion 10/100 = 0.1000; cost 40.00/10 = 4.0000;
# ROAS 60.00/40.00 = 1.5000; budget used 150.00/200.00 = 0.7500.
CHARLIE = Figures(
    2000,
    100,
    10,
    Decimal("40.00"),
    Decimal("60.00"),
    Decimal("0.0500"),
    Decimal("0.1000"),
    Decimal("4.0000"),
    Decimal("1.5000"),
)
# USD by day:
# 11-02: Alpha + Bravo = 1500 imp, 50 clicks, 5 conv, 30.00 spend, 75.00 revenue;
#        CTR 50/1500 = 0.03333 -> 0.0333; conversion 5/50 = 0.1000; cost 30.00/5 = 6.0000;
#        ROAS 75.00/30.00 = 2.5000.
# 11-03: no USD row -> zeros.
# 11-04: Bravo's all-zero row -> zeros, every ratio None.
# 11-05: Alpha = 3000 imp, 90 clicks, 4 conv, 30.00 spend, 25.00 revenue;
#        CTR 90/3000 = 0.0300; conversion 4/90 = 0.04444 -> 0.0444; cost 30.00/4 = 7.5000;
#        ROAS 25.00/30.00 = 0.83333 -> 0.8333.
USD_DAYS = [
    DayFigures(
        date(2026, 11, 2),
        Figures(
            1500,
            50,
            5,
            Decimal("30.00"),
            Decimal("75.00"),
            Decimal("0.0333"),
            Decimal("0.1000"),
            Decimal("6.0000"),
            Decimal("2.5000"),
        ),
    ),
    DayFigures(date(2026, 11, 3), ZERO),
    DayFigures(date(2026, 11, 4), ZERO),
    DayFigures(
        date(2026, 11, 5),
        Figures(
            3000,
            90,
            4,
            Decimal("30.00"),
            Decimal("25.00"),
            Decimal("0.0300"),
            Decimal("0.0444"),
            Decimal("7.5000"),
            Decimal("0.8333"),
        ),
    ),
]
# USD totals: 4000 + 500 = 4500 imp, 140 clicks, 9 conv, 60.00 spend, 100.00 revenue;
# CTR 140/4500 = 0.03111 -> 0.0311; conversion 9/140 -> 0.0643; cost 60.00/9 = 6.6666... ->
# 6.6667; ROAS 100.00/60.00 = 1.6666... -> 1.6667. Equal to the sum of USD_DAYS.
USD_TOTALS = Figures(
    4500,
    140,
    9,
    Decimal("60.00"),
    Decimal("100.00"),
    Decimal("0.0311"),
    Decimal("0.0643"),
    Decimal("6.6667"),
    Decimal("1.6667"),
)


def alpha_line(ids: dict[str, uuid.UUID]) -> CampaignFigures:
    return CampaignFigures(ids["alpha"], "Alpha", "active", "push", "USD", Decimal("0.2500"), ALPHA)


def bravo_line(ids: dict[str, uuid.UUID]) -> CampaignFigures:
    return CampaignFigures(ids["bravo"], "Bravo", "paused", "email", "USD", None, BRAVO)


def charlie_line(ids: dict[str, uuid.UUID]) -> CampaignFigures:
    return CampaignFigures(
        ids["charlie"], "Charlie", "active", "sms", "EUR", Decimal("0.7500"), CHARLIE
    )


def figures_json(figures: Figures) -> dict[str, Any]:
    """The JSON of figures, written out with exact strings (not through `plain`)."""

    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "impressions": figures.impressions,
        "clicks": figures.clicks,
        "conversions": figures.conversions,
        "spend": str(figures.spend),
        "revenue": str(figures.revenue),
        "ctr": text(figures.ctr),
        "conversion_rate": text(figures.conversion_rate),
        "cost_per_conversion": text(figures.cost_per_conversion),
        "roas": text(figures.roas),
    }


# Period ---------------------------------------------------------------------------------


def test_a_period_counts_both_ends_in_whole_utc_days() -> None:
    period = Period(date(2026, 11, 2), date(2026, 11, 5))

    assert period.days == 4
    assert list(period.each_day()) == [date(2026, 11, d) for d in (2, 3, 4, 5)]
    assert period.start == datetime(2026, 11, 2, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 6, tzinfo=UTC)
    assert period.previous() == Period(date(2026, 10, 29), date(2026, 11, 1))
    assert period.as_json() == {"from": "2026-11-02", "to": "2026-11-05"}
    assert Period(date(2026, 11, 2), date(2026, 11, 2)).days == 1


def test_a_period_refuses_backwards_and_overlong_ranges() -> None:
    with pytest.raises(BadPeriodError, match="ends before it starts"):
        Period(date(2026, 11, 5), date(2026, 11, 1))
    with pytest.raises(BadPeriodError, match=f"at most {MAX_DAYS} days"):
        Period.ending(date(2026, 11, 5), MAX_DAYS + 1)
    assert Period.ending(date(2026, 11, 5), MAX_DAYS).days == MAX_DAYS


# The functions ----------------------------------------------------------------------------


async def test_the_report_sums_each_campaign_in_the_period_only(db: AsyncSession) -> None:
    ids = await main_dataset(db)

    report = await campaign_performance(db, PERIOD, "USD")

    assert report.currency == "USD"
    # Alpha (50.00 spent) before Bravo (10.00); Delta ran only outside the period.
    assert report.campaigns == [alpha_line(ids), bravo_line(ids)]
    assert report.other_currencies == [charlie_line(ids)]
    assert report.days == USD_DAYS
    assert report.totals == USD_TOTALS


async def test_the_daily_figures_add_up_to_the_totals(db: AsyncSession) -> None:
    await main_dataset(db)

    report = await campaign_performance(db, PERIOD, "USD")

    assert sum(d.figures.impressions for d in report.days) == report.totals.impressions
    assert sum(d.figures.clicks for d in report.days) == report.totals.clicks
    assert sum(d.figures.conversions for d in report.days) == report.totals.conversions
    assert sum(d.figures.spend for d in report.days) == report.totals.spend
    assert sum(d.figures.revenue for d in report.days) == report.totals.revenue
    assert sum(c.figures.spend for c in report.campaigns) == report.totals.spend


async def test_the_three_parts_answer_on_their_own(db: AsyncSession) -> None:
    ids = await main_dataset(db)

    # Every currency, by spend: Alpha 50.00, Charlie 40.00 (EUR), Bravo 10.00.
    assert await performance_by_campaign(db, PERIOD) == [
        alpha_line(ids),
        charlie_line(ids),
        bravo_line(ids),
    ]
    assert await performance_by_day(db, PERIOD) == USD_DAYS
    assert await performance_totals(db, PERIOD) == USD_TOTALS


async def test_another_currency_swaps_the_lists_and_totals_only_its_own(
    db: AsyncSession,
) -> None:
    ids = await main_dataset(db)

    report = await campaign_performance(db, PERIOD, "EUR")

    assert report.currency == "EUR"
    assert report.campaigns == [charlie_line(ids)]
    assert report.other_currencies == [alpha_line(ids), bravo_line(ids)]
    assert report.totals == CHARLIE
    assert report.days == [
        DayFigures(date(2026, 11, 2), ZERO),
        DayFigures(date(2026, 11, 3), CHARLIE),
        DayFigures(date(2026, 11, 4), ZERO),
        DayFigures(date(2026, 11, 5), ZERO),
    ]


async def test_a_currency_with_no_campaigns_lists_the_rest_apart(db: AsyncSession) -> None:
    ids = await main_dataset(db)

    report = await campaign_performance(db, PERIOD, "GBP")

    assert report.campaigns == []
    assert report.other_currencies == [alpha_line(ids), charlie_line(ids), bravo_line(ids)]
    assert report.totals == ZERO
    assert [d.figures for d in report.days] == [ZERO] * 4


async def test_an_empty_range_gives_zeros_and_no_ratios(db: AsyncSession) -> None:
    await main_dataset(db)
    empty = Period(date(2026, 11, 10), date(2026, 11, 12))

    report = await campaign_performance(db, empty, "USD")

    assert report.campaigns == []
    assert report.other_currencies == []
    assert report.days == [
        DayFigures(date(2026, 11, 10), ZERO),
        DayFigures(date(2026, 11, 11), ZERO),
        DayFigures(date(2026, 11, 12), ZERO),
    ]
    assert report.totals == ZERO
    assert str(report.totals.spend) == "0.00"
    assert str(report.totals.revenue) == "0.00"


async def test_an_empty_database_gives_zeros_too(db: AsyncSession) -> None:
    report = await campaign_performance(db, Period(date(2026, 11, 1), date(2026, 11, 1)))

    assert report.campaigns == []
    assert report.other_currencies == []
    assert report.days == [DayFigures(date(2026, 11, 1), ZERO)]
    assert report.totals == ZERO


async def test_the_first_and_last_day_are_in_and_their_neighbours_out(
    db: AsyncSession,
) -> None:
    ids = await main_dataset(db)

    first_only = await performance_by_campaign(db, Period(date(2026, 11, 2), date(2026, 11, 2)))
    last_only = await performance_by_campaign(db, Period(date(2026, 11, 5), date(2026, 11, 5)))
    day_before = await performance_totals(db, Period(date(2026, 11, 1), date(2026, 11, 1)))

    # 11-02: Alpha 1000/50/5, 20.00, 75.00 (CTR 0.0500, conv 0.1000, cost 4.0000,
    # ROAS 3.7500); Bravo 500/0/0, 10.00, 0.00.
    assert [(c.name, c.figures) for c in first_only] == [
        (
            "Alpha",
            Figures(
                1000,
                50,
                5,
                Decimal("20.00"),
                Decimal("75.00"),
                Decimal("0.0500"),
                Decimal("0.1000"),
                Decimal("4.0000"),
                Decimal("3.7500"),
            ),
        ),
        ("Bravo", BRAVO),
    ]
    # 11-05: Alpha only, as on the 11-05 line of USD_DAYS.
    assert [(c.id, c.figures) for c in last_only] == [(ids["alpha"], USD_DAYS[3].figures)]
    # 11-01: Alpha 9999/999/99 99.00/99.00 + Delta 400/40/4 44.00/88.00 = 10399/1039/103,
    # 143.00, 187.00. CTR 1039/10399 = 0.09991... -> 0.0999; conv 103/1039 = 0.09913... ->
    # 0.0991; cost 143.00/103 = 1.38834... -> 1.3883; ROAS 187.00/143.00 = 1.30769... -> 1.3077.
    assert day_before == Figures(
        10399,
        1039,
        103,
        Decimal("143.00"),
        Decimal("187.00"),
        Decimal("0.0999"),
        Decimal("0.0991"),
        Decimal("1.3883"),
        Decimal("1.3077"),
    )


async def test_ratios_round_half_up_to_four_places(db: AsyncSession) -> None:
    # Every ratio is exactly 0.03125 or 0.00125: half-up gives ...3, half-even would give ...2.
    # CTR 8192/262144 = 0.03125 -> 0.0313; conversion 256/8192 = 0.03125 -> 0.0313;
    # cost 0.32/256 = 0.00125 -> 0.0013; ROAS 0.01/0.32 = 0.03125 -> 0.0313;
    # budget used 1.00/32.00 = 0.03125 -> 0.0313.
    halves = await add_campaign(db, name="Halves", budget=Decimal("32.00"), spend=Decimal("1.00"))
    await add_day(db, halves, date(2026, 11, 3), (262144, 8192, 256), "0.32", "0.01")
    await db.commit()

    report = await campaign_performance(db, PERIOD)

    expected = Figures(
        262144,
        8192,
        256,
        Decimal("0.32"),
        Decimal("0.01"),
        Decimal("0.0313"),
        Decimal("0.0313"),
        Decimal("0.0013"),
        Decimal("0.0313"),
    )
    assert [(c.budget_used, c.figures) for c in report.campaigns] == [(Decimal("0.0313"), expected)]
    assert report.totals == expected


async def test_budget_used_is_lifetime_spend_whatever_the_period(db: AsyncSession) -> None:
    # Lifetime 900.00 of 1200.00 = 0.7500 although the period holds only 5.00 of spend.
    # Overspent: 300.00 of 200.00 = 1.5000.
    steady = await add_campaign(
        db, name="Steady", budget=Decimal("1200.00"), spend=Decimal("900.00")
    )
    over = await add_campaign(db, name="Over", budget=Decimal("200.00"), spend=Decimal("300.00"))
    await add_day(db, steady, date(2026, 11, 4), (100, 10, 1), "5.00", "6.00")
    await add_day(db, over, date(2026, 11, 4), (100, 10, 1), "5.00", "6.00")
    await db.commit()

    report = await campaign_performance(db, PERIOD)

    # Equal spend (5.00): by name, Over before Steady.
    assert [(c.name, c.budget_used) for c in report.campaigns] == [
        ("Over", Decimal("1.5000")),
        ("Steady", Decimal("0.7500")),
    ]


# The JSON door ----------------------------------------------------------------------------


def campaign_json(line: CampaignFigures) -> dict[str, Any]:
    return {
        "id": str(line.id),
        "name": line.name,
        "status": line.status,
        "channel": line.channel,
        "currency": line.currency,
        "budget_used": None if line.budget_used is None else str(line.budget_used),
        "figures": figures_json(line.figures),
    }


async def test_the_api_answers_the_same_figures(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    ids = await main_dataset(db)
    await signed_in(client, await make_staff(db, "analyst"))

    response = await client.get(PATH, params={"from": "2026-11-02", "to": "2026-11-05"})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    body = response.json()
    assert body == {
        "period": {"from": "2026-11-02", "to": "2026-11-05"},
        "currency": "USD",
        "campaigns": [campaign_json(alpha_line(ids)), campaign_json(bravo_line(ids))],
        "other_currencies": [campaign_json(charlie_line(ids))],
        "days": [{"day": d.day.isoformat(), "figures": figures_json(d.figures)} for d in USD_DAYS],
        "totals": figures_json(USD_TOTALS),
    }
    # The exact strings, spelled out once.
    assert body["totals"] == {
        "impressions": 4500,
        "clicks": 140,
        "conversions": 9,
        "spend": "60.00",
        "revenue": "100.00",
        "ctr": "0.0311",
        "conversion_rate": "0.0643",
        "cost_per_conversion": "6.6667",
        "roas": "1.6667",
    }
    assert body["days"][1]["figures"]["spend"] == "0.00"
    assert body["days"][1]["figures"]["ctr"] is None
    assert body["campaigns"][0]["budget_used"] == "0.2500"
    assert body["campaigns"][1]["budget_used"] is None
    report = await campaign_performance(db, PERIOD, "USD")
    assert body == {"period": PERIOD.as_json(), **plain(report)}


async def test_the_api_takes_a_currency(client: httpx.AsyncClient, db: AsyncSession) -> None:
    ids = await main_dataset(db)
    await signed_in(client, await make_staff(db, "analyst"))

    response = await client.get(
        PATH, params={"from": "2026-11-03", "to": "2026-11-03", "currency": "EUR"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["currency"] == "EUR"
    assert body["campaigns"] == [campaign_json(charlie_line(ids))]
    assert body["other_currencies"] == []
    assert body["days"] == [{"day": "2026-11-03", "figures": figures_json(CHARLIE)}]
    assert body["totals"] == figures_json(CHARLIE)


async def test_the_api_answers_an_empty_range_with_zeros(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await signed_in(client, await make_staff(db, "analyst"))

    response = await client.get(PATH, params={"from": "2026-11-01", "to": "2026-11-02"})

    assert response.status_code == 200
    zero = figures_json(ZERO)
    assert response.json() == {
        "period": {"from": "2026-11-01", "to": "2026-11-02"},
        "currency": "USD",
        "campaigns": [],
        "other_currencies": [],
        "days": [
            {"day": "2026-11-01", "figures": zero},
            {"day": "2026-11-02", "figures": zero},
        ],
        "totals": zero,
    }
