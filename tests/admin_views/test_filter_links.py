"""Filters as the list renders them: choosing one starts the list again at its first page,
and a list narrowed to one related row names that row, not its id."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from admin_views.shared.filters import choice_links
from models import User, Wallet
from tests import staff
from tests.admin_views.anchors import anchors
from tests.admin_views.screens import TOTAL


async def test_a_filter_chosen_on_a_later_page_starts_at_the_first(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    second = await client.get(
        "/admin/wallet-transactions/list", params={"pageSize": "25", "page": "2"}
    )
    choices = [
        a for a in anchors(second.text) if "list-filters" in a.within and "type=" in (a.href or "")
    ]

    assert second.status_code == 200
    assert choices, "the type filter offers its values"
    for choice in choices:
        query = parse_qs(urlsplit(choice.href or "").query)
        assert "page" not in query, choice.href
        followed = await client.get(choice.href or "")
        assert followed.status_code == 200


async def test_a_list_narrowed_to_a_customer_names_the_customer(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    wallet = await db.scalar(sa.select(Wallet).limit(1))
    assert wallet is not None
    user = await db.get(User, wallet.user_id)
    assert user is not None
    customer = await client.get(f"/admin/users/details/{user.id}")
    see_all = next(
        a for a in anchors(customer.text) if a.text.strip() == "See all" and "wallets" in a.href
    )

    narrowed = await client.get(see_all.href or "")

    assert narrowed.status_code == 200
    assert f"{user.first_name} {user.last_name} · {user.email}" in narrowed.text
    clear = next(a for a in anchors(narrowed.text) if a.attrs.get("title") == "Clear filter")
    assert "user_id" not in (clear.href or "")


async def test_all_in_a_related_filter_shows_every_row(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    page = await client.get("/admin/support-tickets/list")
    [every] = [
        a
        for a in anchors(page.text)
        if "list-filters" in a.within
        and "assignee_id=" in (a.href or "")
        and a.text.strip() == "All"
    ]
    total = TOTAL.search(page.text)

    followed = await client.get(every.href or "")

    assert followed.status_code == 200
    assert total is not None
    assert TOTAL.search(followed.text)[0] == total[0]


@pytest.mark.parametrize(
    "query",
    [
        b"",
        b"status=open&page=3",
        b"search=a+b&status=open&status=closed&after=x&sortBy=created_at&sort=desc",
        b"name=%C3%BCber&pageSize=50&before=y",
    ],
)
def test_a_choice_leads_where_starlette_would_take_it(query: bytes) -> None:
    """Choice links are worked out once per filter: each is what `include_query_params`
    (a choice) or `remove_query_params` (the choice in use, cleared) answers on the list's
    address without its paging."""
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "https",
            "server": ("admin.example.com", 443),
            "path": "/admin/support-tickets/list",
            "root_path": "",
            "query_string": query,
            "headers": [(b"host", b"admin.example.com")],
        }
    )
    fresh = request.url.remove_query_params(["page", "after", "before"])
    lookups = [("open", "Open"), ("closed", "Closed"), ("a b&c/ü", "Odd")]

    links = choice_links(request, "status", lookups)

    chosen = request.query_params.get("status")
    for (value, label), link in zip(lookups, links, strict=True):
        assert link.label == label
        assert link.chosen is (value == chosen)
        expected = (
            fresh.remove_query_params("status")
            if link.chosen
            else fresh.include_query_params(status=value)
        )
        assert link.url == str(expected)
