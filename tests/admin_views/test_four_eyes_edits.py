"""Four eyes on the forms: giving a role, enabling a staff account, changing a role's
permissions, a reviewed flag or a four-eyes setting through its edit (or create) form makes
an approval request and changes nothing until another permitted staff member approves it
from the Approvals screen; then the change lands once, audited with both people. Every
step follows the links and forms as the pages render them."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from models import AuditLog, Base
from models.approvals import ApprovalRequest
from tests import rows, staff
from tests.admin_views.screens import act, field_error, token
from tests.admin_views.test_form_fuzz import FormValues
from tests.admin_views.test_four_eyes import decision, the_request
from tests.admin_views.test_record_actions import offered, parse

REASON = "Agreed in the access review"
PASSWORD = "a long enough passphrase"
NEW_EMAIL = "new.agent@example.com"
Body = dict[str, list[str]]
APPROVER = ["approval_requests:view", "approval_requests:action:approve"]
"""A role that approves requests, but may not make any of these changes itself."""


async def approved(app: Starlette, db: AsyncSession, page_url: str) -> None:
    """Another superadmin approves the request at `page_url`, from its page, as the
    Approvals screen offers it; for tests of a guarded screen that go on from the change."""
    checker = await staff.make_staff(db, "superadmin")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await staff.signed_in(client, checker)
        answer, shown = await decision(client, page_url, "Approve")
    assert answer.status_code == 303
    assert "Approve: done" in shown


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: AsyncSession) -> staff.Account:
    """The maker: a signed-in superadmin over an empty database."""
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


@pytest.fixture
async def other(app: Starlette, db: AsyncSession) -> Any:
    """Signs in another staff member of a role on a client of their own."""
    clients: list[httpx.AsyncClient] = []

    async def sign_in(role: str = "superadmin") -> httpx.AsyncClient:
        account = await staff.make_staff(db, role)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        clients.append(client)
        return await staff.signed_in(client, account)

    yield sign_in
    for client in clients:
        await client.aclose()


def _table(slug: str) -> sa.Table:
    return Base.metadata.tables[slug.replace("-", "_")]


async def _read(db: AsyncSession, slug: str, pk: Any, column: str) -> Any:
    await db.commit()
    table = _table(slug)
    return await db.scalar(sa.select(table.c[column]).where(table.c.id == pk))


async def _write(db: AsyncSession, slug: str, pk: Any, **values: Any) -> None:
    table = _table(slug)
    await db.execute(sa.update(table).where(table.c.id == pk).values(**values))
    await db.commit()


@dataclass
class Edit:
    """A guarded save through a screen's form."""

    name: str
    slug: str
    setup: Callable[[AsyncSession], Awaitable[Any]]
    """Writes the row to edit and returns its id; None for a create."""
    change: Callable[[AsyncSession, Body], Awaitable[None]]
    """What staff change on the form as rendered."""
    effect: Callable[[AsyncSession, Any], Awaitable[Any]]
    """The change read back: equal before and after means nothing ran."""
    preview: str
    """Part of the request's preview, in words."""
    meanwhile: dict[str, Any]
    """A column changed on the row while the request waits (empty for a create)."""


async def _role(db: AsyncSession) -> uuid.UUID:
    row = rows.role_row(name="auditor", permissions=["audit_logs:view"])
    return (await rows.insert(db, "roles", row))["id"]


async def _agent(db: AsyncSession) -> uuid.UUID:
    return (await rows.insert(db, "admin_users", await rows.admin_row(db)))["id"]


async def _disabled_agent(db: AsyncSession) -> uuid.UUID:
    row = await rows.admin_row(db, is_active=False)
    return (await rows.insert(db, "admin_users", row))["id"]


async def _flag(db: AsyncSession, **values: Any) -> uuid.UUID:
    return (await rows.insert(db, "feature_flags", rows.flag_row(**values)))["id"]


async def _threshold(db: AsyncSession) -> uuid.UUID:
    table = _table("settings")
    return await db.scalar(sa.select(table.c.id).where(table.c.key == "four_eyes.threshold.USD"))


async def _nothing(_db: AsyncSession) -> None:
    return None


async def _tick_merchants_untick_trail(_db: AsyncSession, body: Body) -> None:
    body["permissions"] = [p for p in body["permissions"] if p != "audit_logs:view"]
    body["permissions"].append("merchants:view")


