"""Personal data by role: customers' and merchants' email, phone and date of birth show
unmasked only to roles holding `pii:view` (superadmin, admin and support by default), and
masked (`j•••@example.com`, `+1 ••• ••• 0238`) to every other role, on every door that shows
them: lists, record pages, the customer page, labels of related rows, the search box and its
JSON door, lookups, exports, the audit trail and the API with a bearer token. Each door is
reached the way staff reach it, from the links and forms the pages render."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from admin_views import discover_pages, discover_views
from admin_views.shared import default_access
from app import create_app
from core.database import Database
from core.settings import Settings
from models import User
from tests import rows, staff
from tests.admin_views.anchors import anchors
from tests.admin_views.screens import token
from tests.admin_views.test_form_fuzz import FormValues
from tests.admin_views.test_four_eyes_edits import approved
from tests.databases import reset_database
from tests.test_api_auth import bearer, log_in

JANE = rows.named_id("personal-data/jane")
SHOP = rows.named_id("personal-data/shop")
CHANGE = rows.named_id("personal-data/email-change")
EMAIL, PHONE, BORN = "jane.roe@example.com", "+15550100238", date(1987, 6, 5)
SHOP_EMAIL, SHOP_PHONE = "owner@corner-shop.example", "+447911123456"
NEW_EMAIL = "jane.roe@mail.example"
"""Jane's address before an edit the audit trail recorded (`EMAIL` is the one after)."""
REAL = {
    "email": (EMAIL, "j•••@example.com"),
    "old email": (NEW_EMAIL, "j•••@mail.example"),
    "phone": ("5550100238", "+1 ••• ••• 0238"),
    # The whole date in each form it is written in: "1987" alone also turns up by chance
    # inside the audit CSV's hashes and ids.
    "born": ("5 Jun 1987", "••••-••-••"),
    "born, as data": ("1987-06-05", "••••-••-••"),
    "shop email": (SHOP_EMAIL, "o•••@corner-shop.example"),
    "shop phone": ("7911123456", "+44 ••• ••• 3456"),
}
"""What each door may show: (the value, or a part only it contains; the value masked)."""
ROLES = ("superadmin", "admin", "operations", "support", "marketing", "analyst", "viewer")
SEES = frozenset({"superadmin", "admin", "support"})


@pytest.fixture(scope="module")
async def world(
    database: Database, migration_data: dict[str, list[dict[str, Any]]]
) -> AsyncIterator[Database]:
    """Jane (a wallet, a ticket, an email change in the audit trail) and a merchant, with
    the default roles' access as `migrate` grants it."""
    await reset_database(database, migration_data)
    async with database.session() as db:
        await rows.insert(
            db,
            "users",
            rows.user_row(
                id=JANE,
                email=EMAIL,
                phone=PHONE,
                date_of_birth=BORN,
                first_name="Jane",
                last_name="Roe",
            ),
        )
        await rows.insert(db, "wallets", rows.wallet_row(JANE))
        await rows.insert(db, "support_tickets", rows.ticket_row(JANE, subject="Card declined"))
        await rows.insert(
            db,
            "merchants",
            rows.merchant_row(
                id=SHOP, name="Corner Shop", contact_email=SHOP_EMAIL, phone=SHOP_PHONE
            ),
        )
        await rows.insert(
            db,
            "audit_logs",
            rows.audit_row(
                id=CHANGE,
                action="update",
                entity_type="users",
                entity_id=str(JANE),
                before={"email": NEW_EMAIL},
                after={"email": EMAIL},
            ),
        )
        async with db.begin_nested():
            await default_access.grant_declared(db, [*discover_views(), *discover_pages()])
        await db.commit()
    yield database
    await reset_database(database, migration_data)


@pytest.fixture(scope="module")
async def world_app(settings: Settings, world: Database) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    yield app
    await app.state.database.dispose()


@asynccontextmanager
async def signed_in(app: Starlette, database: Database, role: str) -> AsyncIterator[Any]:
    async with database.session() as db:
        account = await staff.make_staff(db, role)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await staff.signed_in(client, account)
        yield client, account


def _text(response: httpx.Response) -> str | None:
    """The answer as staff read it; None when the role may not open it."""
    if response.status_code in (401, 403):
        return None
    assert response.status_code == 200, response.text[:300]
    if response.headers.get("content-type", "").startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)
    return response.text


def _href(page: str, test: Callable[[dict[str, str]], bool]) -> str:
    [href] = {a.href for a in anchors(page) if a.href and test(a.attrs)}
    return href


def _to(path: str) -> Callable[[dict[str, str]], bool]:
    return lambda attrs: attrs.get("href", "").endswith(path)


async def _page(client: httpx.AsyncClient, url: str) -> str | None:
    return _text(await client.get(url))


