"""Insight pages: the dashboard (the admin's home) and the user, campaign, support and
merchant statistics, each declared as where it lives, its template and the answers it shows."""

from __future__ import annotations

from admin_views.shared.insights import InsightsPage


class DashboardPage(InsightsPage):
    default_access = {
        "admin": ("view",),
        "operations": ("view",),
        "support": ("view",),
        "marketing": ("view",),
        "analyst": ("view",),
        "viewer": ("view",),
    }
    name = "Dashboard"
    icon = "fa-solid fa-gauge-high"
    path, identity = "/dashboard", "dashboard"
    is_home = True
    template = "staff/insights/dashboard.html"
    shows = ("overview", "revenue", "funnel", "cohorts", "campaigns")


class UserStatsPage(InsightsPage):
    name = "User statistics"
    icon = "fa-solid fa-users-viewfinder"
    path, identity = "/dashboard/users", "user-stats"
    template = "staff/insights/users.html"
    shows = ("users", "funnel")
    shows_money = False


class CampaignPerformancePage(InsightsPage):
    name = "Campaign performance"
    icon = "fa-solid fa-bullhorn"
    path, identity = "/dashboard/campaigns", "campaign-performance"
    template = "staff/insights/campaigns.html"
    shows = ("campaigns",)


class SupportStatsPage(InsightsPage):
    name = "Support"
    icon = "fa-solid fa-headset"
    path, identity = "/dashboard/support", "support-stats"
    template = "staff/insights/support.html"
    shows = ("support",)
    shows_money = False


class MerchantStatsPage(InsightsPage):
    name = "Merchants"
    icon = "fa-solid fa-store"
    path, identity = "/dashboard/merchants", "merchant-stats"
    template = "staff/insights/merchants.html"
    shows = ("merchants",)
