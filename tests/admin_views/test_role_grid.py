"""Roles as a permission grid: read on the role's page, summed up in the list, edited as
checkboxes that store the equivalent strings, unknown strings refused or kept knowingly."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from models import AuditLog, Role
from tests import rows, staff
from tests.admin_views.screens import field_error, token
from tests.admin_views.test_four_eyes_edits import approved

REASON = "Access review"


class GridForm(HTMLParser):
    """The edit page's form as a browser holds it: every field's value, every checkbox."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self.boxes: dict[str, bool] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        name = found.get("name")
        if tag == "input" and name and found.get("type") == "checkbox":
            self.boxes[found["value"]] = "checked" in found
        elif tag == "input" and name and found.get("type") not in ("submit", "button"):
            self.values.append((name, found.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            self.values.append((name, ""))

    def handle_data(self, data: str) -> None:
        if self._textarea:
            name, text = self.values.pop()
            self.values.append((name, text + data))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None

    def posted(self) -> dict[str, list[str]]:
        """What the browser sends: each field's values, the ticked boxes in page order."""
        ticked = [("permissions", value) for value, checked in self.boxes.items() if checked]
        data: dict[str, list[str]] = {}
        for name, value in [*self.values, *ticked]:
            data.setdefault(name, []).append(value)
        return data


async def edit_form(client: httpx.AsyncClient, pk: object | None) -> GridForm:
    """The role's edit form, or the create form without `pk`, as the page renders it."""
    page = await client.get(f"/admin/roles/edit/{pk}" if pk else "/admin/roles/create")
    assert page.status_code == 200, page.text[:300]
    form = GridForm()
    form.feed(page.text[page.text.index("<form") :])
    return form


async def post(client: httpx.AsyncClient, pk: object | None, form: GridForm) -> httpx.Response:
    """The form sent back, with a reason: changing what a role may do waits for a second
    person (four eyes), who approves it with `approved`."""
    data = form.posted() | {"csrf_token": [await token(client)], "change_reason": [REASON]}
    return await client.post(f"/admin/roles/edit/{pk}" if pk else "/admin/roles/create", data=data)


async def stored(db: AsyncSession, pk: object) -> list[str]:
    await db.commit()
    return list(await db.scalar(sa.select(Role.permissions).where(Role.id == pk)))


async def role_entries(db: AsyncSession) -> int:
    await db.commit()
    return int(
        await db.scalar(
            sa.select(sa.func.count()).where(
                AuditLog.entity_type == "roles", AuditLog.action == "update"
            )
        )
    )


@pytest.fixture
async def superadmin(client: httpx.AsyncClient, db: AsyncSession) -> staff.Account:
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


async def make_role(db: AsyncSession, permissions: list[str]) -> object:
    role = await rows.insert(db, "roles", rows.role_row(name="auditor", permissions=permissions))
    await db.commit()
    return role["id"]


def grid_row(page: str, resource: str) -> dict[str, str]:
    """The cells of one grid row: verb -> what it shows (✓, —, or action labels)."""
    row = re.search(rf'<tr data-resource="{resource}">(.*?)</tr>', page, re.DOTALL)
    assert row, f"no grid row for {resource}"
    return {
        verb: " ".join(re.sub(r"<[^>]+>", " ", cell).split())
        for verb, cell in re.findall(
            r'<td[^>]*data-verb="([a-z]+)"[^>]*>(.*?)</td>', row[1], re.DOTALL
        )
    }


async def test_a_role_page_shows_the_grid_with_wildcards_expanded(
    client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account
) -> None:
    support = await db.scalar(sa.select(Role).where(Role.name == "support"))

    page = (await client.get(f"/admin/roles/details/{support.id}")).text

    assert 'id="permission-grid"' in page
    assert "<input" not in page[page.index('id="permission-grid"') :].split("</table>")[0]
    # support_tickets:* ticks every verb and every action of the table
    assert grid_row(page, "support_tickets") == {
        "view": "✓",
        "create": "✓",
        "edit": "✓",
        "delete": "✓",
        "export": "✓",
        "actions": "✓ all",
    }
    # users:view and users:action:suspend
    users = grid_row(page, "users")
    assert (users["view"], users["edit"], users["export"], users["actions"]) == (
        "✓",
        "",
        "",
        "Suspend",
    )
    # a read-only table offers no create, edit or delete
    assert grid_row(page, "audit_logs")["create"] == "—"
    assert grid_row(page, "dashboard")["view"] == "✓"
    assert grid_row(page, "merchants")["view"] == ""


async def test_the_roles_list_sums_each_role_up(
    client: httpx.AsyncClient, superadmin: staff.Account
) -> None:
    page = (await client.get("/admin/roles/list")).text

    assert "Everything" in page
    assert "Views 6 tables and 1 page" in page  # viewer: the non-sensitive tables
    assert "merchants:view" not in page


async def test_editing_a_role_through_its_grid_stores_the_ticked_strings(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account
) -> None:
    pk = await make_role(db, ["audit_logs:view"])
    form = await edit_form(client, pk)
    assert form.boxes["audit_logs:view"] is True
    assert form.boxes["merchants:view"] is False
    assert "users:action:suspend" in form.boxes
    assert "audit_logs:create" not in form.boxes  # the trail is read-only

    for box in ("merchants:view", "merchants:edit", "users:action:suspend", "dashboard:view"):
        form.boxes[box] = True
    form.boxes["audit_logs:view"] = False
    saved = await post(client, pk, form)
    await approved(app, db, saved.headers["location"])

    assert saved.status_code == 303, saved.text[-500:]
    assert await stored(db, pk) == [
        "dashboard:view",
        "merchants:view",
        "merchants:edit",
        "users:action:suspend",
    ]


async def test_a_new_role_is_made_from_its_grid(
    client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account
) -> None:
    form = await edit_form(client, None)
    assert len(form.boxes) > 50
    assert not any(form.boxes.values())

    form.values = [("name", "Refunds"), ("description", "Refunds desk")]
    form.boxes["wallet_transactions:view"] = True
    form.boxes["wallet_transactions:action:refund"] = True
    created = await post(client, None, form)

    assert created.status_code == 302, created.text[-500:]
    await db.commit()
    assert await db.scalar(sa.select(Role.permissions).where(Role.name == "refunds")) == [
        "wallet_transactions:view",
        "wallet_transactions:action:refund",
    ]


async def test_saving_a_role_unchanged_keeps_its_wildcards(
    client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account
) -> None:
    operations = await db.scalar(sa.select(Role).where(Role.name == "operations"))
    had, entries = list(operations.permissions), await role_entries(db)

    saved = await post(client, operations.id, await edit_form(client, operations.id))

    assert saved.status_code == 302, saved.text[-500:]
    assert await stored(db, operations.id) == had
    assert await role_entries(db) == entries


async def test_unticking_one_box_of_a_wildcard_spells_out_the_rest(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account
) -> None:
    pk = await make_role(db, ["feature_flags:*"])
    form = await edit_form(client, pk)

    form.boxes["feature_flags:export"] = False
    await approved(app, db, (await post(client, pk, form)).headers["location"])

    assert await stored(db, pk) == [
        "feature_flags:view",
        "feature_flags:create",
        "feature_flags:edit",
        "feature_flags:action:*",
        "feature_flags:action:restore",
        "feature_flags:action:enable",
        "feature_flags:action:disable",
        "feature_flags:action:archive",
        "feature_flags:action:unarchive",
        "feature_flags:action:copy",
    ]


async def test_permissions_the_grid_cannot_show_are_kept_or_removed_knowingly(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account
) -> None:
    pk = await make_role(db, ["users:view", "reports:view"])
    form = await edit_form(client, pk)
    page = (await client.get(f"/admin/roles/edit/{pk}")).text

    assert form.boxes["reports:view"] is True
    assert 'id="other-permissions"' in page
    kept = await post(client, pk, form)
    assert kept.status_code == 302
    assert await stored(db, pk) == ["users:view", "reports:view"]

    form.boxes["reports:view"] = False
    await approved(app, db, (await post(client, pk, form)).headers["location"])
    assert await stored(db, pk) == ["users:view"]


@pytest.mark.parametrize("bad", ["merchnt_notes:view", "merchants:fly", "users:action:teleport"])
async def test_an_unknown_permission_is_refused_with_nothing_written(
    client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account, bad: str
) -> None:
    pk = await make_role(db, ["audit_logs:view"])
    form = await edit_form(client, pk)
    entries = await role_entries(db)

    form.boxes["merchants:view"] = True
    form.boxes[bad] = True
    refused = await post(client, pk, form)

    assert refused.status_code == 400
    assert field_error(
        refused.text, f"Not a permission: {bad}. Use <table>:<verb>, e.g. merchants:edit."
    ), refused.text[-2000:]
    assert await stored(db, pk) == ["audit_logs:view"]
    assert await role_entries(db) == entries
    # the form comes back as it was sent, the bad string listed for removal
    assert re.search(rf'value="{bad}"[^>]* checked', refused.text)