async def _make_admin(db: AsyncSession, body: Body) -> None:
    body["role"] = [str(await rows.role_id(db, "admin"))]


async def _enable(_db: AsyncSession, body: Body) -> None:
    body["is_active"] = ["y"]


async def _new_account(db: AsyncSession, body: Body) -> None:
    body |= {
        "email": [NEW_EMAIL],
        "full_name": ["New Agent"],
        "role": [str(await rows.role_id(db, "support"))],
        "is_active": ["y"],
        "new_password": [PASSWORD],
    }


async def _rollout_60(_db: AsyncSession, body: Body) -> None:
    body["rollout_percentage"] = ["60"]


async def _unmark_review(_db: AsyncSession, body: Body) -> None:
    body.pop("requires_review", None)


LONG_DESCRIPTION = (
    "Shows the budget insights card on the home screen to customers who have set a budget, "
    "and refreshes its figures weekly."
)


async def _description_ends_otherwise(_db: AsyncSession, body: Body) -> None:
    body["description"] = [LONG_DESCRIPTION[:-7] + "monthly."]


async def _threshold_900(_db: AsyncSession, body: Body) -> None:
    body["value"] = ['"900.00"']


def _reads(slug: str, column: str) -> Callable[[AsyncSession, Any], Awaitable[Any]]:
    async def read(db: AsyncSession, pk: Any) -> Any:
        return await _read(db, slug, pk, column)

    return read


async def _accounts_made(db: AsyncSession, _pk: Any) -> int:
    await db.commit()
    table = _table("admin_users")
    return int(await db.scalar(sa.select(sa.func.count()).where(table.c.email == NEW_EMAIL)) or 0)


EDITS = [
    Edit(
        "role permissions",
        "roles",
        _role,
        _tick_merchants_untick_trail,
        _reads("roles", "permissions"),
        "permissions: audit_logs:view → merchants:view",
        {"description": "Changed meanwhile"},
    ),
    Edit(
        "giving a role",
        "admin-users",
        _agent,
        _make_admin,
        _reads("admin_users", "role_id"),
        "role: support → admin",
        {"is_active": False},
    ),
    Edit(
        "enabling an account",
        "admin-users",
        _disabled_agent,
        _enable,
        _reads("admin_users", "is_active"),
        "active: no → yes",
        {"full_name": "Renamed Meanwhile"},
    ),
    Edit(
        "a new account",
        "admin-users",
        _nothing,
        _new_account,
        _accounts_made,
        f"email: {NEW_EMAIL}; full name: New Agent; role: support; active: yes",
        {},
    ),
    Edit(
        "a rollout past 50%",
        "feature-flags",
        lambda db: _flag(db, rollout_percentage=Decimal("25.00")),
        _rollout_60,
        _reads("feature_flags", "rollout_percentage"),
        "rollout %: 25% → 60%",
        {"enabled": False},
    ),
    Edit(
        "unmarking review",
        "feature-flags",
        lambda db: _flag(db, requires_review=True),
        _unmark_review,
        _reads("feature_flags", "requires_review"),
        "requires review: yes → no",
        {"rollout_percentage": Decimal("30.00")},
    ),
    Edit(
        "a long description changed past its 80th character",
        "feature-flags",
        lambda db: _flag(db, requires_review=True, description=LONG_DESCRIPTION),
        _description_ends_otherwise,
        _reads("feature_flags", "description"),
        f"description: {LONG_DESCRIPTION} → {LONG_DESCRIPTION[:-7]}monthly.",
        {"rollout_percentage": Decimal("30.00")},
    ),
    Edit(
        "a four-eyes threshold",
        "settings",
        _threshold,
        _threshold_900,
        _reads("settings", "value"),
        "value: 500.00 → 900.00",
        {"value": "450.00"},
    ),
]
IDS = [edit.name for edit in EDITS]


def refusals(page: str) -> list[str]:
    """The messages a refused form shows, for a failing test to say."""
    return re.findall(r'<div class="(?:invalid-feedback|alert alert-danger)"[^>]*>([^<]*)<', page)


