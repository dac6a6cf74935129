"""The dashboard's answers (analytics/answers.py), one model per question; the query they
answer is `analytics.asked.DashboardQuery`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, NonNegativeInt, create_model

from analytics import support
from api.schemas import Closed, one_of
from models.campaigns import CampaignChannel, CampaignStatus
from models.merchants import MerchantStatus
from models.payments import TransactionType
from models.support import TicketPriority

ExactDecimal = Annotated[
    str,
    Field(
        description="An exact decimal number, as text so that no digit is lost.",
        pattern=r"^-?[0-9]+(\.[0-9]+)?$",
    ),
]
Ratio = Annotated[
    ExactDecimal | None,
    Field(
        description="A fraction to four places: 0.0512 is 5.12 %. Null where there is no "
        "rate to show."
    ),
]
Count = NonNegativeInt


class Period(Closed):
    first: date = Field(alias="from")
    last: date = Field(alias="to")


class Kpi(Closed):
    key: str
    label: str
    unit: one_of(["count", "money", "ratio"])
    value: ExactDecimal | None
    previous: ExactDecimal | None
    change: Ratio


class CampaignFigures(Closed):
    impressions: Count
    clicks: Count
    conversions: Count
    spend: ExactDecimal
    revenue: ExactDecimal
    ctr: Ratio
    conversion_rate: Ratio
    cost_per_conversion: Ratio
    roas: Ratio


class Campaign(Closed):
    id: uuid.UUID
    name: str
    status: one_of(CampaignStatus)
    channel: one_of(CampaignChannel)
    currency: str
    budget_used: Ratio
    figures: CampaignFigures


def _per_kind(name: str, value: Any) -> type[BaseModel]:
    """An object with one `value` per transaction type, every type present."""
    return create_model(name, __base__=Closed, **{kind.value: value for kind in TransactionType})


class OverviewAnswer(Closed):
    period: Period
    days: list[date]
    previous: Period
    currency: str
    kpis: list[Kpi]
    signups: list[Count]
    active_users: list[Count]


class RevenueTotals(Closed):
    transactions: Count
    volume: ExactDecimal
    revenue: ExactDecimal
    average_ticket: ExactDecimal | None
    purchases: Count


class RevenueAnswer(Closed):
    period: Period
    days: list[date]
    currency: str
    transactions: _per_kind("TransactionsPerKind", list[Count])
    volume: _per_kind("VolumePerKind", list[ExactDecimal])
    total_volume: list[ExactDecimal]
    revenue: list[ExactDecimal]
    totals: RevenueTotals


class FunnelStep(Closed):
    key: str
    label: str
    users: Count
    conversion: Ratio


class FunnelAnswer(Closed):
    period: Period
    steps: list[FunnelStep]


class CohortCell(Closed):
    week: Count
    active: Count
    share: Ratio


class Cohort(Closed):
    week: date
    users: Count
    cells: list[CohortCell]


class CohortsAnswer(Closed):
    period: Period
    cohorts: list[Cohort]


class CampaignDay(Closed):
    day: date
    figures: CampaignFigures


class CampaignsAnswer(Closed):
    period: Period
    currency: str
    campaigns: list[Campaign]
    days: list[CampaignDay]
    totals: CampaignFigures
    other_currencies: list[Campaign]


class PriorityCount(Closed):
    value: one_of(TicketPriority)
    count: Count


class StatusCount(Closed):
    value: one_of(support.OPEN_STATUSES)
    count: Count


class OpenTickets(Closed):
    total: Count
    by_priority: list[PriorityCount]
    by_status: list[StatusCount]


class TicketTimes(Closed):
    created: Count
    responded: Count
    median_first_response_seconds: float | None
    resolved: Count
    median_resolution_seconds: float | None


class AgentLoad(Closed):
    id: uuid.UUID
    name: str
    assigned: Count
    done: Count


class Workload(Closed):
    agents: list[AgentLoad]
    unassigned: Count


class SupportAnswer(Closed):
    period: Period
    open: OpenTickets
    times: TicketTimes
    workload: Workload


class PendingMerchant(Closed):
    id: uuid.UUID
    name: str
    created_at: datetime


class TopMerchant(Closed):
    merchant_id: uuid.UUID
    name: str
    volume: ExactDecimal


MerchantsPerStatus = create_model(
    "MerchantsPerStatus", __base__=Closed, **{status.value: Count for status in MerchantStatus}
)


class MerchantsAnswer(Closed):
    period: Period
    currency: str
    by_status: MerchantsPerStatus
    pending: Count
    oldest_pending: list[PendingMerchant]
    new_per_week: dict[date, Count] = Field(
        description="Merchants created each ISO week, by the week's Monday."
    )
    top_merchants: list[TopMerchant]


class UserTotals(Closed):
    total: Count
    active: Count
    suspended: Count
    deactivated: Count
    verified: Count
    verification_rate: Ratio


class UsersAnswer(Closed):
    period: Period
    days: list[date]
    totals: UserTotals
    signups: list[Count]
    active_users: list[Count]


ANSWERS: dict[str, type[BaseModel]] = {
    "overview": OverviewAnswer,
    "revenue": RevenueAnswer,
    "funnel": FunnelAnswer,
    "cohorts": CohortsAnswer,
    "campaigns": CampaignsAnswer,
    "support": SupportAnswer,
    "merchants": MerchantsAnswer,
    "users": UsersAnswer,
}
"""Each answer's model by its name in `analytics.answers.QUESTIONS`."""
