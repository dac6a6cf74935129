"""A record's page offers only the actions its state allows, once each, and names the record;
a forged POST of any other is refused with a message and changes nothing; actions that hurt a
customer ask a reason that lands in the audit entry; an action's URL opened with GET shows
its page. Every step follows the links and forms as the page renders them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Base
from tests import rows, staff
from tests.admin_views.screens import act, audit_for

EDIT, DELETE = "Edit", "Delete"


@dataclass
class Link:
    href: str
    text: str
    attrs: dict[str, str]


class _Page(HTMLParser):
    """Anchors, forms and their fields as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[Link] = []
        self.forms: list[dict[str, Any]] = []
        self._open: list[Link] = []
        self._textarea: str | None = None
        self.toolbar_depth = 0
        self.toolbar: list[Link] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "div" and "staff-record-actions" in found.get("class", ""):
            self.toolbar_depth = 1
        elif tag == "div" and self.toolbar_depth:
            self.toolbar_depth += 1
        if tag == "a":
            link = Link(found.get("href", ""), "", found)
            self._open.append(link)
            self.links.append(link)
            if self.toolbar_depth:
                self.toolbar.append(link)
        elif tag == "form":
            self.forms.append({"action": found.get("action", ""), "fields": {}, "textareas": []})
        elif tag == "input" and self.forms and found.get("name"):
            if found.get("type") not in ("radio", "checkbox") or "checked" in found:
                self.forms[-1]["fields"][found["name"]] = found.get("value", "")
        elif tag == "textarea" and self.forms:
            self._textarea = found.get("name")
            self.forms[-1]["textareas"].append(self._textarea)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            self._open.pop()
        elif tag == "div" and self.toolbar_depth:
            self.toolbar_depth -= 1
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        for link in self._open:
            link.text += data


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def offered(html: str) -> dict[str, Link]:
    """The record's action bar: label -> link, each label once."""
    labels = [" ".join(link.text.split()) for link in parse(html).toolbar]
    assert len(labels) == len(set(labels)), f"an action is offered twice: {labels}"
    return dict(zip(labels, parse(html).toolbar, strict=True))


async def detail(client: httpx.AsyncClient, slug: str, pk: Any) -> str:
    response = await client.get(f"/admin/{slug}/details/{pk}")
    assert response.status_code == 200, response.text[:300]
    return response.text


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: AsyncSession) -> staff.Account:
    """A signed-in superadmin over an empty database: each test writes the rows it needs,
    so no demo seeding is paid for."""
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


Setup = Callable[[AsyncSession], Awaitable[tuple[str, Any]]]
"""Writes a row in one state; returns (screen slug, primary key)."""


async def _user(db: AsyncSession, **state: Any) -> uuid.UUID:
    row = await rows.insert(db, "users", rows.user_row(**state))
    return row["id"]


async def _wallet(db: AsyncSession, **state: Any) -> uuid.UUID:
    user = await _user(db)
    row = await rows.insert(db, "wallets", rows.wallet_row(user, **state))
    return row["id"]


def _state(table: str, make: Callable[..., Any], **state: Any) -> Setup:
    async def setup(db: AsyncSession) -> tuple[str, Any]:
        pk = await make(db, **state)
        await db.commit()
        return table.replace("_", "-"), pk

    return setup


def _plain(table: str, builder: Callable[..., dict[str, Any]], **state: Any) -> Setup:
    async def make(db: AsyncSession, **values: Any) -> uuid.UUID:
        return (await rows.insert(db, table, builder(**values)))["id"]

    return _state(table, make, **state)


async def _staff(db: AsyncSession, **state: Any) -> uuid.UUID:
    return (await rows.insert(db, "admin_users", await rows.admin_row(db, **state)))["id"]


async def _session(db: AsyncSession, **state: Any) -> uuid.UUID:
    admin = await _staff(db)
    return (await rows.insert(db, "admin_sessions", rows.session_row(admin, **state)))["id"]


async def _ticket(db: AsyncSession, **state: Any) -> uuid.UUID:
    user = await _user(db)
    return (await rows.insert(db, "support_tickets", rows.ticket_row(user, **state)))["id"]


