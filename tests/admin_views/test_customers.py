"""The customer page: reached from every customer link, the header's facts, the timeline paged
by key, the flags as the feed answers them, actions that come back audited, and refusals."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from auth.permissions import allows
from core.settings import Settings
from models import Role, SupportTicket, WalletTransaction
from models.base import utcnow
from tests import rows, staff
from tests.clients import client_for

EVENT = re.compile(r'data-kind="(\w+)" data-key="([0-9a-f-]{36})"')
OLDER = re.compile(r'href="([^"]*)" id="timeline-older"')
FLAG_CELL = re.compile(r'data-platform="(\w+)" data-on="(on|off)"')


def action_button(path: str) -> str:
    """The pattern of an action's button form on the page whose URL ends with `path`."""
    return rf'<form class="d-inline" method="post" action="([^"]*{re.escape(path)})">(.*?)</form>'


PANELS = {
    "customer-wallets": "wallets",
    "customer-money": "wallet_transactions",
    "customer-open-tickets": "support_tickets",
    "customer-flags": "feature_flags",
}
"""Each panel of the page and the table a role must view to see it."""
KINDS = {
    "transactions": "wallet_transactions",
    "tickets": "support_tickets",
    "status": "users",
    "staff": "audit_logs",
}
ACTION_PAGE_FORM = r'<form class="card" method="post" action="([^"]+)">(.*?)</form>'


@dataclass
class Customer:
    id: uuid.UUID
    email: str
    phone: str
    usd: uuid.UUID
    eur: uuid.UUID


async def make_customer(db: AsyncSession, **overrides: object) -> Customer:
    user = await rows.insert(
        db, "users", rows.user_row(created_at=utcnow() - timedelta(days=400), **overrides)
    )
    usd = await rows.insert(db, "wallets", rows.wallet_row(user["id"], balance=Decimal("1234.50")))
    eur = await rows.insert(
        db, "wallets", rows.wallet_row(user["id"], currency="EUR", balance=Decimal("7.25"))
    )
    await db.commit()
    return Customer(user["id"], user["email"], user["phone"], usd["id"], eur["id"])


def page_url(customer: Customer) -> str:
    return f"/admin/customers/{customer.id}"


def link_to(page: str, target: str) -> str:
    """The href of the first link in `page` that leads to `target` (a path)."""
    found = re.search(rf'href="((?:http://testserver)?{re.escape(target)})"', page)
    assert found, f"no link to {target}"
    return unescape(found[1])


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: AsyncSession) -> staff.Account:
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


async def test_the_users_list_leads_to_the_customer_page(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db)

    listing = await client.get("/admin/users/list")
    page = await client.get(link_to(listing.text, page_url(customer)))

    assert page.status_code == 200
    assert customer.email in page.text
    assert 'id="customer-timeline"' in page.text
    current = re.findall(r'href="([^"]+)"\s+aria-current="page"', page.text)
    assert [urlsplit(href).path for href in current] == ["/admin/users/list"]


async def test_a_tickets_customer_link_leads_to_the_customer_page(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db)
    ticket = await rows.insert(db, "support_tickets", rows.ticket_row(customer.id))
    await db.commit()

    ticket_page = await client.get(f"/admin/support-tickets/details/{ticket['id']}")
    page = await client.get(link_to(ticket_page.text, page_url(customer)))

    assert page.status_code == 200
    assert customer.email in page.text


