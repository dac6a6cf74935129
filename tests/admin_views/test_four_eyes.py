"""Four eyes on row actions: every guarded action, tried through every door.

For each guarded action a scenario writes rows and fills in the form so that the guard
triggers. Whatever door is tried (the form, a bulk selection, the JSON API, a replayed POST,
a forged request id, the maker approving, a role without the permission, after expiry, after
rejection, approving twice),
nothing changes without one valid approval by another permitted person, and an approved
request runs exactly once. Every step follows the links and forms as the pages render them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from admin_views.base import StaffView
from audit import trail
from models import AuditLog, Base, WalletTransaction
from models.approvals import ApprovalRequest
from models.base import utcnow
from tests import rows, staff
from tests.admin_views.screens import act, audit_for, token
from tests.admin_views.test_record_actions import offered, parse

REASON = "Customer escalation approved by phone"


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

    async def sign_in(role: str | list[str] = "superadmin") -> httpx.AsyncClient:
        if isinstance(role, list):  # a role of these permissions
            made = await rows.insert(db, "roles", rows.role_row(permissions=role))
            await db.commit()
            role = made["name"]
        account = await staff.make_staff(db, role)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        clients.append(client)
        return await staff.signed_in(client, account)

    yield sign_in
    for client in clients:
        await client.aclose()


@dataclass
class Scenario:
    table: str
    action: str
    setup: Callable[[AsyncSession], Awaitable[list[uuid.UUID]]]
    """Writes the rows the action is taken on."""
    fields: dict[str, str]
    """What staff type in the action's form."""
    effect: Callable[[AsyncSession, list[uuid.UUID]], Awaitable[Any]]
    """What the action changes, read back: equal before and after means nothing ran."""
    lacking_role: str
    """A role that may see approvals but not approve this change."""
    api_fields: Callable[[AsyncSession, list[uuid.UUID]], Awaitable[dict[str, str]]] | None = None
    """What a caller of the JSON API names that the action's page fills in itself."""

    @property
    def slug(self) -> str:
        return self.table.replace("_", "-")


async def _wallet(db: AsyncSession) -> list[uuid.UUID]:
    user = await rows.insert(db, "users", rows.user_row())
    wallet = await rows.insert(db, "wallets", rows.wallet_row(user["id"]))
    return [wallet["id"]]


async def _purchase(db: AsyncSession) -> list[uuid.UUID]:
    user = await rows.insert(db, "users", rows.user_row())
    wallet = await rows.insert(
        db, "wallets", rows.wallet_row(user["id"], balance=Decimal("100.00"))
    )
    await rows.insert(
        db, "wallet_transactions", rows.transaction_row(wallet["id"], amount=Decimal("1000.00"))
    )
    purchase = await rows.insert(
        db,
        "wallet_transactions",
        rows.transaction_row(wallet["id"], type="purchase", amount=Decimal("-900.00")),
    )
    return [purchase["id"]]


async def _customers(db: AsyncSession) -> list[uuid.UUID]:
    return [(await rows.insert(db, "users", rows.user_row()))["id"] for _ in range(51)]


async def _disabled_staff(db: AsyncSession) -> list[uuid.UUID]:
    return [(await rows.insert(db, "admin_users", await rows.admin_row(db, is_active=False)))["id"]]


async def _permission_flag(db: AsyncSession) -> list[uuid.UUID]:
    flag = rows.flag_row(flag_type="permission", enabled=False)
    return [(await rows.insert(db, "feature_flags", flag))["id"]]


async def _permission_flag_on_in_staging(db: AsyncSession) -> list[uuid.UUID]:
    """A permission flag off in production and on in staging: copying staging is reviewed."""
    [flag_id] = await _permission_flag(db)
    staging = Base.metadata.tables["flag_environments"]
    environment_id = await db.scalar(sa.select(staging.c.id).where(staging.c.key == "staging"))
    state = {
        key: value
        for key, value in rows.flag_row(enabled=True).items()
        if key in Base.metadata.tables["flag_environment_states"].c
    }
    state |= {"id": uuid.uuid4(), "flag_id": flag_id, "environment_id": environment_id}
    await rows.insert(db, "flag_environment_states", state)
    return [flag_id]


