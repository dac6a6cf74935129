"""Screens for marketing: campaigns, their daily performance, the AI model registry."""

from __future__ import annotations

from admin_views.base import StaffView
from models.campaigns import AICampaign, AIModel, CampaignPerformance

MENU = "Marketing"


class AICampaignAdmin(StaffView, model=AICampaign):
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
    column_searchable_list = [AICampaign.name]
    column_sortable_list = [AICampaign.name, AICampaign.status, AICampaign.starts_at]


class CampaignPerformanceAdmin(StaffView, model=CampaignPerformance):
    name = "Campaign day"
    name_plural = "Campaign performance"
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
    column_default_sort = [(CampaignPerformance.day, True)]


class AIModelAdmin(StaffView, model=AIModel):
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