class Rendered(FormValues):
    """The form's values as a browser sends them, a tags box's too (its script fills the
    box from `data-json`)."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        found = {key: value or "" for key, value in attrs}
        if tag == "select" and self._inside and found.get("data-role") == "select2-tags":
            tags = json.loads(found.get("data-json") or "[]")
            self.values += [(found["name"], str(tag)) for tag in tags]


def _body(form: FormValues) -> Body:
    body: Body = {}
    for name, value in form.values:
        body.setdefault(name, []).append(value)
    return body


async def opened_form(client: httpx.AsyncClient, slug: str, pk: Any) -> tuple[str, Body]:
    """The form the screen offers (the record page's Edit, or the list's New button), as
    rendered: (where it posts, its values)."""
    if pk is None:
        listing = await client.get(f"/admin/{slug}/list")
        url = next(
            link.href
            for link in parse(listing.text).links
            if link.href.endswith(f"/admin/{slug}/create")
        )
    else:
        record = await client.get(f"/admin/{slug}/details/{pk}")
        url = offered(record.text)["Edit"].href
    page = await client.get(url)
    assert page.status_code == 200, page.text[:300]
    form = Rendered(httpx.URL(url).path)
    form.feed(page.text)
    assert "change_reason" in form.names, "a guarded form asks a reason"
    return url, _body(form)


async def submit(
    client: httpx.AsyncClient, db: AsyncSession, edit: Edit, pk: Any, reason: str
) -> httpx.Response:
    url, body = await opened_form(client, edit.slug, pk)
    await edit.change(db, body)
    body |= {"change_reason": [reason], "csrf_token": [await token(client)]}
    return await client.post(url, data=body)


async def requests_made(db: AsyncSession) -> int:
    await db.commit()
    return int(await db.scalar(sa.select(sa.func.count()).select_from(ApprovalRequest)) or 0)


async def audit_count(db: AsyncSession) -> int:
    await db.commit()
    return int(await db.scalar(sa.select(sa.func.count()).select_from(AuditLog)) or 0)


@pytest.fixture(params=EDITS, ids=IDS)
async def asked(
    request: pytest.FixtureRequest, client: httpx.AsyncClient, db: AsyncSession, boss: Any
) -> tuple[Edit, Any, Any, str]:
    """A guarded save sent through its form: (edit, row id, its state, request page)."""
    edit: Edit = request.param
    pk = await edit.setup(db)
    await db.commit()
    before = await edit.effect(db, pk)
    posted = await submit(client, db, edit, pk, REASON)
    assert posted.status_code == 303, refusals(posted.text)
    location = posted.headers["location"]
    assert "/admin/approval-requests/details/" in location, location
    return edit, pk, before, location


async def test_a_guarded_save_asks_and_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, asked: tuple[Edit, Any, Any, str]
) -> None:
    edit, pk, before, page_url = asked

    page = await client.get(page_url)
    request = await the_request(db, page_url)

    assert await edit.effect(db, pk) == before
    assert request.status == "pending"
    assert request.action == ("create" if pk is None else "edit")
    assert request.reason == REASON
    assert edit.preview in request.preview
    assert "sent for approval" in page.text
    assert request.rule in page.text
    assert "Approve" not in offered(page.text), "the maker is not offered Approve"
    assert PASSWORD not in json.dumps(request.params), "a password is never kept as typed"
    [entry] = [e for e in await staff.audit_entries(db) if e.entity_id == str(request.id)]
    assert entry.action == "approval:request"


@pytest.mark.parametrize("edit", EDITS, ids=IDS)
async def test_a_guarded_save_without_a_reason_says_why_and_writes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, boss: Any, edit: Edit
) -> None:
    pk = await edit.setup(db)
    await db.commit()
    before, entries = await edit.effect(db, pk), await audit_count(db)

    refused = await submit(client, db, edit, pk, "")

    assert refused.status_code == 400
    assert 'name="change_reason"' in refused.text
    assert "Say why, in at least 5 characters, for the staff member who approves it." in (
        refused.text
    )
    assert "a second person" in refused.text
    assert await edit.effect(db, pk) == before
    assert await requests_made(db) == 0
    assert await audit_count(db) == entries


async def test_the_maker_cannot_approve_even_by_a_forged_post(
    client: httpx.AsyncClient, db: AsyncSession, asked: tuple[Edit, Any, Any, str]
) -> None:
    edit, pk, before, page_url = asked
    request = await the_request(db, page_url)

    answer = await act(client, "approval-requests", "approve", [request.id], note="")
    shown = await client.get(answer.headers["location"])

    assert "another staff member has to approve it" in shown.text
    assert await edit.effect(db, pk) == before
    assert (await the_request(db, page_url)).status == "pending"


async def test_a_role_without_the_permission_cannot_approve(
    db: AsyncSession, other: Any, asked: tuple[Edit, Any, Any, str]
) -> None:
    edit, pk, before, page_url = asked
    await rows.insert(db, "roles", rows.role_row(name="approver", permissions=APPROVER))
    await db.commit()
    lacking = await other("approver")
    request = await the_request(db, page_url)

    page = await lacking.get(page_url)
    answer = await act(lacking, "approval-requests", "approve", [request.id], note="")
    shown = await lacking.get(answer.headers["location"])

    # A role that may not view the changed table does not see the request at all.
    assert page.status_code == 404
    assert "Your role may not approve this change" in shown.text
    assert await edit.effect(db, pk) == before
    assert (await the_request(db, page_url)).status == "pending"


async def test_a_second_person_approves_and_it_lands_once_naming_both(
    db: AsyncSession, boss: staff.Account, other: Any, asked: tuple[Edit, Any, Any, str]
) -> None:
    edit, pk, before, page_url = asked
    checker = await other("superadmin")
    request = await the_request(db, page_url)

    answer, shown = await decision(checker, page_url, "Approve", note="Checked with the team")
    again = await act(checker, "approval-requests", "approve", [request.id], note="again")
    again_shown = await checker.get(again.headers["location"])

    done = await the_request(db, page_url)
    assert answer.status_code == 303
    assert "Approve: done" in shown
    assert done.status == "executed"
    changed = await edit.effect(db, pk)
    assert changed != before
    assert "it is executed" in again_shown.text
    assert await edit.effect(db, pk) == changed
    row_id = request.record_ids[0]
    [entry] = [
        e
        for e in await staff.audit_entries(db, "create" if pk is None else "update")
        if e.entity_id == row_id
    ]
    assert entry.after["approval_request"] == str(request.id)
    assert entry.after["requested_by"] == boss.email
    assert entry.after["reason"] == REASON
    assert entry.actor_email not in (None, boss.email), "the checker made the change"


async def test_a_new_account_approved_signs_in_with_the_password_given(
    app: Starlette, db: AsyncSession, client: httpx.AsyncClient, boss: Any
) -> None:
    [new_account] = [edit for edit in EDITS if edit.name == "a new account"]
    posted = await submit(client, db, new_account, None, REASON)

    await approved(app, db, posted.headers["location"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as newcomer:
        signed_in = await staff.sign_in(newcomer, NEW_EMAIL, PASSWORD)

    assert signed_in.status_code == 302


@pytest.mark.parametrize(
    "asked",
    [edit for edit in EDITS if edit.meanwhile],
    ids=[edit.name for edit in EDITS if edit.meanwhile],
    indirect=True,
)
async def test_a_row_changed_since_the_request_fails_with_the_reason(
    db: AsyncSession, other: Any, asked: tuple[Edit, Any, Any, str]
) -> None:
    edit, pk, _, page_url = asked
    await _write(db, edit.slug, pk, **edit.meanwhile)
    meanwhile = await edit.effect(db, pk)
    checker = await other("superadmin")

    answer, shown = await decision(checker, page_url, "Approve")

    failed = await the_request(db, page_url)
    assert answer.status_code == 303
    assert "the change could not run" in shown
    assert "was changed since the request" in shown
    assert failed.status == "failed"
    assert "was changed since the request" in (failed.outcome or "")
    assert await edit.effect(db, pk) == meanwhile


async def test_a_new_account_whose_email_was_taken_meanwhile_fails(
    db: AsyncSession, other: Any, client: httpx.AsyncClient, boss: Any
) -> None:
    [new_account] = [edit for edit in EDITS if edit.name == "a new account"]
    posted = await submit(client, db, new_account, None, REASON)
    await rows.insert(db, "admin_users", await rows.admin_row(db, email=NEW_EMAIL))
    await db.commit()
    checker = await other("superadmin")

    _, shown = await decision(checker, posted.headers["location"], "Approve")

    failed = await the_request(db, posted.headers["location"])
    assert failed.status == "failed"
    assert "Email is already used by another staff account." in (failed.outcome or "")
    assert "the change could not run" in shown
    assert await _accounts_made(db, None) == 1


@dataclass
class Plain:
    """A save through a guarded screen's form that needs no second person."""

    name: str
    slug: str
    setup: Callable[[AsyncSession], Awaitable[Any]]
    change: dict[str, list[str]]
    """Fields set on the form as rendered (an empty list unticks a box)."""
    column: str
    saved: Any