async def _permission_flag_switched_twice(db: AsyncSession) -> list[uuid.UUID]:
    """A permission flag turned on then off: restoring the version it was on is reviewed."""
    [flag_id] = await _permission_flag(db)
    for revision, on in ((1, True), (2, False)):
        await trail.append(
            db,
            trail.SYSTEM,
            trail.Entry(
                f"action:{'enable' if on else 'disable'}",
                "feature_flags",
                str(flag_id),
                {"enabled": not on, "revision": revision},
                {"enabled": on, "revision": revision + 1, "environment": "production"},
            ),
        )
    flags = Base.metadata.tables["feature_flags"]
    await db.execute(sa.update(flags).where(flags.c.id == flag_id).values(revision=3))
    return [flag_id]


async def _first_change(db: AsyncSession, ids: list[uuid.UUID]) -> dict[str, str]:
    """The change whose version is restored: the flag's first (its page offers the one
    before the newest, the same)."""
    first = await db.scalar(
        sa.select(sa.func.min(AuditLog.sequence)).where(AuditLog.entity_id == str(ids[0]))
    )
    return {"entry": str(first)}


async def _balances(db: AsyncSession, ids: list[uuid.UUID]) -> Any:
    table = Base.metadata.tables["wallets"]
    return (await db.execute(sa.select(table.c.balance).where(table.c.id.in_(ids)))).all()


async def _ledger_of(db: AsyncSession, ids: list[uuid.UUID]) -> Any:
    table = Base.metadata.tables["wallet_transactions"]
    return await db.scalar(
        sa.select(sa.func.count()).where(table.c.related_transaction_id.in_(ids))
    )


def _column(table: str, column: str) -> Callable[[AsyncSession, list[uuid.UUID]], Awaitable[Any]]:
    async def read(db: AsyncSession, ids: list[uuid.UUID]) -> Any:
        found = Base.metadata.tables[table]
        stmt = sa.select(found.c[column]).where(found.c.id.in_(ids)).order_by(found.c.id)
        return (await db.execute(stmt)).scalars().all()

    return read


SCENARIOS = [
    Scenario(
        "wallets",
        "adjust",
        _wallet,
        {"direction": "credit", "amount": "900.00", "reason": REASON},
        _balances,
        "operations",
    ),
    Scenario(
        "wallet_transactions", "refund", _purchase, {"reason": REASON}, _ledger_of, "operations"
    ),
    Scenario(
        "wallet_transactions", "reverse", _purchase, {"reason": REASON}, _ledger_of, "operations"
    ),
    Scenario(
        "users",
        "suspend",
        _customers,
        {"reason": REASON},
        _column("users", "status"),
        "operations",
    ),
    Scenario(
        "users",
        "deactivate",
        _customers,
        {"reason": REASON},
        _column("users", "status"),
        "operations",
    ),
    Scenario(
        "admin_users",
        "enable",
        _disabled_staff,
        {"reason": REASON},
        _column("admin_users", "is_active"),
        "admin",
    ),
    Scenario(
        "feature_flags",
        "enable",
        _permission_flag,
        {"reason": REASON},
        _column("feature_flags", "enabled"),
        "operations",
    ),
    Scenario(
        "feature_flags",
        "copy",
        _permission_flag_on_in_staging,
        {"source": "staging", "target": "production", "reason": REASON},
        _column("feature_flags", "enabled"),
        "operations",
    ),
    Scenario(
        "feature_flags",
        "restore",
        _permission_flag_switched_twice,
        {"reason": REASON},
        _column("feature_flags", "enabled"),
        "operations",
        _first_change,
    ),
]
IDS = [f"{s.table}:{s.action}" for s in SCENARIOS]


def test_every_guarded_action_has_a_scenario(app: Starlette) -> None:
    """A new guard without a scenario here fails, so no guarded action goes untried."""
    guarded = {
        f"{view.resource()}:{name}"
        for view in app.state.admin.views
        if isinstance(view, StaffView)
        for name, spec in view.action_specs.items()
        if spec.four_eyes is not None and view.resource() != "approval_requests"
    }

    assert guarded == set(IDS)