async def test_the_header_says_who_the_customer_is(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db, status="suspended", kyc_status="pending", country="GB")
    await rows.insert(db, "support_tickets", rows.ticket_row(customer.id, status="open"))
    await rows.insert(db, "support_tickets", rows.ticket_row(customer.id, status="pending"))
    await rows.insert(db, "support_tickets", rows.ticket_row(customer.id, status="closed"))
    someone_else = await make_customer(db)
    await rows.insert(db, "support_tickets", rows.ticket_row(someone_else.id, status="open"))
    await db.commit()

    page = (await client.get(page_url(customer))).text

    assert "Ada Lovelace" in page
    assert customer.email in page
    assert customer.phone in page
    assert '<span class="badge bg-red-lt">suspended</span>' in page
    assert '<span class="badge bg-yellow-lt" title="KYC status">KYC pending</span>' in page
    assert "<dd>GB</dd>" in page
    assert re.search(r'id="customer-age">1 year 1 month<', page)
    assert 'id="customer-open-tickets"><span>2</span>' in page
    tickets = await client.get(link_to(page, f"/admin/support-tickets/list?user_id={customer.id}"))
    assert tickets.text.count("Card declined") == 3
    assert "1,234.50 USD" in page
    assert "7.25 EUR" in page
    assert link_to(page, f"/admin/users/details/{customer.id}")
    assert link_to(page, f"/admin/users/edit/{customer.id}")