async def customers_list(client: httpx.AsyncClient) -> str | None:
    return await _page(client, "/admin/users/list?search=Roe")


async def customer_page(client: httpx.AsyncClient) -> str | None:
    listed = await customers_list(client)
    if listed is None:
        return None
    return await _page(client, _href(listed, _to(f"/admin/customers/{JANE}")))


async def customer_fields(client: httpx.AsyncClient) -> str | None:
    page = await customer_page(client)
    if page is None:
        return None
    return await _page(client, _href(page, lambda a: a.get("id") == "customer-record"))


def export_door(list_url: str, kind: str) -> Callable[[httpx.AsyncClient], Awaitable[str | None]]:
    async def exported(client: httpx.AsyncClient) -> str | None:
        listed = await _page(client, list_url)
        if listed is None or f'data-export="{kind}"' not in listed:
            return None
        return await _page(client, _href(listed, lambda a: a.get("data-export") == kind))

    return exported


def list_door(url: str) -> Callable[[httpx.AsyncClient], Awaitable[str | None]]:
    async def listed(client: httpx.AsyncClient) -> str | None:
        return await _page(client, url)

    return listed


async def merchant_record(client: httpx.AsyncClient) -> str | None:
    listed = await _page(client, "/admin/merchants/list?search=Corner")
    if listed is None:
        return None
    return await _page(client, _href(listed, _to(f"/admin/merchants/details/{SHOP}")))


async def search_box(client: httpx.AsyncClient) -> str | None:
    page = await _page(client, "/admin/account")
    assert page is not None
    action = re.search(r'<form method="get" action="([^"]+)" role="search"', page)
    assert action, "the header's search box"
    return await _page(client, f"{action[1]}?q=Roe")


async def search_api(client: httpx.AsyncClient) -> str | None:
    return await _page(client, "/api/v1/admin/search?q=Roe")


async def lookup(client: httpx.AsyncClient) -> str | None:
    """The customer picker of the new-ticket form, as its script asks."""
    form = await _page(client, "/admin/support-tickets/create")
    if form is None:
        return None
    url = re.search(r'data-url="([^"]+)"[^>]*name="user"|name="user"[^>]*data-url="([^"]+)"', form)
    assert url, "the form's customer field searches as staff type"
    # As SQLAdmin's select2 asks: the field's name and what was typed.
    return await _page(client, f"{url[1] or url[2]}?name=user&term=roe")


async def audit_entry(client: httpx.AsyncClient) -> str | None:
    listed = await _page(client, AUDIT)
    if listed is None:
        return None
    return await _page(client, _href(listed, _to(f"/admin/audit-logs/details/{CHANGE}")))


AUDIT = f"/admin/audit-logs/list?search={JANE}"
"""The trail about Jane: sign-ins and grants would push her entry off the first page."""
MERCHANTS = "/admin/merchants/list"


@dataclass(frozen=True)
class Door:
    name: str
    open: Callable[[httpx.AsyncClient], Awaitable[str | None]]
    about: str
    """Text naming the record, present whenever the door shows it."""
    shows: tuple[str, ...]
    """The personal values it shows (keys of `REAL`)."""


DOORS = [
    Door("customers list", customers_list, "Jane", ("email",)),
    Door("customer page", customer_page, "Jane", ("email", "phone")),
    Door("customer's fields", customer_fields, "Jane", ("email", "phone", "born")),
    Door("customers CSV", export_door("/admin/users/list?search=Roe", "csv"), "Jane", ("email",)),
    Door("customers JSON", export_door("/admin/users/list?search=Roe", "json"), "Jane", ("email",)),
    Door("wallets list", list_door("/admin/wallets/list"), "Jane", ("email",)),
    Door("tickets list", list_door("/admin/support-tickets/list"), "Jane", ("email",)),
    Door("tickets CSV", export_door("/admin/support-tickets/list", "csv"), "Jane", ("email",)),
    Door("search box", search_box, "Jane", ("email",)),
    Door("search API", search_api, "Jane", ("email",)),
    Door("customer lookup", lookup, "Jane", ("email",)),
    Door("audit trail", list_door(AUDIT), "Jane", ("email",)),
    Door("audit entry", audit_entry, "Jane", ("email", "old email")),
    Door(
        "audit CSV", export_door("/admin/audit-logs/list", "csv"), "users", ("email", "old email")
    ),
    Door("merchants list", list_door("/admin/merchants/list"), "Corner Shop", ("shop email",)),
    Door("merchant record", merchant_record, "Corner Shop", ("shop email", "shop phone")),
    Door(
        "merchants CSV", export_door("/admin/merchants/list", "csv"), "Corner Shop", ("shop email",)
    ),
]