async def ask(client: httpx.AsyncClient, scenario: Scenario, ids: list[uuid.UUID]) -> str:
    """Open the action's page as its button does, submit its form filled in; the request's
    page it lands on."""
    opened = await act(client, scenario.slug, scenario.action, ids)
    if opened.status_code == 303:  # an action that asks nothing has no page
        return opened.headers["location"]
    form = next(f for f in parse(opened.text).forms if "/action/" in f["action"])
    posted = await client.post(form["action"], data=form["fields"] | scenario.fields)
    assert posted.status_code == 303, posted.text[:800]
    location = posted.headers["location"]
    assert "/admin/approval-requests/details/" in location, location
    return location


async def decision(
    client: httpx.AsyncClient, page_url: str, label: str, **fields: str
) -> tuple[httpx.Response, str]:
    """Follow the request page's button `label` and submit its form: (answer, next page)."""
    page = await client.get(page_url)
    assert page.status_code == 200, page.text[:300]
    button = offered(page.text)[label]
    if button.attrs.get("data-bs-toggle") == "modal":
        # The dialog's Yes, which staff.js sends as a POST.
        dialog = button.attrs["data-bs-target"].removeprefix("#modal-confirmation-")
        yes = next(
            link
            for link in parse(page.text).links
            if link.text.strip() == "Yes" and f"/action/{dialog}" in link.href
        )
        answer = await client.post(yes.href, data={"csrf_token": await token(client)})
    else:
        opened = await client.get(button.href)
        form = next(f for f in parse(opened.text).forms if "/action/" in f["action"])
        answer = await client.post(form["action"], data=form["fields"] | fields)
    shown = await client.get(answer.headers["location"]) if answer.status_code == 303 else answer
    return answer, shown.text


async def the_request(db: AsyncSession, page_url: str) -> ApprovalRequest:
    await db.commit()
    found = await db.get(ApprovalRequest, uuid.UUID(page_url.rstrip("/").rsplit("/", 1)[1]))
    assert found is not None
    await db.refresh(found)
    return found


async def executions(db: AsyncSession, scenario: Scenario, ids: list[uuid.UUID]) -> int:
    await db.commit()
    return int(
        await db.scalar(
            sa.select(sa.func.count())
            .select_from(AuditLog)
            .where(
                AuditLog.action == f"action:{scenario.action}",
                AuditLog.entity_id.in_([str(pk) for pk in ids]),
            )
        )
    )


@pytest.fixture(params=SCENARIOS, ids=IDS)
def scenario(request: pytest.FixtureRequest) -> Scenario:
    return request.param


@pytest.fixture(params=SCENARIOS, ids=IDS)
async def asked(
    request: pytest.FixtureRequest,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
) -> tuple[Scenario, list[uuid.UUID], Any, str]:
    """A guarded action asked through its form: (scenario, rows, their state, request page)."""
    scenario: Scenario = request.param
    ids = await scenario.setup(db)
    await db.commit()
    before = await scenario.effect(db, ids)
    page_url = await ask(client, scenario, ids)
    return scenario, ids, before, page_url


async def test_asking_changes_nothing_and_waits_for_a_second_person(
    client: httpx.AsyncClient, db: AsyncSession, asked: tuple[Scenario, list[uuid.UUID], Any, str]
) -> None:
    scenario, ids, before, page_url = asked

    page = await client.get(page_url)
    request = await the_request(db, page_url)

    assert await scenario.effect(db, ids) == before
    assert await executions(db, scenario, ids) == 0
    assert request.status == "pending"
    assert request.reason == REASON
    assert "sent for approval" in page.text
    assert request.rule in page.text
    assert "Approve" not in offered(page.text), "the maker is not offered Approve"
    assert "Withdraw" in offered(page.text)
    [entry] = await audit_for(db, "approval:request", request.id)
    assert entry.after["records"] == [str(pk) for pk in ids]


