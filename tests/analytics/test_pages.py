"""Insight pages over HTTP: the dashboard is home, figures are on the page, access is checked."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from admin_views.shared.formatting import day
from analytics.period import midnight
from analytics.refresh import refresh
from models.base import utcnow
from tests import rows
from tests.analytics import world
from tests.staff import make_staff, signed_in

WEEK = "from=2026-11-02&to=2026-11-08"
PAGES = [
    "/admin/dashboard",
    "/admin/dashboard/users",
    "/admin/dashboard/campaigns",
    "/admin/dashboard/support",
    "/admin/dashboard/merchants",
]
TOKYO = ZoneInfo("Asia/Tokyo")
DATA = re.compile(r'<script type="application/json" id="insights-data">(.*?)</script>', re.S)


def kpi(page: str, key: str) -> str:
    found = re.search(rf'data-kpi="{key}">.*?kpi-value">([^<]*)<', page, re.S)
    assert found, f"no {key} card"
    return found[1].strip()


@pytest.fixture
async def analyst(client: httpx.AsyncClient, db: AsyncSession) -> httpx.AsyncClient:
    return await signed_in(client, await make_staff(db, "analyst"))


async def test_home_is_the_dashboard(analyst: httpx.AsyncClient, db: AsyncSession) -> None:
    await world.build(db)
    page = await analyst.get(f"/admin/?{WEEK}")
    assert page.status_code == 200
    html = page.text
    assert "2 Nov 2026 to 8 Nov 2026, 7 days &middot; days in UTC" in html
    assert kpi(html, "signups") == "4"
    assert kpi(html, "active_users") == "1.3"
    assert kpi(html, "volume") == "222.50 USD"
    assert kpi(html, "average_ticket") == "23.75 USD"
    assert "+178.1% vs previous 7 days" in html  # volume: 222.50 against 80.00
    for chart in ("activity", "money", "funnel", "roas"):
        assert f'data-chart="{chart}"' in html
    assert re.search(r"2 Nov 2026</td>\s*<td[^>]*>4</td>", html), "cohort row"
    assert ">75.0%</td>" in html  # the cohort's first week
    assert ">66.7%</td>" in html  # funnel: funded / verified
    found = DATA.search(html)
    assert found
    data = json.loads(found[1])
    api = await analyst.get(f"/api/v1/admin/dashboard/overview?{WEEK}")
    assert data["overview"] == api.json()


async def test_the_range_picker_offers_presets_and_keeps_a_custom_range(
    analyst: httpx.AsyncClient,
) -> None:
    html = (await analyst.get("/admin/dashboard?days=7")).text
    assert re.search(r'class="btn btn-primary"\s+href="\?days=7&amp;currency=USD"', html)
    custom = (await analyst.get(f"/admin/dashboard?{WEEK}")).text
    assert 'name="from" aria-label="From" value="2026-11-02"' in custom
    assert 'name="to" aria-label="To" value="2026-11-08"' in custom


async def test_a_bad_range_says_why_and_shows_the_default(analyst: httpx.AsyncClient) -> None:
    page = await analyst.get("/admin/dashboard?from=2026-11-09&to=2026-11-01")
    assert page.status_code == 400
    assert "The range ends before it starts. Showing the last 30 days instead." in page.text
    assert "30 days" in page.text


@pytest.mark.parametrize("path", PAGES)
async def test_every_insight_page_shows_figures(
    analyst: httpx.AsyncClient, db: AsyncSession, path: str
) -> None:
    await world.build(db)
    page = await analyst.get(f"{path}?{WEEK}")
    assert page.status_code == 200
    assert 'id="kpis"' in page.text
    assert DATA.search(page.text)


async def test_user_statistics_page(analyst: httpx.AsyncClient, db: AsyncSession) -> None:
    await world.build(db)
    html = (await analyst.get(f"/admin/dashboard/users?{WEEK}")).text
    assert kpi(html, "total") == "7"
    assert kpi(html, "suspended") == "1"
    assert kpi(html, "verification_rate") == "85.7%"


async def test_insights_need_the_dashboard_permission(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    role = await rows.insert(db, "roles", rows.role_row(permissions=["merchants:view"]))
    await db.commit()
    await signed_in(client, await make_staff(db, role["name"]))
    for path in PAGES:
        assert (await client.get(path)).status_code == 403, path
    home = await client.get("/admin/")
    assert home.status_code == 200
    assert 'id="kpis"' not in home.text
    assert "Insights" not in home.text


async def test_pages_need_a_sign_in(client: httpx.AsyncClient) -> None:
    for path in ["/admin/", *PAGES]:
        answer = await client.get(path)
        assert answer.status_code == 302, path
        assert "/admin/login" in answer.headers["location"]


async def test_chart_js_is_served_by_the_app(client: httpx.AsyncClient) -> None:
    script = await client.get("/static/vendor/chartjs/chart.umd.min.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.text.startswith("/*!\n * Chart.js v4.")


@pytest.fixture
async def tokyo_analyst(client: httpx.AsyncClient, db: AsyncSession) -> httpx.AsyncClient:
    return await signed_in(client, await make_staff(db, "analyst", time_zone="Asia/Tokyo"))


@pytest.mark.parametrize("path", PAGES)
async def test_every_insight_page_says_when_its_figures_were_counted(
    tokyo_analyst: httpx.AsyncClient, path: str
) -> None:
    before = datetime.now(TOKYO)
    html = (await tokyo_analyst.get(f"{path}?{WEEK}")).text
    after = datetime.now(TOKYO)
    as_of = re.search(r"Figures as of (\d\d:\d\d) \(Asia/Tokyo\)", html)
    assert as_of, html[:3000]
    assert as_of[1] in {f"{before:%H:%M}", f"{after:%H:%M}"}
    assert "days in UTC" in html


async def test_time_series_mark_todays_partial_day(tokyo_analyst: httpx.AsyncClient) -> None:
    today = utcnow().date()
    html = (await tokyo_analyst.get("/admin/dashboard?days=7")).text
    for chart in ("activity", "money"):
        assert f'data-chart="{chart}"' in html
        assert re.search(rf'data-chart="{chart}"[^>]*data-partial="{today.isoformat()}"', html)
    assert f"is today so far ({day(today)})" in html

    past = (await tokyo_analyst.get(f"/admin/dashboard?{WEEK}")).text
    assert "data-partial=" not in past
    assert "so far" not in past


async def test_todays_active_users_say_they_are_as_of_the_last_refresh(
    tokyo_analyst: httpx.AsyncClient, db: AsyncSession
) -> None:
    await world.build(db)  # history before today, so the refresh stores the open day
    now = utcnow()
    refreshed_at = max(now - timedelta(minutes=20), midnight(now.date()))  # earlier today
    await refresh(db, refreshed_at)
    await db.commit()
    html = (await tokyo_analyst.get("/admin/dashboard?days=7")).text
    local = refreshed_at.astimezone(TOKYO)
    assert f"today's daily active users as of the last refresh, {local:%H:%M}" in html
    for elsewhere in ("/admin/dashboard/campaigns?days=7", f"/admin/dashboard?{WEEK}"):
        assert "as of the last refresh" not in (await tokyo_analyst.get(elsewhere)).text


async def test_the_merchants_chart_says_when_the_range_has_none(
    analyst: httpx.AsyncClient, db: AsyncSession
) -> None:
    html = (await analyst.get(f"/admin/dashboard/merchants?{WEEK}")).text
    assert 'data-chart-empty="merchants-weekly">No data for this range</div>' in html
    assert 'data-chart="merchants-weekly"' not in html

    await rows.insert(
        db, "merchants", rows.merchant_row(created_at=datetime(2026, 11, 3, tzinfo=UTC))
    )
    await db.commit()
    html = (await analyst.get(f"/admin/dashboard/merchants?{WEEK}")).text
    assert 'data-chart="merchants-weekly"' in html
    assert "No data for this range" not in html


async def test_merchant_names_link_only_for_staff_who_may_open_merchants(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    built = await world.build(db)
    link = f'href="http://testserver/admin/merchants/details/{built.merchant}"'

    analyst_page = await signed_in(client, await make_staff(db, "analyst"))
    linked = (await analyst_page.get(f"/admin/dashboard/merchants?{WEEK}")).text
    marketing_page = await signed_in(client, await make_staff(db, "marketing"))
    unlinked = (await marketing_page.get(f"/admin/dashboard/merchants?{WEEK}")).text

    assert link in linked
    assert link not in unlinked
    assert "/admin/merchants/details/" not in unlinked