async def _setting(db: AsyncSession) -> uuid.UUID:
    return (await rows.insert(db, "settings", rows.setting_row(key="support.greeting")))["id"]


PLAIN = [
    Plain(
        "role description", "roles", _role, {"description": ["Reads it"]}, "description", "Reads it"
    ),
    Plain("staff name", "admin-users", _agent, {"full_name": ["Renamed"]}, "full_name", "Renamed"),
    Plain(
        "flag rollout below 50%",
        "feature-flags",
        lambda db: _flag(db, rollout_percentage=Decimal("10.00")),
        {"rollout_percentage": ["20"]},
        "rollout_percentage",
        Decimal("20.00"),
    ),
    Plain(
        "the kill switch of a reviewed flag",
        "feature-flags",
        lambda db: _flag(db, flag_type="permission", requires_review=True),
        {"enabled": []},
        "enabled",
        False,
    ),
    Plain(
        "marking a flag for review",
        "feature-flags",
        _flag,
        {"requires_review": ["y"]},
        "requires_review",
        True,
    ),
    Plain("another setting", "settings", _setting, {"value": ['"Hello"']}, "value", "Hello"),
]


@pytest.mark.parametrize("plain", PLAIN, ids=[plain.name for plain in PLAIN])
async def test_an_unguarded_save_lands_at_once(
    client: httpx.AsyncClient, db: AsyncSession, boss: Any, plain: Plain
) -> None:
    pk = await plain.setup(db)
    await db.commit()
    url, body = await opened_form(client, plain.slug, pk)
    body |= plain.change | {"csrf_token": [await token(client)]}

    saved = await client.post(url, data=body)

    assert saved.status_code == 302, refusals(saved.text)
    assert await _read(db, plain.slug, pk, plain.column) == plain.saved
    assert await requests_made(db) == 0
    [entry] = [e for e in await staff.audit_entries(db, "update") if e.entity_id == str(pk)]
    assert plain.column in entry.after
    assert "approval_request" not in entry.after