async def test_the_maker_cannot_approve_even_by_a_forged_post(
    client: httpx.AsyncClient, db: AsyncSession, asked: tuple[Scenario, list[uuid.UUID], Any, str]
) -> None:
    scenario, ids, before, page_url = asked
    request = await the_request(db, page_url)

    answer = await act(client, "approval-requests", "approve", [request.id], note="")
    shown = await client.get(answer.headers["location"])

    assert "another staff member has to approve it" in shown.text
    assert await scenario.effect(db, ids) == before
    assert (await the_request(db, page_url)).status == "pending"


async def test_a_role_without_the_permission_cannot_approve(
    db: AsyncSession, other: Any, asked: tuple[Scenario, list[uuid.UUID], Any, str]
) -> None:
    scenario, ids, before, page_url = asked
    lacking = await other(scenario.lacking_role)
    request = await the_request(db, page_url)

    page = await lacking.get(page_url)
    answer = await act(lacking, "approval-requests", "approve", [request.id], note="")

    assert "Approve" not in (offered(page.text) if page.status_code == 200 else {})
    assert answer.status_code in (303, 403)
    assert await scenario.effect(db, ids) == before
    assert (await the_request(db, page_url)).status == "pending"


async def test_a_second_person_approves_and_it_runs_once(
    db: AsyncSession, other: Any, asked: tuple[Scenario, list[uuid.UUID], Any, str]
) -> None:
    scenario, ids, before, page_url = asked
    checker = await other("superadmin")
    request = await the_request(db, page_url)

    answer, shown = await decision(checker, page_url, "Approve", note="Checked the ticket")
    replayed = await act(checker, "approval-requests", "approve", [request.id], note="again")
    replay_shown = await checker.get(replayed.headers["location"])

    done = await the_request(db, page_url)
    assert answer.status_code == 303
    assert "Approve: done" in shown
    assert await scenario.effect(db, ids) != before
    assert done.status == "executed"
    assert done.checker_id not in (None, done.maker_id)
    assert "Approve: nothing was changed" in replay_shown.text
    assert "it is executed" in replay_shown.text
    assert await executions(db, scenario, ids) == len(ids), "each row changed once"
    entries = await db.scalars(
        sa.select(AuditLog).where(
            AuditLog.action == f"action:{scenario.action}",
            AuditLog.entity_id == str(ids[0]),
        )
    )
    [entry] = list(entries)
    assert entry.after["approval_request"] == str(request.id)
    assert entry.after["requested_by"] != entry.actor_email, "both people are on the entry"


async def test_nothing_runs_after_rejection_expiry_or_withdrawal_or_for_a_forged_id(
    client: httpx.AsyncClient,
    db: AsyncSession,
    other: Any,
    asked: tuple[Scenario, list[uuid.UUID], Any, str],
) -> None:
    scenario, ids, before, page_url = asked
    checker = await other("superadmin")
    request = await the_request(db, page_url)

    empty_reason, _ = await decision(checker, page_url, "Reject", note="")
    rejected, _ = await decision(checker, page_url, "Reject", note="Not agreed with finance")
    after_rejection = await act(checker, "approval-requests", "approve", [request.id], note="")
    forged = await act(checker, "approval-requests", "approve", [uuid.uuid4()], note="")
    second_ids = await scenario.setup(db)
    await db.commit()
    second_url = await ask(client, scenario, second_ids)
    second = await the_request(db, second_url)
    second.expires_at = utcnow() - timedelta(minutes=1)
    await db.commit()
    expired = await act(checker, "approval-requests", "approve", [second.id], note="")
    expired_shown = await checker.get(expired.headers["location"])
    third_ids = await scenario.setup(db)
    await db.commit()
    third_url = await ask(client, scenario, third_ids)
    withdrawn, _ = await decision(client, third_url, "Withdraw")
    third = await the_request(db, third_url)
    after_withdrawal = await act(checker, "approval-requests", "approve", [third.id], note="")

    assert empty_reason.status_code == 400
    assert rejected.status_code == 303
    assert (await the_request(db, page_url)).status == "rejected"
    assert after_rejection.status_code == 303
    assert forged.status_code == 303
    assert "expired before anyone approved it" in expired_shown.text
    assert withdrawn.status_code == 303
    assert third.status == "withdrawn"
    assert after_withdrawal.status_code == 303
    assert await scenario.effect(db, ids) == before
    for more in (second_ids, third_ids):
        assert await executions(db, scenario, more) == 0
    assert await executions(db, scenario, ids) == 0


