"""Errors on admin pages keep the admin around them (the sidebar, when signed in) and offer a
way back; the API's errors stay JSON; the plain pages made before the app answers link on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from admin_views.people import UserAdmin
from core.database import Database
from tests import staff
from tests.admin_views.anchors import anchors, named

SIDEBAR = 'id="sidebar-menu"'


def ways_back(page: str) -> dict[str, str]:
    """The links of the error page's "way back" bar, by their text."""
    return {a.text.strip(): str(a.href) for a in anchors(page) if "error-ways-back" in a.within}


async def test_a_missing_record_is_a_404_inside_the_layout_with_ways_back(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    response = await client.get(
        f"/admin/users/details/{uuid.uuid4()}", headers={"referer": "http://testserver/admin/"}
    )

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert SIDEBAR in page
    assert named(page, "Customers").href == "http://testserver/admin/users/list"
    assert "Page not found" in page
    links = ways_back(page)
    assert links["Go back"] == "/admin/"
    assert links["Home"] == "http://testserver/admin/"
    back_to_list = await client.get(links["Back to customers"])
    assert back_to_list.status_code == 200
    assert 'id="search-input"' in back_to_list.text


async def test_an_unknown_table_is_a_404_with_the_sidebar_and_home(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    response = await client.get("/admin/no-such-table/list")

    assert response.status_code == 404
    assert SIDEBAR in response.text
    links = ways_back(response.text)
    assert set(links) == {"Go back", "Home"}, "no table to go back to"
    assert (await client.get(links["Home"])).status_code == 200


async def test_a_forbidden_table_is_a_403_with_the_sidebar_of_what_the_role_may_open(
    client: httpx.AsyncClient, seeded: Database
) -> None:
    async with seeded.session() as db:
        account = await staff.make_staff(db, "support")
    await staff.signed_in(client, account)

    response = await client.get("/admin/roles/list")

    assert response.status_code == 403
    assert SIDEBAR in response.text
    assert "Not allowed" in response.text
    assert named(response.text, "Tickets").href == "http://testserver/admin/support-tickets/list"
    assert not [a for a in anchors(response.text) if a.text.strip() == "Roles"]
    assert "Back to roles" not in ways_back(response.text), "not a list the role may open"


async def test_a_wrong_method_is_a_405_page_that_keeps_its_allow_header(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    response = await client.get("/admin/logout")

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert SIDEBAR in response.text
    assert "Home" in ways_back(response.text)


async def test_signed_out_a_missing_page_offers_the_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/no/such/page/here")

    assert response.status_code == 404
    assert SIDEBAR not in response.text
    assert ways_back(response.text) == {"Sign in": "http://testserver/admin/login"}


@pytest.fixture
async def lenient(
    app: Starlette, client: httpx.AsyncClient, boss: staff.Account
) -> AsyncIterator[httpx.AsyncClient]:
    """The superadmin's session in a client that gets the 500 page, not the exception."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=client.cookies
    ) as other:
        yield other


async def test_a_failure_is_a_500_page_with_a_reference_and_ways_back(
    lenient: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(_view: UserAdmin, _request: Request) -> Response:
        raise RuntimeError("a bug")

    monkeypatch.setattr(UserAdmin, "list", broken)

    response = await lenient.get("/admin/users/list", headers={"x-request-id": "req-12345678"})

    assert response.status_code == 500
    assert SIDEBAR in response.text
    assert "Something went wrong" in response.text
    assert "<code>req-12345678</code>" in response.text
    assert "a bug" not in response.text
    assert set(ways_back(response.text)) == {"Go back", "Back to customers", "Home"}


async def test_api_errors_stay_json(client: httpx.AsyncClient, boss: staff.Account) -> None:
    missing = await client.get("/api/v1/no-such-thing")
    wrong_method = await client.get("/api/v1/admin/auth/login")

    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "message": "Not Found"}
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"


async def test_a_plain_error_page_links_to_trying_again_and_home(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    """Refused before the app reads the request (here a body over 1 MiB): no layout, a way on."""
    response = await client.post(
        "/admin/ai-models/create",
        content=b"name=x&padding=" + b"x" * 1_100_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 413
    assert SIDEBAR not in response.text
    assert named(response.text, "Try again").href == "/admin/ai-models/create"
    assert named(response.text, "Back to the dashboard").href == "/admin/"
    assert (await client.get("/admin/ai-models/create")).status_code == 200
