"""Roles decide every door, on the server: role x table x verb, and nothing changes when refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

import admin_views
from admin_views.base import StaffView
from admin_views.shared.actions import ActionSpec
from auth.permissions import allows, is_well_formed, resource_for, verb_for
from core.database import Database
from core.settings import Settings
from demo_data.load import seed_demo
from models import Role
from tests import discovered, staff
from tests.admin_views.test_four_eyes_edits import approved
from tests.clients import client_for
from tests.databases import TEST_BCRYPT_ROUNDS

ROLES = ["superadmin", "admin", "operations", "support", "marketing", "analyst", "viewer"]
VIEWS = admin_views.discover_views()


@pytest.mark.parametrize(
    ("granted", "resource", "verb", "expected"),
    [
        (["*"], "admin_users", "delete", True),
        (["merchants:*"], "merchants", "action:approve", True),
        (["merchants:*"], "users", "view", False),
        (["*:view"], "wallets", "view", True),
        (["*:view"], "wallets", "edit", False),
        (["users:action:*"], "users", "action:suspend", True),
        (["users:action:*"], "users", "edit", False),
        (["users:action:suspend"], "users", "action:deactivate", False),
        (["users:view"], "user", "view", False),
        ([], "users", "view", False),
    ],
)
def test_permission_strings(granted: list[str], resource: str, verb: str, expected: bool) -> None:
    assert allows(granted, resource, verb) is expected


def test_sqladmin_actions_map_to_staff_verbs() -> None:
    assert [verb_for(a) for a in ("list", "details", "edit", "action:freeze")] == [
        "view",
        "view",
        "edit",
        "action:freeze",
    ]
    assert resource_for("wallet-transactions") == "wallet_transactions"


@pytest.mark.parametrize(
    ("permission", "well_formed"),
    [
        ("*", True),
        ("merchants:edit", True),
        ("merchants:action:approve", True),
        ("merchants", False),
        ("merchants:fly", False),
        ("merchants:action:", False),
        (":view", False),
        ("merchants :view", False),
    ],
)
def test_well_formed_permissions(permission: str, well_formed: bool) -> None:
    assert is_well_formed(permission) is well_formed


DESIGN_SPOT_CHECKS = [
    # (role, table, verb, allowed) straight from DESIGN.md's role table
    ("admin", "admin_users", "view", False),
    ("admin", "roles", "edit", False),
    ("admin", "merchants", "delete", True),
    ("operations", "wallets", "action:freeze", True),
    ("operations", "wallets", "edit", False),
    ("operations", "settings", "edit", False),
    ("operations", "feature_flags", "edit", True),
    ("support", "users", "action:suspend", True),
    ("support", "users", "edit", False),
    ("support", "support_tickets", "edit", True),
    ("support", "wallet_transactions", "view", True),
    ("support", "merchants", "view", False),
    ("marketing", "ai_campaigns", "edit", True),
    ("marketing", "feature_flags", "view", True),
    ("marketing", "feature_flags", "edit", False),
    ("marketing", "users", "view", False),
    ("analyst", "wallet_transactions", "export", True),
    ("analyst", "admin_users", "view", False),
    ("analyst", "merchants", "edit", False),
    ("viewer", "merchants", "view", True),
    ("viewer", "users", "view", False),
    ("viewer", "merchants", "export", False),
    ("superadmin", "roles", "edit", True),
]


@pytest.mark.parametrize(("role", "table", "verb", "expected"), DESIGN_SPOT_CHECKS)
async def test_default_roles_match_the_design(
    db: AsyncSession, role: str, table: str, verb: str, expected: bool
) -> None:
    granted = await db.scalar(sa.select(Role.permissions).where(Role.name == role))

    assert allows(granted, table, verb) is expected


async def table_state(db: AsyncSession, view: type[StaffView]) -> list[tuple[Any, ...]]:
    await db.rollback()
    columns = [c for c in sa.inspect(view.model).columns if c.key != "updated_at"]
    return list((await db.execute(sa.select(*columns).order_by(view.model.id))).all())


def action_slugs(view: type[StaffView]) -> list[str]:
    members = (getattr(view, name, None) for name in dir(view))
    return [
        spec.name
        for member in members
        if isinstance(spec := getattr(member, "spec", None), ActionSpec)
    ]


@pytest.fixture
async def seeded(clean_database: Database) -> Database:
    await seed_demo(clean_database, users=8, seed=3, bcrypt_rounds=TEST_BCRYPT_ROUNDS)
    return clean_database


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_gets_exactly_its_permissions_on_every_table(
    client: httpx.AsyncClient, db: AsyncSession, seeded: Database, role: str
) -> None:
    account = await staff.make_staff(db, role)
    granted = await db.scalar(sa.select(Role.permissions).where(Role.name == role))
    await staff.signed_in(client, account)
    token = await staff.csrf_token(client)
    menu = (await client.get("/admin/account")).text
    wrong: list[str] = []

    def expect(what: str, response: httpx.Response, allowed: bool) -> None:
        ok = response.status_code < 400 if allowed else response.status_code == 403
        if not ok:
            wrong.append(f"{what}: got {response.status_code}, allowed={allowed}")

    for view in VIEWS:
        table, slug = view.resource(), view.resource().replace("_", "-")
        pk = await db.scalar(sa.select(view.model.id).limit(1))
        assert pk is not None, discovered.add_demo_data(table)
        can = {
            verb: allows(granted, table, verb)
            for verb in ("view", "create", "edit", "delete", "export")
        }
        in_menu = f"/admin/{slug}/list" in menu
        if in_menu != can["view"]:
            wrong.append(f"{table} in sidebar: {in_menu}, may view: {can['view']}")
        expect(f"{table} list", await client.get(f"/admin/{slug}/list"), can["view"])
        expect(f"{table} details", await client.get(f"/admin/{slug}/details/{pk}"), can["view"])
        expect(
            f"{table} export",
            await client.get(f"/admin/{slug}/export/csv"),
            can["export"] and view.can_export,
        )
        expect(
            f"{table} create form",
            await client.get(f"/admin/{slug}/create"),
            can["create"] and view.can_create,
        )
        before = await table_state(db, view)
        refused_writes = []
        if not (can["create"] and view.can_create):
            refused_writes.append(
                ("create", await client.post(f"/admin/{slug}/create", data={"csrf_token": token}))
            )
        if not (can["edit"] and view.can_edit):
            refused_writes.append(
                ("edit", await client.post(f"/admin/{slug}/edit/{pk}", data={"csrf_token": token}))
            )
        if not (can["delete"] and view.can_delete):
            refused_writes.append(
                (
                    "delete",
                    await client.request(
                        "DELETE", f"/admin/{slug}/delete?pks={pk}", headers={"X-CSRF-Token": token}
                    ),
                )
            )
        for name in action_slugs(view):
            if not allows(granted, table, f"action:{name}"):
                refused_writes.append(
                    (
                        name,
                        await client.post(
                            f"/admin/{slug}/action/{name}",
                            data={"pks": str(pk), "csrf_token": token},
                        ),
                    )
                )
        for what, response in refused_writes:
            expect(f"{table} {what}", response, allowed=False)
        if await table_state(db, view) != before:
            wrong.append(f"{table} changed after refused writes")

    assert wrong == []


async def test_superadmins_edit_roles_and_the_change_applies_at_once(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    boss = await staff.make_staff(db, "superadmin")
    member = await staff.make_staff(db, "support")
    await staff.signed_in(client, boss)
    support = await db.scalar(sa.select(Role).where(Role.name == "support"))
    token = await staff.csrf_token(client)
    form = {
        "name": "support",
        "description": support.description,
        "change_reason": "Support reads merchants now",
        "csrf_token": token,
    }
    async with client_for(settings) as agent:
        await staff.signed_in(agent, member)
        before = await agent.get("/admin/merchants/list")
        malformed = await client.post(
            f"/admin/roles/edit/{support.id}",
            data=form | {"permissions": ["support_tickets:*", "merchants"]},
        )
        unchanged = await agent.get("/admin/merchants/list")
        granted = await client.post(
            f"/admin/roles/edit/{support.id}",
            data=form | {"permissions": [*support.permissions, "merchants:view"]},
        )
        waiting = await agent.get("/admin/merchants/list")
        await approved(app, db, granted.headers["location"])  # four eyes on roles
        after = await agent.get("/admin/merchants/list")

    assert before.status_code == 403
    assert malformed.status_code == 400
    assert "Not a permission: merchants" in malformed.text
    assert unchanged.status_code == 403
    assert granted.status_code == 303
    assert waiting.status_code == 403
    assert after.status_code == 200
    [entry] = [e for e in await staff.audit_entries(db, "update") if e.entity_type == "roles"]
    assert "merchants:view" in entry.after["permissions"]