async def test_the_json_api_door_makes_the_same_request_and_approves_once(
    client: httpx.AsyncClient,
    db: AsyncSession,
    other: Any,
    boss: staff.Account,
    scenario: Scenario,
) -> None:
    ids = await scenario.setup(db)
    await db.commit()
    before = await scenario.effect(db, ids)
    headers = {"X-CSRF-Token": await staff.csrf_token(client)}
    url = f"/api/v1/admin/{scenario.table}/actions/{scenario.action}"
    checker = await other("superadmin")
    checker_headers = {"X-CSRF-Token": await staff.csrf_token(checker)}

    named = await scenario.api_fields(db, ids) if scenario.api_fields else {}
    body = {"ids": [str(pk) for pk in ids], "params": scenario.fields | named}
    forged = await client.post(url, json=body)
    asked = await client.post(url, json=body, headers=headers)
    request_id = asked.json()["approval_request"]["id"]
    decide = f"/api/v1/admin/approvals/{request_id}/approve"
    by_maker = await client.post(decide, json={}, headers=headers)
    unchanged = await scenario.effect(db, ids)
    approved = await checker.post(decide, json={}, headers=checker_headers)
    again = await checker.post(decide, json={}, headers=checker_headers)

    assert forged.status_code == 403, "a cookie without the CSRF token changes nothing"
    assert asked.status_code == 202, asked.text
    assert unchanged == before
    assert by_maker.status_code == 403
    assert approved.status_code == 200, approved.text
    assert again.status_code == 409
    assert await scenario.effect(db, ids) != before
    assert await executions(db, scenario, ids) == len(ids)