async def test_an_unknown_or_malformed_customer_is_not_found(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    for pk in (uuid.uuid4(), "not-a-uuid"):
        response = await client.get(f"/admin/customers/{pk}")

        assert response.status_code == 404
        assert "customer" in response.text


async def test_a_role_that_may_not_view_customers_is_refused(
    db: AsyncSession, settings: Settings, app: Starlette
) -> None:
    customer = await make_customer(db)
    marketing = await staff.make_staff(db, "marketing")
    async with client_for(settings) as client:
        await staff.signed_in(client, marketing)
        response = await client.get(page_url(customer))

    assert response.status_code == 403
    assert customer.email not in response.text


async def story(client: httpx.AsyncClient, url: str) -> list[tuple[str, str]]:
    """Every (kind, id) of the timeline, newest first, following its Older links."""
    seen: list[tuple[str, str]] = []
    while url:
        page = await client.get(url)
        assert page.status_code == 200, page.text[:300]
        seen += EVENT.findall(page.text)
        older = OLDER.search(page.text)
        url = unescape(older[1]) if older else ""
        if url.startswith("?"):
            url = page.url.path + url
    return seen


async def test_the_timeline_is_newest_first_and_pages_by_key_across_ties(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db)
    start = utcnow() - timedelta(days=3)
    # 60 transactions over two wallets, three at each moment: ties cross page boundaries.
    written = [
        rows.transaction_row(
            wallet,
            created_at=start + timedelta(minutes=index // 3),
            currency="USD" if wallet == customer.usd else "EUR",
        )
        for index, wallet in enumerate([customer.usd, customer.eur] * 30)
    ]
    for row in written:
        await rows.insert(db, "wallet_transactions", row)
    at = start + timedelta(minutes=5)
    ticket = await rows.insert(db, "support_tickets", rows.ticket_row(customer.id, created_at=at))
    message = await rows.insert(
        db, "ticket_messages", rows.message_row(ticket["id"], created_at=at)
    )
    await db.commit()
    everything = [*written, ticket, message]
    expected = sorted(everything, key=lambda row: (row["created_at"], row["id"]), reverse=True)

    seen = await story(client, page_url(customer))

    assert [pk for _, pk in seen] == [str(row["id"]) for row in expected]
    assert len(seen) == 62 > 25  # three pages


async def test_the_kinds_filter_shows_only_the_kinds_asked_for(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db)
    await rows.insert(db, "wallet_transactions", rows.transaction_row(customer.usd))
    await rows.insert(db, "support_tickets", rows.ticket_row(customer.id))
    await db.commit()
    everything = await client.get(page_url(customer))
    # The kinds form as rendered, with only "Tickets and messages" ticked.
    assert 'name="kind" value="tickets"' in everything.text

    tickets = await client.get(page_url(customer), params={"kind": "tickets"})

    assert {kind for kind, _ in EVENT.findall(everything.text)} == {"transactions", "tickets"}
    assert {kind for kind, _ in EVENT.findall(tickets.text)} == {"tickets"}


async def test_refunds_and_reversals_are_linked_to_what_they_correct(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db)
    purchase = await rows.insert(
        db,
        "wallet_transactions",
        rows.transaction_row(customer.usd, type="purchase", amount=Decimal("-40.00")),
    )
    refund = await rows.insert(
        db,
        "wallet_transactions",
        rows.transaction_row(
            customer.usd,
            type="refund",
            amount=Decimal("15.00"),
            related_transaction_id=purchase["id"],
            created_at=purchase["created_at"] + timedelta(hours=1),
        ),
    )
    await db.commit()

    page = (await client.get(page_url(customer))).text

    corrects = re.search(r'Corrects <a href="([^"]+)">([^<]+)</a>', page)
    refunded_by = re.search(r'Refunded by <a href="([^"]+)">([^<]+)</a>', page)
    assert corrects
    assert corrects[2] == purchase["reference"]
    assert corrects[1].endswith(f"/admin/wallet-transactions/details/{purchase['id']}")
    assert refunded_by
    assert refunded_by[2] == refund["reference"]
    assert "15.00 USD" in page


async def test_the_money_summary_totals_in_and_out_per_currency(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db)
    now = utcnow()
    for wallet, kind, amount, days, status in [
        (customer.usd, "deposit", "100.00", 5, "posted"),
        (customer.usd, "purchase", "-30.00", 10, "posted"),
        (customer.usd, "purchase", "-20.00", 60, "posted"),
        (customer.usd, "purchase", "-99.00", 3, "failed"),
        (customer.usd, "deposit", "500.00", 120, "posted"),
        (customer.eur, "deposit", "8.00", 1, "posted"),
    ]:
        posted = now - timedelta(days=days) if status == "posted" else None
        await rows.insert(
            db,
            "wallet_transactions",
            rows.transaction_row(
                wallet,
                type=kind,
                amount=Decimal(amount),
                status=status,
                posted_at=posted,
                currency="USD" if wallet == customer.usd else "EUR",
                created_at=now - timedelta(days=days),
            ),
        )
    await db.commit()

    page = (await client.get(page_url(customer))).text

    table = dict(re.findall(r'<tr data-measure="(\w+)">(.*?)</tr>', page, re.S))
    shown = {
        measure: re.findall(r'data-currency="(\w+)">([^<]*)</td>', cells)
        for measure, cells in table.items()
    }
    assert shown == {
        "in_30": [("EUR", "8.00"), ("USD", "100.00")],
        "out_30": [("EUR", "0.00"), ("USD", "30.00")],
        "in_90": [("EUR", "8.00"), ("USD", "100.00")],
        "out_90": [("EUR", "0.00"), ("USD", "50.00")],
        "refunds": [("EUR", "0"), ("USD", "0")],
        "refunded": [("EUR", "0.00"), ("USD", "0.00")],
        "failed": [("EUR", "0"), ("USD", "1")],
    }


async def test_the_flags_shown_are_the_feeds_answers_for_the_customer(
    client: httpx.AsyncClient, db: AsyncSession, app: Starlette, boss: staff.Account
) -> None:
    customer = await make_customer(db)
    for overrides in [
        {"platforms": ["ios"], "rollout_percentage": Decimal("100.00")},
        {"platforms": [], "rollout_percentage": Decimal("50.00")},
        {"platforms": ["android", "web"], "min_app_version": "4.0.0"},
        {"platforms": [], "enabled": False},
        {"platforms": [], "allow_list": [str(customer.id)], "rollout_percentage": Decimal(0)},
    ]:
        await rows.insert(db, "feature_flags", rows.flag_row(**overrides))
    await db.commit()
    await app.state.flags.refresh(force=True)

    for version in ("", "4.2.0", "3.9.0"):
        page = await client.get(page_url(customer), params={"app_version": version})
        assert page.status_code == 200
        shown: dict[str, set[str]] = {}
        for row in re.findall(r'<tr data-flag="([^"]+)">(.*?)</tr>', page.text, re.S):
            for platform, on in FLAG_CELL.findall(row[1]):
                if on == "on":
                    shown.setdefault(platform, set()).add(row[0])
        for platform in ("android", "ios", "web"):
            feed = await client.get(
                "/api/feature-flags/mobile/active",
                params={"platform": platform, "user_id": str(customer.id)}
                | ({"app_version": version} if version else {}),
            )
            assert shown.get(platform, set()) == set(feed.json()["flags"]), (platform, version)


async def test_flags_for_a_chosen_platform_and_bad_versions(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db)

    ios = await client.get(page_url(customer), params={"platform": "ios", "app_version": "5.1"})
    bad = await client.get(page_url(customer), params={"app_version": "not a version\x00"})
    unknown = await client.get(page_url(customer), params={"platform": "symbian"})

    assert ios.status_code == 200
    assert "<th>ios 5.1</th>" in ios.text
    assert bad.status_code == 400
    assert "is not a version like 4.2.0" in bad.text
    assert unknown.status_code == 400
    assert "Pick a platform: android, ios, web." in unknown.text


async def test_bad_timeline_input_is_answered_with_a_message(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db)

    kind = await client.get(page_url(customer), params={"kind": "gossip"})
    cursor = await client.get(page_url(customer), params={"older": "x" * 10_000})

    assert kind.status_code == 400
    assert (
        "&#39;gossip&#39; is not a kind of event you may see here; pick from transactions, "
        "tickets, status, staff." in kind.text
    )
    assert cursor.status_code == 400
    assert "damaged" in cursor.text


def form_fields(form: str) -> dict[str, str]:
    """The hidden inputs of a rendered form, as the browser would send them."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", form):
        attributes = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            fields[unescape(attributes["name"])] = unescape(attributes.get("value", ""))
    return fields


async def submit_action(
    client: httpx.AsyncClient, page: str, form_pattern: str, **answers: str
) -> httpx.Response:
    """Press an action's button on the page, then fill in the action's own page and send it."""
    form = re.search(form_pattern, page, re.S)
    assert form, form_pattern
    asked = await client.post(unescape(form[1]), data=form_fields(form[2]))
    assert asked.status_code == 200
    action_form = re.search(ACTION_PAGE_FORM, asked.text, re.S)
    assert action_form
    return await client.post(unescape(action_form[1]), data=form_fields(action_form[2]) | answers)


async def test_an_action_from_the_page_comes_back_and_is_audited(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db)
    page = (await client.get(page_url(customer))).text

    # Suspend asks for a reason: its button opens the action's own page, which comes back here.
    suspend = action_button(f"/users/action/suspend?pks={customer.id}")
    done = await submit_action(client, page, suspend, reason="Card reported stolen")

    assert done.status_code == 303
    assert done.headers["location"] == page_url(customer)
    [entry] = await staff.audit_entries(db, "action:suspend")
    assert (entry.entity_id, entry.actor_id) == (str(customer.id), boss.id)
    assert entry.after == {"status": "suspended", "reason": "Card reported stolen"}
    after = (await client.get(done.headers["location"])).text
    assert '<span class="badge bg-red-lt">suspended</span>' in after
    assert f'data-kind="status" data-key="{entry.id}"' in after
    assert "Why: Card reported stolen" in after
    staff_only = await client.get(page_url(customer), params={"kind": "staff"})
    assert str(entry.id) not in staff_only.text


async def test_each_role_sees_only_the_panels_and_kinds_it_may_view(
    db: AsyncSession, settings: Settings, app: Starlette
) -> None:
    customer = await make_customer(db)
    roles = {
        name: granted for name, granted in await db.execute(sa.select(Role.name, Role.permissions))
    }
    assert len(roles) == 7
    for role, granted in roles.items():
        account = await staff.make_staff(db, role)
        async with client_for(settings) as client:
            await staff.signed_in(client, account)
            page = await client.get(page_url(customer))
        if not allows(granted, "users", "view"):
            assert page.status_code == 403, role
            continue
        assert page.status_code == 200, role
        for panel, table in PANELS.items():
            assert (f'id="{panel}"' in page.text) == allows(granted, table, "view"), (role, panel)
        for kind, table in KINDS.items():
            offered = f'name="kind" value="{kind}"' in page.text
            assert offered == allows(granted, table, "view"), (role, kind)


async def test_a_kind_the_role_may_not_view_is_refused_with_a_message(
    db: AsyncSession, settings: Settings, app: Starlette
) -> None:
    customer = await make_customer(db)
    support = await staff.make_staff(db, "support")
    async with client_for(settings) as client:
        await staff.signed_in(client, support)
        page = await client.get(page_url(customer), params={"kind": "staff"})

    assert page.status_code == 400
    assert "you may see here; pick from transactions, tickets, status." in page.text


async def statements_for(client: httpx.AsyncClient, app: Starlette, url: str) -> int:
    """How many SQL statements answering `url` took."""
    counted: list[str] = []

    def count(*_args: object) -> None:
        counted.append("")

    engine = app.state.database.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert (await client.get(url)).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(counted)


async def test_a_long_story_costs_the_same_statements_as_a_short_one(
    client: httpx.AsyncClient, db: AsyncSession, app: Starlette, boss: staff.Account
) -> None:
    short, long = await make_customer(db), await make_customer(db)
    start = utcnow() - timedelta(days=200)
    for customer, count in ((short, 10), (long, 10_000)):
        await db.execute(
            sa.insert(WalletTransaction.__table__),
            [
                rows.transaction_row(
                    customer.usd, created_at=start + timedelta(minutes=index), currency="USD"
                )
                for index in range(count)
            ],
        )
    await db.commit()
    await client.get(page_url(short))  # the app's own first-use lookups, once

    few = await statements_for(client, app, page_url(short))
    many = await statements_for(client, app, page_url(long))

    assert many == few
    page = (await client.get(page_url(long))).text
    assert len(EVENT.findall(page)) == 25
    assert OLDER.search(page)


async def test_a_wallet_frozen_from_the_page_shows_as_a_staff_action(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db)
    page = (await client.get(page_url(customer))).text
    freeze = action_button(f"/wallets/action/freeze?pks={customer.eur}")

    done = await submit_action(client, page, freeze, reason="Chargeback under review")

    assert done.headers["location"] == page_url(customer)
    [entry] = await staff.audit_entries(db, "action:freeze")
    assert entry.entity_id == str(customer.eur)
    staff_actions = (await client.get(page_url(customer), params={"kind": "staff"})).text
    assert EVENT.findall(staff_actions) == [("staff", str(entry.id))]
    assert "Why: Chargeback under review" in staff_actions
    who_did_what = re.search(rf'data-key="{entry.id}">(.*?)</div>\s*</div>', staff_actions, re.S)
    assert who_did_what
    assert (
        f'Froze <a href="http://testserver/admin/wallets/details/{customer.eur}">'
        "EUR wallet of Ada Lovelace</a>" in who_did_what[1]
    )
    assert f'by <a href="http://testserver/admin/admin-users/details/{boss.id}">' in who_did_what[1]


async def test_a_refund_from_the_timeline_is_linked_to_its_purchase(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db)
    purchase = await rows.insert(
        db,
        "wallet_transactions",
        rows.transaction_row(
            customer.usd,
            type="purchase",
            amount=Decimal("-40.00"),
            created_at=utcnow() - timedelta(days=1),
        ),
    )
    await db.commit()
    page = (await client.get(page_url(customer))).text
    refund = action_button(f"/action/refund?pks={purchase['id']}")

    done = await submit_action(client, page, refund, amount="12.50", reason="Item never arrived")

    assert done.headers["location"] == page_url(customer)
    after = (await client.get(page_url(customer))).text
    made = await db.scalar(
        sa.select(WalletTransaction).where(
            WalletTransaction.related_transaction_id == purchase["id"]
        )
    )
    assert made is not None
    assert made.amount == Decimal("12.50")
    assert EVENT.findall(after)[0] == ("transactions", str(made.id))
    assert f">{purchase['reference']}</a>" in after.split(f'data-key="{made.id}"')[1]
    assert len(await staff.audit_entries(db, "action:refund")) == 1


NEW_TICKET_FORM = (
    r'<form class="modal-content" method="post" action="([^"]+)" id="new-ticket-form">(.*?)</form>'
)


async def tickets_of(db: AsyncSession, customer: Customer) -> list[SupportTicket]:
    await db.rollback()  # a fresh snapshot: the app wrote through its own connections
    return list(
        await db.scalars(sa.select(SupportTicket).where(SupportTicket.user_id == customer.id))
    )


async def test_a_ticket_opened_on_the_customers_behalf_shows_on_their_page(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customer = await make_customer(db)
    form = re.search(NEW_TICKET_FORM, (await client.get(page_url(customer))).text, re.S)
    assert form

    done = await client.post(
        unescape(form[1]),
        data=form_fields(form[2])
        | {
            "subject": "  Wants the March statement  ",
            "category": "account",
            "priority": "high",
            "channel": "phone",
            "description": "Called at 10:05.",
        },
    )

    assert done.status_code == 303
    assert done.headers["location"].endswith(page_url(customer))
    [ticket] = await tickets_of(db, customer)
    assert (ticket.subject, ticket.priority, ticket.channel, ticket.status) == (
        "Wants the March statement",
        "high",
        "phone",
        "open",
    )
    [entry] = await staff.audit_entries(db, "create")
    assert (entry.entity_type, entry.entity_id, entry.actor_id) == (
        "support_tickets",
        str(ticket.id),
        boss.id,
    )
    page = (await client.get(done.headers["location"])).text
    assert f"Opened {ticket.reference}." in page
    assert f'data-kind="tickets" data-key="{ticket.id}"' in page


@pytest.mark.parametrize(
    ("subject", "description", "message"),
    [
        ("   ", "", "Give the ticket a subject."),
        ("Card\x00stolen", "", "Remove the control characters"),
        ("x" * 10_000, "", "Field cannot be longer than 200 characters."),
        ("Fine", "y" * 10_001, "Field cannot be longer than 10000 characters."),
    ],
)
async def test_a_new_ticket_with_bad_input_says_why_and_writes_nothing(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    subject: str,
    description: str,
    message: str,
) -> None:
    customer = await make_customer(db)
    form = re.search(NEW_TICKET_FORM, (await client.get(page_url(customer))).text, re.S)
    assert form

    done = await client.post(
        unescape(form[1]),
        data=form_fields(form[2]) | {"subject": subject, "description": description},
    )

    assert done.status_code == 303
    page = (await client.get(done.headers["location"])).text
    assert "Nothing was opened:" in page
    assert message in page
    assert await tickets_of(db, customer) == []


async def test_only_staff_who_may_create_tickets_open_one(
    db: AsyncSession, settings: Settings, app: Starlette
) -> None:
    customer = await make_customer(db)
    operations = await staff.make_staff(db, "operations")
    async with client_for(settings) as client:
        await staff.signed_in(client, operations)
        page = (await client.get(page_url(customer))).text
        refused = await client.post(
            f"{page_url(customer)}/tickets",
            data={"subject": "Not mine to open", "csrf_token": await staff.csrf_token(client)},
        )

    assert 'id="new-ticket-form"' not in page
    assert refused.status_code == 403
    assert await tickets_of(db, customer) == []


async def test_messages_stay_hidden_from_a_role_that_may_not_view_them(
    db: AsyncSession, settings: Settings, app: Starlette
) -> None:
    customer = await make_customer(db)
    ticket = await rows.insert(db, "support_tickets", rows.ticket_row(customer.id))
    await rows.insert(db, "ticket_messages", rows.message_row(ticket["id"], body="My PIN is 1234"))
    await rows.insert(
        db,
        "roles",
        rows.role_row(name="desk", permissions=["users:view", "support_tickets:view"]),
    )
    await db.commit()
    desk = await staff.make_staff(db, "desk")
    async with client_for(settings) as client:
        await staff.signed_in(client, desk)
        page = (await client.get(page_url(customer))).text

    assert EVENT.findall(page) == [("tickets", str(ticket["id"]))]
    assert "My PIN is 1234" not in page
