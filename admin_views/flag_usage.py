"""How often each flag was answered: the counts' own screen, and the chart on a flag's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from admin_views.base import StaffView
from admin_views.shared.filters import DateRangeFilter
from flags.usage import hour_of
from models.base import utcnow
from models.flag_usage import FlagEvaluationCount

MENU = "Feature flags"
CHART_HOURS = 48


class FlagEvaluationCountAdmin(StaffView, model=FlagEvaluationCount):
    """Written by the flag doors (in batches), read here: nobody edits a count."""

    default_access = {
        "admin": ("view", "export"),
        "operations": ("view", "export"),
        "marketing": ("view",),
        "analyst": ("view", "export"),
        "viewer": ("view",),
    }
    name_plural = "Flag evaluations"
    icon = "fa-solid fa-chart-column"
    can_create = False
    can_edit = False
    can_delete = False
    column_list = [
        FlagEvaluationCount.hour,
        FlagEvaluationCount.flag_key,
        FlagEvaluationCount.environment,
        FlagEvaluationCount.variant,
        FlagEvaluationCount.count,
    ]
    column_searchable_list = [FlagEvaluationCount.flag_key]
    column_sortable_list = [FlagEvaluationCount.hour]
    column_default_sort = [(FlagEvaluationCount.hour, True)]
    column_filters = [DateRangeFilter(FlagEvaluationCount.hour, "Hour")]
    column_labels = {FlagEvaluationCount.flag_key: "Flag"}


@dataclass(frozen=True)
class Bar:
    hour: datetime
    count: int
    height: float
    """Of the chart's height, 0 to 1."""


@dataclass(frozen=True)
class EnvironmentUsage:
    environment: str
    bars: list[Bar]
    total: int
    peak: int
    """The busiest hour's answers: the chart's full height."""
    by_variant: list[tuple[str, int]]
    last_hour: datetime


async def usage_chart(db: AsyncSession, flag_key: str) -> list[EnvironmentUsage]:
    """Each environment's answers of the flag over the last `CHART_HOURS` hours, by hour,
    and when it was last answered; environments that never answered it are left out."""
    now = hour_of(utcnow())
    since = now - timedelta(hours=CHART_HOURS - 1)
    c = FlagEvaluationCount
    recent = await db.execute(
        sa.select(c.environment, c.hour, c.variant, c.count).where(
            c.flag_key == flag_key, c.hour >= since
        )
    )
    last = dict(
        (
            await db.execute(
                sa.select(c.environment, sa.func.max(c.hour))
                .where(c.flag_key == flag_key)
                .group_by(c.environment)
            )
        ).all()
    )
    hourly: dict[str, dict[datetime, int]] = {}
    variants: dict[str, dict[str, int]] = {}
    for environment, hour, variant, count in recent.all():
        hourly.setdefault(environment, {})
        hourly[environment][hour] = hourly[environment].get(hour, 0) + count
        variants.setdefault(environment, {})
        variants[environment][variant] = variants[environment].get(variant, 0) + count
    charts = []
    for environment in sorted(last):
        counts = hourly.get(environment, {})
        peak = max(counts.values(), default=0)
        bars = [
            Bar(hour, counts.get(hour, 0), counts.get(hour, 0) / (peak or 1))
            for hour in (since + timedelta(hours=n) for n in range(CHART_HOURS))
        ]
        split = sorted(variants.get(environment, {}).items(), key=lambda item: -item[1])
        charts.append(
            EnvironmentUsage(
                environment, bars, sum(counts.values()), peak, split, last[environment]
            )
        )
    return charts