async def test_below_the_threshold_an_adjustment_runs_at_once(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    [wallet] = await _wallet(db)
    await db.commit()
    opened = await act(client, "wallets", "adjust", [wallet])
    form = next(f for f in parse(opened.text).forms if "/action/" in f["action"])

    posted = await client.post(
        form["action"],
        data=form["fields"] | {"direction": "credit", "amount": "500.00", "reason": REASON},
    )

    assert posted.status_code == 303
    assert "approval-requests" not in posted.headers["location"]
    assert await _balances(db, [wallet]) == [(Decimal("500.00"),)]
    assert await db.scalar(sa.select(sa.func.count()).select_from(ApprovalRequest)) == 0


async def test_fifty_customers_are_suspended_at_once_and_an_unreviewed_flag_enabled(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    customers = (await _customers(db))[:50]
    flag = await rows.insert(db, "feature_flags", rows.flag_row(enabled=False))
    await db.commit()

    suspended = await act(client, "users", "suspend", customers, reason=REASON)
    enabled = await act(client, "feature-flags", "enable", [flag["id"]])

    assert suspended.status_code == enabled.status_code == 303
    assert set(await _column("users", "status")(db, customers)) == {"suspended"}
    assert await _column("feature_flags", "enabled")(db, [flag["id"]]) == [True]
    assert await db.scalar(sa.select(sa.func.count()).select_from(ApprovalRequest)) == 0


async def test_the_approvals_badge_counts_what_waits_for_the_viewer(
    client: httpx.AsyncClient, db: AsyncSession, other: Any, boss: staff.Account
) -> None:
    scenario = SCENARIOS[0]
    for _ in range(2):
        ids = await scenario.setup(db)
        await db.commit()
        await ask(client, scenario, ids)
    checker = await other("superadmin")
    support = await other("support")

    checker_page = await checker.get("/admin/account")
    maker_page = await client.get("/admin/account")
    support_page = await support.get("/admin/account")

    assert 'title="2 waiting for your approval">2</span>' in checker_page.text
    assert "waiting for your approval" not in maker_page.text, "not the maker's to approve"
    assert "waiting for your approval" not in support_page.text


async def test_the_badge_counts_what_the_role_may_approve_and_changes_on_the_next_page(
    client: httpx.AsyncClient, db: AsyncSession, other: Any, boss: staff.Account
) -> None:
    """The badge is read with the session check, on every page: a request withdrawn or
    expired a moment ago is no longer counted, and a checker counts only the changes their
    role may make."""
    adjust, suspend = SCENARIOS[0], SCENARIOS[3]
    asked = []
    for scenario in (adjust, adjust, suspend):
        ids = await scenario.setup(db)
        await db.commit()
        asked.append(await ask(client, scenario, ids))
    checker = await other("superadmin")
    adjuster = await other(
        [
            "approval_requests:view",
            "approval_requests:action:approve",
            "wallets:view",
            "wallets:action:adjust",
        ]
    )

    before = await checker.get("/admin/account")
    adjusters = await adjuster.get("/admin/account")
    withdrawn, _ = await decision(client, asked[0], "Withdraw")
    expiring = await the_request(db, asked[2])
    expiring.expires_at = utcnow() - timedelta(minutes=1)
    await db.commit()
    after = await checker.get("/admin/account")

    assert 'title="3 waiting for your approval">3</span>' in before.text
    assert 'title="2 waiting for your approval">2</span>' in adjusters.text
    assert withdrawn.status_code == 303
    assert 'title="1 waiting for your approval">1</span>' in after.text


async def test_staff_see_the_requests_about_tables_they_may_view_and_no_others(
    client: httpx.AsyncClient, db: AsyncSession, other: Any, boss: staff.Account
) -> None:
    wallet_ids = await SCENARIOS[0].setup(db)
    staff_ids = await _disabled_staff(db)
    await db.commit()
    about_a_wallet = await ask(client, SCENARIOS[0], wallet_ids)
    about_staff = await ask(
        client, next(s for s in SCENARIOS if s.table == "admin_users"), staff_ids
    )
    support = await other(["approval_requests:view", "wallets:view", "users:view"])
    marketing = await other(["approval_requests:view", "feature_flags:view"])

    support_list = await support.get("/admin/approval-requests/list")
    marketing_list = await marketing.get("/admin/approval-requests/list")

    assert (await support.get(about_a_wallet)).status_code == 200, "support views wallets"
    assert (await support.get(about_staff)).status_code == 404, "but not staff accounts"
    assert "USD wallet of Ada Lovelace" in support_list.text
    assert (await marketing.get(about_a_wallet)).status_code == 404
    assert "USD wallet of Ada Lovelace" not in marketing_list.text


async def test_an_approval_refused_by_the_rules_of_the_moment_is_marked_failed(
    client: httpx.AsyncClient, db: AsyncSession, other: Any, boss: staff.Account
) -> None:
    scenario = SCENARIOS[0]
    ids = await scenario.setup(db)
    await db.commit()
    page_url = await ask(client, scenario, ids)
    wallets = Base.metadata.tables["wallets"]
    await db.execute(sa.update(wallets).where(wallets.c.id == ids[0]).values(status="frozen"))
    await db.commit()
    checker = await other("superadmin")

    answer, shown = await decision(checker, page_url, "Approve", note="")

    request = await the_request(db, page_url)
    assert answer.status_code == 303
    assert "the change could not run" in shown
    assert request.status == "failed"
    assert "frozen" in (request.outcome or "")
    assert await _balances(db, ids) == [(Decimal("0.00"),)]


async def test_twenty_concurrent_approvals_move_money_once(
    backend: str, client: httpx.AsyncClient, db: AsyncSession, other: Any, boss: staff.Account
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: there is no race to lose")
    scenario = SCENARIOS[0]
    ids = await scenario.setup(db)
    await db.commit()
    page_url = await ask(client, scenario, ids)
    request = await the_request(db, page_url)
    checkers = [await other("superadmin") for _ in range(4)]

    answers = await asyncio.gather(
        *(
            act(checkers[n % 4], "approval-requests", "approve", [request.id], note="")
            for n in range(20)
        )
    )

    await db.commit()
    made = await db.scalar(
        sa.select(sa.func.count())
        .select_from(WalletTransaction)
        .where(WalletTransaction.wallet_id == ids[0])
    )
    assert {answer.status_code for answer in answers} == {303}
    assert made == 1
    assert await _balances(db, ids) == [(Decimal("900.00"),)]
    assert (await the_request(db, page_url)).status == "executed"
