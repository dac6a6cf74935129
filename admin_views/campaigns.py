"""Screens for marketing: campaigns, their daily performance, the AI model registry."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from admin_views.base import StaffView
from admin_views.shared.actions import ActionContext, ActionRefusedError, row_action
from admin_views.shared.filters import ChoiceFilter, DateRangeFilter, RelatedFilter
from admin_views.shared.related import Related
from models.base import utcnow
from models.campaigns import AICampaign, AIModel, CampaignPerformance, CampaignStatus

MENU = "Marketing"
COMPLETABLE = frozenset({CampaignStatus.ACTIVE, CampaignStatus.PAUSED, CampaignStatus.SCHEDULED})


class AICampaignAdmin(StaffView, model=AICampaign):
    """Campaigns go live at their start and complete at their end by themselves
    (`jobs/campaign_schedule.py`); staff launch, pause, resume or complete them by hand."""

    default_access = {
        "admin": ("*",),
        "marketing": ("*",),
        "analyst": ("view", "export"),
        "viewer": ("view",),
    }
    name = "Campaign"
    icon = "fa-solid fa-bullhorn"
    column_list = [
        AICampaign.name,
        AICampaign.status,
        AICampaign.channel,
        AICampaign.budget,
        AICampaign.spend,
        AICampaign.starts_at,
        AICampaign.ends_at,
    ]
    column_searchable_list = [AICampaign.name, AICampaign.description]
    column_sortable_list = [AICampaign.name, AICampaign.budget, AICampaign.starts_at]
    column_filters = [
        ChoiceFilter(AICampaign.status),
        ChoiceFilter(AICampaign.channel),
        RelatedFilter(AICampaign.ai_model_id, "AI model", label=AIModel.name),
        DateRangeFilter(AICampaign.starts_at, "Starts"),
        DateRangeFilter(AICampaign.ends_at, "Ends"),
    ]
    form_columns = [
        AICampaign.name,
        AICampaign.description,
        AICampaign.channel,
        AICampaign.audience,
        AICampaign.budget,
        AICampaign.currency,
        AICampaign.starts_at,
        AICampaign.ends_at,
        AICampaign.ai_model,
    ]
    related = [
        Related(
            "Daily performance",
            CampaignPerformance.campaign_id,
            (
                CampaignPerformance.day,
                CampaignPerformance.impressions,
                CampaignPerformance.clicks,
                CampaignPerformance.conversions,
                CampaignPerformance.spend,
                CampaignPerformance.revenue,
            ),
            newest_first=CampaignPerformance.day,
            limit=14,
        ),
    ]

    @row_action(
        "launch",
        "Launch",
        confirm="Launch {record} (now, or at its start)?",
        when=lambda campaign: campaign.status == CampaignStatus.DRAFT,
    )
    async def launch(
        self, _db: AsyncSession, campaign: AICampaign, _context: ActionContext
    ) -> None:
        _move(lambda: campaign.launch(utcnow()))

    @row_action("pause", "Pause", when=lambda campaign: campaign.status == CampaignStatus.ACTIVE)
    async def pause(self, _db: AsyncSession, campaign: AICampaign, _context: ActionContext) -> None:
        _move(campaign.pause)

    @row_action("resume", "Resume", when=lambda campaign: campaign.status == CampaignStatus.PAUSED)
    async def resume(
        self, _db: AsyncSession, campaign: AICampaign, _context: ActionContext
    ) -> None:
        _move(lambda: campaign.resume(utcnow()))

    @row_action(
        "complete",
        "Complete",
        confirm="End {record} now? This cannot be undone.",
        when=lambda campaign: campaign.status in COMPLETABLE,
    )
    async def complete(
        self, _db: AsyncSession, campaign: AICampaign, _context: ActionContext
    ) -> None:
        _move(lambda: campaign.complete(utcnow()))


def _move(transition: Callable[[], None]) -> None:
    try:
        transition()
    except ValueError as refused:
        raise ActionRefusedError(str(refused)) from None


class CampaignPerformanceAdmin(StaffView, model=CampaignPerformance):
    default_access = {
        "admin": ("*",),
        "marketing": ("*",),
        "analyst": ("view", "export"),
        "viewer": ("view",),
    }
    name = "Campaign day"
    name_plural = "Campaign performance"
    export_extra = {"campaign.currency": "Currency"}
    icon = "fa-solid fa-chart-column"
    column_list = [
        CampaignPerformance.campaign,
        CampaignPerformance.day,
        CampaignPerformance.impressions,
        CampaignPerformance.clicks,
        CampaignPerformance.conversions,
        CampaignPerformance.spend,
        CampaignPerformance.revenue,
    ]
    column_searchable_list = ["campaign.name"]
    column_sortable_list = [CampaignPerformance.day, CampaignPerformance.spend]
    column_default_sort = [(CampaignPerformance.day, True)]
    column_filters = [
        RelatedFilter(CampaignPerformance.campaign_id, "Campaign", label=AICampaign.name),
        DateRangeFilter(CampaignPerformance.day),
    ]
    form_columns = [
        CampaignPerformance.campaign,
        CampaignPerformance.day,
        CampaignPerformance.impressions,
        CampaignPerformance.clicks,
        CampaignPerformance.conversions,
        CampaignPerformance.spend,
        CampaignPerformance.revenue,
    ]


class AIModelAdmin(StaffView, model=AIModel):
    default_access = {
        "admin": ("*",),
        "marketing": ("*",),
        "analyst": ("view", "export"),
        "viewer": ("view",),
    }
    name = "AI model"
    icon = "fa-solid fa-microchip"
    column_list = [
        AIModel.name,
        AIModel.version,
        AIModel.provider,
        AIModel.purpose,
        AIModel.status,
        AIModel.updated_at,
    ]
    column_searchable_list = [AIModel.name, AIModel.version]
    column_filters = [
        ChoiceFilter(AIModel.provider),
        ChoiceFilter(AIModel.purpose),
        ChoiceFilter(AIModel.status),
    ]
    form_columns = [
        AIModel.name,
        AIModel.provider,
        AIModel.version,
        AIModel.purpose,
        AIModel.status,
        AIModel.config,
        AIModel.metrics,
    ]
    related = [
        Related(
            "Campaigns",
            AICampaign.ai_model_id,
            (AICampaign.name, AICampaign.status, AICampaign.starts_at),
        ),
    ]
