"""A search-as-you-type lookup reads the table it searches, so it needs the permission to
view that table, not only to fill in the form it serves: a role that may edit payment
methods but not see customers gets a 403 from `?name=user`, and no customer's name."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

import admin_views
from core.database import Database
from core.settings import Settings
from models import User
from tests import rows, staff
from tests.clients import client_for

LOOKUPS = sorted(
    (view.resource().replace("_", "-"), name, relation.mapper.local_table.name)
    for view in admin_views.discover_views()
    if view.can_create or view.can_edit
    for name in view().form_ajax_refs
    for relation in [sa.inspect(view.model).relationships[name]]
)
"""(screen, lookup field, table it searches) for every lookup a form uses."""


async def lookup_as(
    db: AsyncSession, settings: Settings, permissions: list[str], screen: str, name: str
) -> httpx.Response:
    """A lookup by a new staff member whose role holds exactly `permissions`."""
    role = await rows.insert(db, "roles", rows.role_row(permissions=permissions))
    await db.commit()
    account = await staff.make_staff(db, role["name"])
    async with client_for(settings) as client:
        await staff.signed_in(client, account)
        return await client.get(f"/admin/{screen}/ajax/lookup", params={"name": name, "term": "@"})


@pytest.mark.parametrize(
    "permissions",
    [["payment_methods:edit"], ["payment_methods:view", "payment_methods:edit"]],
    ids=["edit", "view and edit"],
)
async def test_editing_payment_methods_does_not_read_customers(
    db: AsyncSession, settings: Settings, seeded: Database, permissions: list[str]
) -> None:
    emails = list(await db.scalars(sa.select(User.email)))
    last_names = list(await db.scalars(sa.select(User.last_name)))
    assert emails

    response = await lookup_as(db, settings, permissions, "payment-methods", "user")

    assert response.status_code == 403
    assert not any(email in response.text for email in emails)
    assert not any(f" {name}" in response.text for name in last_names)


async def test_a_role_that_may_also_view_customers_finds_them(
    db: AsyncSession, settings: Settings, seeded: Database
) -> None:
    permissions = ["payment_methods:view", "payment_methods:edit", "users:view"]

    response = await lookup_as(db, settings, permissions, "payment-methods", "user")

    assert response.status_code == 200
    assert response.json()["results"]


@pytest.mark.parametrize(("screen", "name", "searched"), LOOKUPS)
async def test_every_lookup_needs_the_view_permission_on_the_table_it_searches(
    db: AsyncSession,
    settings: Settings,
    seeded: Database,
    screen: str,
    name: str,
    searched: str,
) -> None:
    table = screen.replace("-", "_")
    form = [f"{table}:view", f"{table}:create", f"{table}:edit"]

    refused = await lookup_as(db, settings, form, screen, name)
    allowed = await lookup_as(db, settings, [*form, f"{searched}:view"], screen, name)

    assert refused.status_code == 403
    assert allowed.status_code == 200
    assert "results" in allowed.json()