async def test_a_new_role_is_made_at_once_and_giving_it_asks(
    client: httpx.AsyncClient, db: AsyncSession, boss: Any
) -> None:
    listing = await client.get("/admin/roles/list")
    url = next(link.href for link in parse(listing.text).links if link.href.endswith("/create"))
    created = await client.post(
        url,
        data={
            "name": "refunds",
            "description": "Refunds desk",
            "permissions": ["wallet_transactions:view"],
            "csrf_token": await token(client),
        },
    )

    assert created.status_code == 302, refusals(created.text)
    assert await requests_made(db) == 0


async def test_the_kill_switch_with_another_change_waits(
    client: httpx.AsyncClient, db: AsyncSession, boss: Any
) -> None:
    pk = await _flag(db, requires_review=True)
    await db.commit()
    url, body = await opened_form(client, "feature-flags", pk)
    body.pop("enabled")
    body["rollout_percentage"] = ["5"]
    body["csrf_token"] = [await token(client)]

    refused = await client.post(url, data=body)

    assert refused.status_code == 400
    assert field_error(
        refused.text,
        f"{await _read(db, 'feature-flags', pk, 'key')} is marked as needing review: a second "
        "person reviews changes. Say why, in at least 5 characters, for the staff member who "
        "approves it.",
    )
    assert await _read(db, "feature-flags", pk, "enabled") is True


async def test_a_four_eyes_setting_cannot_be_deleted(
    client: httpx.AsyncClient, db: AsyncSession, boss: Any
) -> None:
    pk = await _threshold(db)

    answer = await client.request(
        "DELETE", f"/admin/settings/delete?pks={pk}", headers={"X-CSRF-Token": await token(client)}
    )
    listing = await client.get(answer.text)

    assert "cannot be deleted: four eyes reads it" in listing.text
    assert await _read(db, "settings", pk, "key") == "four_eyes.threshold.USD"
