"""Relationship fields search as you type: a few matches by ajax, never a whole table."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

import admin_views
from admin_views.base import StaffView
from core.database import Database
from core.settings import Settings
from models import User
from tests import staff
from tests.admin_views.screens import BIG_TABLES
from tests.clients import client_for


async def test_a_customer_is_found_by_part_of_their_email(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    user_id, email = (await db.execute(sa.select(User.id, User.email).limit(1))).one()

    response = await client.get(
        "/admin/support-tickets/ajax/lookup", params={"name": "user", "term": email[:6]}
    )
    form = await client.get("/admin/support-tickets/create")

    assert response.status_code == 200
    results = response.json()["results"]
    assert str(user_id) in {r["id"] for r in results}
    assert len(results) <= 10
    assert 'data-role="select2-ajax"' in form.text
    emails = list(await db.scalars(sa.select(User.email)))
    assert not any(e in form.text for e in emails), "the form must not list every customer"


async def test_lookups_need_a_role_that_may_fill_the_form(
    db: AsyncSession, settings: Settings, boss: staff.Account
) -> None:
    analyst = await staff.make_staff(db, "analyst")
    async with client_for(settings) as client:
        await staff.signed_in(client, analyst)
        response = await client.get(
            "/admin/support-tickets/ajax/lookup", params={"name": "user", "term": "a"}
        )

    assert response.status_code == 403


@pytest.mark.parametrize("view", admin_views.discover_views(), ids=lambda view: view.__name__)
def test_relationship_fields_to_big_tables_search_by_ajax(view: type[StaffView]) -> None:
    if not (view.can_create or view.can_edit):
        return
    screen = view()
    ajax = set(screen.form_ajax_refs)
    for name in screen.get_form_columns():
        relation = sa.inspect(view.model).relationships.get(name)
        if relation is not None and relation.mapper.local_table.name in BIG_TABLES:
            assert name in ajax, f"{view.__name__}.{name} would list every row of a big table"


async def test_a_form_holds_no_options_of_a_big_table(
    client: httpx.AsyncClient, seeded: Database, boss: staff.Account, db: AsyncSession
) -> None:
    form = await client.get("/admin/payment-methods/create")
    assert form.status_code == 200
    emails = (await db.scalars(sa.select(User.email))).all()
    assert emails
    assert not any(email in form.text for email in emails)