def check(role: str, door: Door, text: str) -> bool:
    """Whether the door showed the record; fails if it showed personal data it should not."""
    for value, _ in REAL.values():
        if role not in SEES:
            assert value not in text, f"{role} reads {value} on the {door.name}"
    if door.about not in text:
        return False
    for key in door.shows:
        value, masked = REAL[key]
        expected = value if role in SEES else masked
        assert expected in text, f"{role} should read {expected} on the {door.name}"
    return True


@pytest.mark.parametrize("role", ROLES)
async def test_each_door_shows_personal_data_only_to_roles_that_may_see_it(
    world_app: Starlette, world: Database, role: str
) -> None:
    shown = []
    async with signed_in(world_app, world, role) as (client, _):
        for door in DOORS:
            text = await door.open(client)
            if text is not None and check(role, door, text):
                shown.append(door.name)
    if role != "marketing":  # marketing's screens hold no customer or merchant
        assert shown, f"{role} opened no door that shows a customer or merchant"


@pytest.mark.parametrize("role", ["support", "analyst"])
async def test_the_api_with_a_bearer_token_masks_as_the_screens_do(
    world_app: Starlette, world: Database, role: str
) -> None:
    async with signed_in(world_app, world, role) as (client, account):
        access = (await log_in(client, account.email)).json()["access_token"]
        client.cookies.clear()
        answer = await client.get("/api/v1/admin/search?q=Roe", headers=bearer(access))
    text = _text(answer)
    assert text is not None
    assert check(role, Door("search API", search_api, "Jane", ("email",)), text)


async def test_an_edit_by_a_role_that_may_not_see_personal_data_leaves_it_as_it_was(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """Operations may edit customers but not see their email: the edit form leaves the
    personal fields out, and saving it as rendered changes the rest, never those."""
    await rows.insert(
        db,
        "users",
        rows.user_row(id=JANE, email=EMAIL, phone=PHONE, date_of_birth=BORN, last_name="Roe"),
    )
    role = rows.role_row(permissions=["users:*"])
    await rows.insert(db, "roles", role)
    await db.commit()
    await staff.signed_in(client, await staff.make_staff(db, role["name"]))

    record = await client.get(f"/admin/customers/{JANE}")
    edit = _href(record.text, lambda attrs: "/admin/users/edit/" in attrs.get("href", ""))
    page = await client.get(edit)
    assert page.status_code == 200
    form = FormValues(httpx.URL(edit).path)
    form.feed(page.text)
    assert "first_name" in form.names
    assert not {"email", "phone", "date_of_birth"} & form.names
    assert EMAIL not in page.text
    assert "5550100238" not in page.text

    body = [(name, "Janet" if name == "first_name" else value) for name, value in form.values]
    saved = await client.post(edit, data=dict(body) | {"csrf_token": await token(client)})
    assert saved.status_code in (302, 303), saved.text[:500]
    await db.commit()
    jane = await db.get(User, JANE)
    assert jane is not None
    await db.refresh(jane)
    assert (jane.first_name, jane.email, jane.phone, jane.date_of_birth) == (
        "Janet",
        EMAIL,
        PHONE,
        BORN,
    )


async def test_a_role_granted_personal_data_on_the_roles_screen_sees_it(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """The Roles screen offers the permission as a row of its own; granting it unmasks."""
    await rows.insert(db, "users", rows.user_row(id=JANE, email=EMAIL, last_name="Roe"))
    role = rows.role_row(permissions=["users:view"])
    await rows.insert(db, "roles", role)
    await db.commit()
    viewer = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    async with viewer:
        await staff.signed_in(viewer, await staff.make_staff(db, role["name"]))
        before = await customers_list(viewer)
        await staff.signed_in(client, await staff.make_staff(db, "superadmin"))
        grid = await client.get(f"/admin/roles/edit/{role['id']}")
        assert 'data-resource="pii"' in grid.text
        boxes = re.findall(r'name="permissions" value="([^"]+)"([^>]*)>', grid.text)
        ticked = [value for value, rest in boxes if "checked" in rest]
        assert "pii:view" in [value for value, _ in boxes]
        assert "pii:view" not in ticked
        saved = await client.post(
            f"/admin/roles/edit/{role['id']}",
            data={
                "name": role["name"],
                "description": "",
                "permissions": [*ticked, "pii:view"],
                "change_reason": "Handles data requests now",
                "csrf_token": await token(client),
            },
        )
        assert saved.status_code in (302, 303), saved.text[:500]
        # A role's permissions change once a second superadmin approves.
        await approved(app, db, saved.headers["location"])
        after = await customers_list(viewer)
    assert before is not None
    assert after is not None
    assert EMAIL not in before
    assert "j•••@example.com" in before
    assert EMAIL in after


def test_the_roles_that_see_personal_data_by_default() -> None:
    granted = {
        grant.role
        for grant in default_access.declared_grants([*discover_views(), *discover_pages()])
        if grant.permission == "pii:view"
    }
    assert granted | {"superadmin"} == SEES
