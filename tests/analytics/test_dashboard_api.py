"""The dashboard's JSON doors: exact figures, the range in the query, sign-in and permission."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.refresh import refresh
from models.base import utcnow
from tests import rows
from tests.analytics import world
from tests.staff import PASSWORD, make_staff, signed_in

WEEK = "from=2026-11-02&to=2026-11-08"
PATHS = [
    *(
        f"/api/v1/admin/dashboard/{name}"
        for name in ("overview", "revenue", "funnel", "cohorts", "campaigns", "support")
    ),
    "/api/v1/admin/dashboard/merchants",
    "/api/v1/admin/users/stats/overview",
]


@pytest.fixture
async def analyst(client: httpx.AsyncClient, db: AsyncSession) -> httpx.AsyncClient:
    return await signed_in(client, await make_staff(db, "analyst"))


async def test_overview_compares_with_the_previous_period(
    analyst: httpx.AsyncClient, db: AsyncSession
) -> None:
    await world.build(db)
    body = (await analyst.get(f"/api/v1/admin/dashboard/overview?{WEEK}")).json()
    assert body["period"] == {"from": "2026-11-02", "to": "2026-11-08"}
    assert body["previous"] == {"from": "2026-10-26", "to": "2026-11-01"}
    assert body["days"][0] == "2026-11-02"
    assert body["signups"] == [2, 1, 1, 0, 0, 0, 0]
    assert body["active_users"] == [2, 1, 2, 1, 2, 0, 1]
    kpis = {kpi["key"]: (kpi["value"], kpi["previous"], kpi["change"]) for kpi in body["kpis"]}
    assert kpis == {
        # u4 signed up on 1 November, the previous period's last day: 4 against 1.
        "signups": ("4", "1", "3.0000"),
        # 9 active user-days / 7 = 1.3 against 1 (u0, t0) / 7 = 0.1.
        "active_users": ("1.3", "0.1", "12.0000"),
        "transactions": ("6", "1", "5.0000"),
        # (222.50 - 80.00) / 80.00 = 1.78125, rounded half up.
        "volume": ("222.50", "80.00", "1.7813"),
        "revenue": ("1.19", "0.00", None),  # nothing to compare with
        "average_ticket": ("23.75", None, None),
    }


async def test_revenue_by_day_and_type(analyst: httpx.AsyncClient, db: AsyncSession) -> None:
    await world.build(db)
    body = (await analyst.get(f"/api/v1/admin/dashboard/revenue?{WEEK}&currency=EUR")).json()
    assert body["currency"] == "EUR"
    assert body["transactions"]["deposit"] == [1, 0, 0, 0, 0, 0, 0]
    assert body["volume"]["purchase"] == ["0.00", "0.00", "0.00", "0.00", "20.00", "0.00", "0.00"]
    assert body["total_volume"] == ["200.00", "0.00", "0.00", "0.00", "20.00", "0.00", "0.00"]
    assert body["revenue"][4] == "0.50"
    assert body["totals"] == {
        "transactions": 2,
        "volume": "220.00",
        "revenue": "0.50",
        "average_ticket": "20.00",
        "purchases": 1,
    }


async def test_funnel_cohorts_and_user_statistics(
    analyst: httpx.AsyncClient, db: AsyncSession
) -> None:
    await world.build(db)
    funnel = (await analyst.get(f"/api/v1/admin/dashboard/funnel?{WEEK}")).json()
    assert [(s["key"], s["users"], s["conversion"]) for s in funnel["steps"]] == [
        ("signups", 4, None),
        ("verified", 3, "0.7500"),
        ("funded", 2, "0.6667"),
        ("purchased", 2, "1.0000"),
    ]
    cohorts = (
        await analyst.get("/api/v1/admin/dashboard/cohorts?from=2026-11-02&to=2026-11-15")
    ).json()
    assert cohorts["cohorts"] == [
        {
            "week": "2026-11-02",
            "users": 4,
            "cells": [
                {"week": 0, "active": 3, "share": "0.7500"},
                {"week": 1, "active": 1, "share": "0.2500"},
            ],
        },
        {"week": "2026-11-09", "users": 1, "cells": [{"week": 0, "active": 1, "share": "1.0000"}]},
    ]
    stats = (await analyst.get(f"/api/v1/admin/users/stats/overview?{WEEK}")).json()
    assert stats["totals"] == {
        "total": 7,
        "active": 5,
        "suspended": 1,
        "deactivated": 1,
        "verified": 6,
        "verification_rate": "0.8571",
    }
    assert stats["signups"] == [2, 1, 1, 0, 0, 0, 0]


async def test_answers_from_rollups_equal_live_ones(
    analyst: httpx.AsyncClient, db: AsyncSession
) -> None:
    await world.build(db)
    before = [(await analyst.get(f"{path}?days=90")).json() for path in PATHS]
    await refresh(db, utcnow())
    await db.commit()
    assert [(await analyst.get(f"{path}?days=90")).json() for path in PATHS] == before


async def test_a_bearer_token_opens_the_doors(client: httpx.AsyncClient, db: AsyncSession) -> None:
    account = await make_staff(db, "marketing")
    login = await client.post(
        "/api/v1/admin/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    token = login.json()["access_token"]
    answer = await client.get(
        "/api/v1/admin/dashboard/funnel?days=7", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "private, no-store"
    assert answer.json()["steps"][0]["key"] == "signups"


@pytest.mark.parametrize("path", PATHS)
async def test_every_door_needs_a_sign_in(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 401
    assert answer.json()["error"] == "not_authenticated"


@pytest.mark.parametrize("path", PATHS)
async def test_every_door_needs_the_dashboard_permission(
    client: httpx.AsyncClient, db: AsyncSession, path: str
) -> None:
    role = await rows.insert(db, "roles", rows.role_row(permissions=["merchants:view"]))
    await db.commit()
    await signed_in(client, await make_staff(db, role["name"]))
    answer = await client.get(path)
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=12", "days must be one of 7, 30, 90."),
        ("days=", "days must be one of 7, 30, 90."),
        ("from=2026-11-05&to=2026-11-01", "The range ends before it starts."),
        ("from=2026-11-05", "from and to must both be dates like 2026-11-01."),
        ("from=2026-02-30&to=2026-03-01", "from and to must both be dates like 2026-11-01."),
        ("from=2020-01-01&to=2026-11-01", "A range is at most 731 days."),
        ("currency=usd", "currency must be a three-letter code such as USD."),
        # Once a 500: '²' is a digit to str.isdigit() but not to int().
        ("days=%C2%B2", "days must be one of 7, 30, 90."),
        # Once ignored, because from and to take its place.
        ("days=abc&from=2026-11-02&to=2026-11-08", "days must be one of 7, 30, 90."),
        # Once read by date.fromisoformat, which takes more than YYYY-MM-DD.
        ("from=20261102&to=20261108", "from and to must both be dates like 2026-11-01."),
        # Once a 500: the previous period, or the day after, falls outside `date`.
        ("from=0001-01-01&to=0001-01-07", "from and to must be between 1970-01-01 and 2999-12-31."),
        ("from=9999-12-25&to=9999-12-31", "from and to must be between 1970-01-01 and 2999-12-31."),
    ],
)
async def test_a_bad_range_is_a_clear_400(
    analyst: httpx.AsyncClient, query: str, message: str
) -> None:
    answer = await analyst.get(f"/api/v1/admin/dashboard/overview?{query}")
    assert answer.status_code == 400
    assert answer.json() == {"error": "bad_query", "message": message}