async def _purchase(db: AsyncSession, **state: Any) -> uuid.UUID:
    wallet = await _wallet(db)
    row = rows.transaction_row(wallet, **state)
    return (await rows.insert(db, "wallet_transactions", row))["id"]


CASES: list[tuple[str, Setup, set[str], str]] = [
    # (case, a row in one state, what its page offers, an action it must refuse)
    ("active customer", _state("users", _user), {EDIT, "Suspend", "Deactivate"}, "reactivate"),
    (
        "suspended customer",
        _state("users", _user, status="suspended"),
        {EDIT, "Reactivate", "Deactivate"},
        "suspend",
    ),
    ("active wallet", _state("wallets", _wallet), {"Freeze", "Adjust balance"}, "unfreeze"),
    ("frozen wallet", _state("wallets", _wallet, status="frozen"), {"Unfreeze"}, "adjust"),
    (
        "flag on",
        _plain("feature_flags", rows.flag_row),
        {EDIT, "Archive", "Disable (kill switch)", "Copy state…"},
        "enable",
    ),
    (
        "flag off",
        _plain("feature_flags", rows.flag_row, enabled=False),
        {EDIT, "Archive", "Enable", "Copy state…"},
        "disable",
    ),
    (
        "pending merchant",
        _plain("merchants", rows.merchant_row, status="pending"),
        {EDIT, "Approve", "Reject", "Deactivate"},
        "suspend",
    ),
    (
        "active merchant",
        _plain("merchants", rows.merchant_row),
        {EDIT, "Suspend", "Deactivate"},
        "approve",
    ),
    (
        "draft campaign",
        _plain("ai_campaigns", rows.campaign_row),
        {EDIT, DELETE, "Launch"},
        "pause",
    ),
    (
        "paused campaign",
        _plain("ai_campaigns", rows.campaign_row, status="paused"),
        {EDIT, DELETE, "Resume", "Complete"},
        "launch",
    ),
    (
        "open ticket",
        _state("support_tickets", _ticket),
        {EDIT, DELETE, "Assign to me", "Assign to…", "Set status…", "Resolve", "Close"},
        "no-such-action",
    ),
    (
        "closed ticket",
        _state(
            "support_tickets", _ticket, status="closed", resolved_at=rows.NOW, closed_at=rows.NOW
        ),
        {EDIT, DELETE, "Set status…"},
        "resolve",
    ),
    (
        "staff account active, locked out",
        _state("admin_users", _staff, failed_login_count=5, locked_until=rows.NOW),
        {EDIT, "Disable", "Reset lockout", "Sign out everywhere"},
        "enable",
    ),
    (
        "staff account disabled",
        _state("admin_users", _staff, is_active=False),
        {EDIT, "Enable", "Sign out everywhere"},
        "disable",
    ),
    ("revoked session", _state("admin_sessions", _session, revoked_at=rows.NOW), set(), "revoke"),
    (
        "posted purchase",
        _state(
            "wallet_transactions",
            _purchase,
            type="purchase",
            amount=-10,
        ),
        {"Refund", "Reverse"},
        "no-such-action",
    ),
    (
        "failed purchase",
        _state(
            "wallet_transactions",
            _purchase,
            type="purchase",
            amount=-10,
            status="failed",
            posted_at=None,
        ),
        set(),
        "refund",
    ),
]
REFUSALS = [c for c in CASES if c[3] != "no-such-action"]


@pytest.mark.parametrize(
    ("setup", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES]
)
async def test_a_record_page_offers_what_its_state_allows(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    setup: Setup,
    expected: set[str],
) -> None:
    slug, pk = await setup(db)

    page = await detail(client, slug, pk)

    assert set(offered(page)) == expected


@pytest.mark.parametrize(
    ("setup", "refused"),
    [(c[1], c[3]) for c in REFUSALS],
    ids=[c[0] for c in REFUSALS],
)
async def test_a_forged_post_of_an_action_the_state_refuses_changes_nothing(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    setup: Setup,
    refused: str,
) -> None:
    slug, pk = await setup(db)
    table = Base.metadata.tables[slug.replace("-", "_")]
    before = (await db.execute(sa.select(table).where(table.c.id == pk))).one()
    await db.commit()

    response = await act(client, slug, refused, [pk], reason="Forged by a test", amount="1")
    shown = await client.get(response.headers["location"])

    assert response.status_code == 303
    assert "does not apply to" in shown.text
    assert "nothing was changed" in shown.text
    after = (await db.execute(sa.select(table).where(table.c.id == pk))).one()
    assert after == before
    assert await audit_for(db, f"action:{refused}", pk) == []


async def test_suspending_a_customer_asks_a_reason_that_the_audit_keeps(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    slug, pk = await _state("users", _user, first_name="Erica", last_name="Murphy")(db)
    page = await detail(client, slug, pk)
    suspend = offered(page)["Suspend"]

    opened = await client.get(suspend.href)
    form = next(f for f in parse(opened.text).forms if "/action/suspend" in f["action"])
    empty = await client.post(form["action"], data=form["fields"] | {"reason": ""})
    done = await client.post(
        form["action"], data=form["fields"] | {"reason": "Chargeback fraud reported"}
    )

    assert opened.status_code == 200
    assert "Suspend: Erica Murphy · user." in opened.text, "the page names the customer"
    assert "reason" in form["textareas"]
    assert empty.status_code == 400
    assert done.status_code == 303
    [entry] = await audit_for(db, "action:suspend", pk)
    assert entry.after == {"status": "suspended", "reason": "Chargeback fraud reported"}
    shown = await client.get(done.headers["location"])
    assert "Suspend: done for Erica Murphy" in shown.text


async def test_a_confirmation_names_the_record(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    slug, pk = await _plain("feature_flags", rows.flag_row, key="test-p2p-transfers")(db)
    page = await detail(client, slug, pk)

    kill = offered(page)["Disable (kill switch)"]
    dialog = kill.attrs["data-bs-target"]

    assert dialog == "#modal-confirmation-disable"
    assert "Turn test-p2p-transfers off for every user now?" in page


async def test_opening_an_action_url_shows_its_page_and_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    slug, pk = await _plain("feature_flags", rows.flag_row, enabled=False, key="test-dark-mode")(db)
    enable = offered(await detail(client, slug, pk))["Enable"]

    opened = await client.get(enable.href)

    assert opened.status_code == 200
    assert "Enable: test-dark-mode" in opened.text
    form = next(f for f in parse(opened.text).forms if "/action/enable" in f["action"])
    await db.commit()
    assert await audit_for(db, "action:enable", pk) == []
    posted = await client.post(form["action"], data=form["fields"])
    assert posted.status_code == 303
    assert len(await audit_for(db, "action:enable", pk)) == 1


async def test_an_action_url_without_a_row_returns_to_the_list(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    opened = await client.get("/admin/wallets/action/freeze")

    assert opened.status_code == 303
    assert opened.headers["location"].endswith("/admin/wallets/list")


@pytest.mark.parametrize(
    ("setup", "state"),
    [
        (_plain("feature_flags", rows.flag_row, key="test-title-on"), "enabled"),
        (_plain("feature_flags", rows.flag_row, enabled=False, key="test-title-off"), "disabled"),
        (_state("admin_users", _staff, is_active=False), "disabled"),
        (_state("users", _user, status="suspended"), "suspended"),
    ],
    ids=["flag on", "flag off", "staff disabled", "customer suspended"],
)
async def test_a_record_is_titled_by_its_label_and_state(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, setup: Setup, state: str
) -> None:
    slug, pk = await setup(db)

    page = await detail(client, slug, pk)

    title = page[page.index('<h2 class="page-title') : page.index("</h2>")]
    assert str(pk) not in title
    assert '<span class="badge bg-' in title
    assert f">{state}</span>" in title


async def test_the_edit_page_names_the_record_and_leads_back_to_it(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    slug, pk = await _state("users", _user, first_name="Erica", last_name="Murphy")(db)
    edit = offered(await detail(client, slug, pk))["Edit"]

    page = (await client.get(edit.href)).text

    assert "Edit Erica Murphy · user." in page
    back = [link for link in parse(page).links if link.text.startswith("Erica Murphy")]
    assert [link.href for link in back] == [f"http://testserver/admin/customers/{pk}"]
