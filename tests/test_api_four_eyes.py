"""Four eyes through the staff JSON API: row actions and approval requests.

The API runs actions through the screens' choke point: a guarded use makes an approval
request (202) and changes nothing; an unguarded one runs at once. A second permitted staff
member approves through the API and the change runs once; the maker, a role without the
permission, an expired, rejected or withdrawn request, a forged id and a second approval are
refused with nothing executed; bad input gets a clear message and writes nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from models import AdminUser, AuditLog, User, Wallet, WalletTransaction
from models.approvals import ApprovalRequest
from models.base import utcnow
from tests import rows, staff
from tests.ledger.conftest import Ledger, make_ledger

REASON = "Customer escalation approved by phone"
BIG = {"direction": "credit", "amount": "900.00", "reason": REASON}
"""Above the 500.00 USD threshold for one person."""
SMALL = {"direction": "credit", "amount": "12.50", "reason": "Goodwill for an outage"}


@dataclass
class Caller:
    account: staff.Account
    headers: dict[str, str]


@pytest.fixture
async def sign_in(client: httpx.AsyncClient, db: AsyncSession) -> Any:
    """A staff member of `role` (a default role's name, or permissions for a new role),
    signed in to the API with a bearer token."""

    async def signed_in(role: str | list[str] = "superadmin") -> Caller:
        if isinstance(role, list):
            made = await rows.insert(db, "roles", rows.role_row(permissions=role))
            await db.commit()
            role = made["name"]
        account = await staff.make_staff(db, role)
        answer = await client.post(
            "/api/v1/admin/auth/login", json={"email": account.email, "password": staff.PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        return Caller(account, {"Authorization": f"Bearer {answer.json()['access_token']}"})

    return signed_in


@pytest.fixture
async def maker(sign_in: Any) -> Caller:
    return await sign_in()


@pytest.fixture
async def checker(sign_in: Any) -> Caller:
    return await sign_in()


@pytest.fixture
async def ledger(db: AsyncSession) -> Ledger:
    """A wallet holding 100.00 USD."""
    return await make_ledger(db)


async def take(
    client: httpx.AsyncClient,
    caller: Caller,
    table: str,
    action: str,
    ids: list[Any],
    params: dict[str, Any] | None = None,
    **body: Any,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/admin/{table}/actions/{action}",
        json={"ids": [str(pk) for pk in ids], "params": params or {}, **body},
        headers=caller.headers,
    )


async def decide(
    client: httpx.AsyncClient, caller: Caller, approval_id: Any, verb: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/admin/approvals/{approval_id}/{verb}", json=body, headers=caller.headers
    )


async def asked_for(
    client: httpx.AsyncClient, caller: Caller, ledger: Ledger, params: dict[str, Any] = BIG
) -> dict[str, Any]:
    """A guarded adjustment asked through the API: the approval request it made."""
    answer = await take(client, caller, "wallets", "adjust", [ledger.wallet_id], params)
    assert answer.status_code == 202, answer.text
    approval: dict[str, Any] = answer.json()["approval_request"]
    return approval


async def balance(db: AsyncSession, ledger: Ledger) -> Decimal:
    await db.commit()
    return Decimal(await db.scalar(sa.select(Wallet.balance).where(Wallet.id == ledger.wallet_id)))


async def adjustments(db: AsyncSession, ledger: Ledger) -> int:
    await db.commit()
    return int(
        await db.scalar(
            sa.select(sa.func.count()).where(
                WalletTransaction.wallet_id == ledger.wallet_id,
                WalletTransaction.type == "adjustment",
            )
        )
    )


async def entries(db: AsyncSession, action: str) -> list[AuditLog]:
    await db.commit()
    stmt = sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.sequence)
    return list(await db.scalars(stmt))


async def status_of(db: AsyncSession, approval_id: Any) -> str:
    await db.commit()
    found = await db.scalar(
        sa.select(ApprovalRequest.status).where(ApprovalRequest.id == uuid.UUID(approval_id))
    )
    return str(found)


async def test_an_action_below_the_threshold_runs_at_once(
    client: httpx.AsyncClient, db: AsyncSession, maker: Caller, ledger: Ledger
) -> None:
    answer = await take(client, maker, "wallets", "adjust", [ledger.wallet_id], SMALL)

    assert answer.status_code == 200, answer.text
    [reference] = answer.json()["made"]
    assert answer.json()["done"] is True
    assert await balance(db, ledger) == Decimal("112.50")
    [entry] = await entries(db, "action:adjust")
    assert entry.actor_id == maker.account.id
    assert entry.after["transaction"] == reference
    assert await db.scalar(sa.select(sa.func.count()).select_from(ApprovalRequest)) == 0


async def test_an_action_without_a_form_runs_and_the_same_key_moves_money_once(
    client: httpx.AsyncClient, db: AsyncSession, maker: Caller, ledger: Ledger
) -> None:
    await db.execute(sa.update(Wallet).where(Wallet.id == ledger.wallet_id).values(status="frozen"))
    await db.commit()

    unfrozen = await take(client, maker, "wallets", "unfreeze", [ledger.wallet_id])
    key = uuid.uuid4().hex
    first = await take(
        client, maker, "wallets", "adjust", [ledger.wallet_id], SMALL, idempotency_key=key
    )
    again = await take(
        client, maker, "wallets", "adjust", [ledger.wallet_id], SMALL, idempotency_key=key
    )

    assert unfrozen.status_code == 200, unfrozen.text
    assert unfrozen.json() == {"done": True, "made": []}
    assert first.status_code == 200, first.text
    assert again.status_code == 409
    assert again.json()["error"] == "already_done"
    assert f"already made {first.json()['made'][0]}" in again.json()["message"]
    assert await balance(db, ledger) == Decimal("112.50")


async def test_a_guarded_action_asks_and_a_second_person_approves_it_once(
    client: httpx.AsyncClient, db: AsyncSession, maker: Caller, checker: Caller, ledger: Ledger
) -> None:
    approval = await asked_for(client, maker, ledger)
    pending_balance = await balance(db, ledger)

    approved = await decide(client, checker, approval["id"], "approve", note="Checked the call")
    twice = await decide(client, checker, approval["id"], "approve")

    assert approval["status"] == "pending"
    assert approval["maker"] == maker.account.email
    assert "900.00 USD is above the 500.00 USD threshold" in approval["rule"]
    assert approval["preview"] == "balance 100.00 → 1,000.00 USD"
    assert approval["url"].endswith(f"/admin/approval-requests/details/{approval['id']}")
    assert pending_balance == Decimal("100.00")
    assert approved.status_code == 200, approved.text
    decided = approved.json()["approval_request"]
    assert (decided["status"], decided["checker"]) == ("executed", checker.account.email)
    assert decided["decision_reason"] == "Checked the call"
    [reference] = approved.json()["made"]
    assert twice.status_code == 409
    assert "it is executed" in twice.json()["message"]
    assert await balance(db, ledger) == Decimal("1000.00")
    assert await adjustments(db, ledger) == 1
    [entry] = await entries(db, "action:adjust")
    assert entry.actor_id == checker.account.id
    assert entry.after["transaction"] == reference
    assert entry.after["approval_request"] == approval["id"]
    assert entry.after["requested_by"] == maker.account.email
    [asked_entry] = await entries(db, "approval:request")
    assert asked_entry.actor_id == maker.account.id


@pytest.mark.parametrize(
    ("refusal", "status", "code", "message"),
    [
        ("maker", 403, "forbidden", "another staff member has to approve it"),
        ("role without approve", 403, "forbidden", "approval_requests:action:approve"),
        ("role without the change's permission", 403, "forbidden", "wallets:action:adjust"),
        ("expired", 409, "conflict", "expired before anyone approved it"),
        ("rejected", 409, "conflict", "it is rejected"),
        ("withdrawn", 409, "conflict", "it is withdrawn"),
        ("forged id", 404, "not_found", "no longer exist"),
    ],
)
async def test_nothing_runs_without_one_valid_approval_by_another_permitted_person(
    client: httpx.AsyncClient,
    db: AsyncSession,
    sign_in: Any,
    maker: Caller,
    checker: Caller,
    ledger: Ledger,
    refusal: str,
    status: int,
    code: str,
    message: str,
) -> None:
    approval = await asked_for(client, maker, ledger)
    approval_id = approval["id"]
    approver = checker
    if refusal == "maker":
        approver = maker
    elif refusal == "role without approve":
        approver = await sign_in("operations")
    elif refusal == "role without the change's permission":
        approver = await sign_in(["approval_requests:*", "wallets:view"])
    elif refusal == "expired":
        await db.execute(
            sa.update(ApprovalRequest).values(expires_at=utcnow() - timedelta(minutes=1))
        )
        await db.commit()
    elif refusal == "rejected":
        rejected = await decide(client, checker, approval_id, "reject", note="Not justified")
        assert rejected.status_code == 200, rejected.text
    elif refusal == "withdrawn":
        withdrawn = await decide(client, maker, approval_id, "withdraw")
        assert withdrawn.status_code == 200, withdrawn.text
    elif refusal == "forged id":
        approval_id = str(uuid.uuid4())

    answer = await decide(client, approver, approval_id, "approve")

    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == code
    assert message in answer.json()["message"]
    assert await balance(db, ledger) == Decimal("100.00")
    assert await adjustments(db, ledger) == 0
    assert await entries(db, "action:adjust") == []
    assert await status_of(db, approval["id"]) in ("pending", "rejected", "withdrawn")


async def test_enabling_a_staff_account_waits_for_a_permitted_second_person(
    client: httpx.AsyncClient, db: AsyncSession, sign_in: Any, maker: Caller, checker: Caller
) -> None:
    disabled = await rows.insert(db, "admin_users", await rows.admin_row(db, is_active=False))
    await db.commit()
    admin = await sign_in(["approval_requests:*", "admin_users:view"])

    without_reason = await take(client, maker, "admin_users", "enable", [disabled["id"]])
    asked = await take(client, maker, "admin_users", "enable", [disabled["id"]], {"reason": REASON})
    approval_id = asked.json()["approval_request"]["id"]
    by_admin = await decide(client, admin, approval_id, "approve")
    enabled_before = await db.scalar(
        sa.select(AdminUser.is_active).where(AdminUser.id == disabled["id"])
    )
    approved = await decide(client, checker, approval_id, "approve")

    assert without_reason.status_code == 422
    assert without_reason.json()["message"] == "Reason: This field is required."
    assert asked.status_code == 202, asked.text
    assert by_admin.status_code == 403
    assert "admin_users:action:enable" in by_admin.json()["message"]
    assert enabled_before is False
    assert approved.status_code == 200, approved.text
    await db.commit()
    assert await db.scalar(sa.select(AdminUser.is_active).where(AdminUser.id == disabled["id"]))


async def test_a_bulk_action_over_fifty_rows_asks_and_fifty_run_at_once(
    client: httpx.AsyncClient, db: AsyncSession, sign_in: Any, checker: Caller
) -> None:
    support = await sign_in("support")
    customers = [(await rows.insert(db, "users", rows.user_row()))["id"] for _ in range(51)]
    await db.commit()
    reason = {"reason": REASON}

    fifty = await take(client, support, "users", "suspend", customers[:50], reason)
    await db.execute(sa.update(User).values(status="active"))
    await db.commit()
    fifty_one = await take(client, support, "users", "suspend", customers, reason)
    suspended = await db.scalar(sa.select(sa.func.count()).where(User.status == "suspended"))

    assert fifty.status_code == 200, fifty.text
    assert fifty_one.status_code == 202, fifty_one.text
    assert "51 customers at once" in fifty_one.json()["approval_request"]["rule"]
    assert suspended == 0
    approved = await decide(client, checker, fifty_one.json()["approval_request"]["id"], "approve")
    assert approved.status_code == 200, approved.text
    await db.commit()
    assert await db.scalar(sa.select(sa.func.count()).where(User.status == "suspended")) == 51


async def test_each_staff_member_reads_the_requests_the_screen_shows_them(
    client: httpx.AsyncClient, db: AsyncSession, sign_in: Any, checker: Caller, ledger: Ledger
) -> None:
    asking, colleague, other = (
        await sign_in(["wallets:*", "approval_requests:view"]),
        await sign_in(["wallets:view", "approval_requests:view"]),
        await sign_in(["feature_flags:*", "approval_requests:view"]),
    )
    approval = await asked_for(client, asking, ledger)
    url = f"/api/v1/admin/approvals/{approval['id']}"

    own = await client.get("/api/v1/admin/approvals", headers=asking.headers)
    about_a_table_they_view = await client.get("/api/v1/admin/approvals", headers=colleague.headers)
    others = await client.get("/api/v1/admin/approvals", headers=other.headers)
    everything = await client.get(
        "/api/v1/admin/approvals", params={"status": "pending"}, headers=checker.headers
    )
    executed = await client.get(
        "/api/v1/admin/approvals", params={"status": "executed"}, headers=checker.headers
    )
    hidden = await client.get(url, headers=other.headers)
    shown = await client.get(url, headers=checker.headers)
    bad = await client.get("/api/v1/admin/approvals", params={"limit": "0"}, headers=other.headers)

    assert [a["id"] for a in own.json()["approval_requests"]] == [approval["id"]]
    listed = about_a_table_they_view.json()["approval_requests"]
    assert [a["id"] for a in listed] == [approval["id"]]
    assert others.json() == {"approval_requests": []}, "no wallets: no wallet requests"
    assert [a["id"] for a in everything.json()["approval_requests"]] == [approval["id"]]
    assert executed.json() == {"approval_requests": []}
    assert hidden.status_code == 404
    assert shown.json() == approval
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "bad_query",
        "message": "'limit': Input should be greater than or equal to 1.",
    }


@pytest.mark.parametrize(
    ("table", "action", "ids", "params", "status", "code", "message"),
    [
        ("wallets", "adjust", "wallet", {**SMALL, "amount": "lots"}, 422, "invalid", "Amount:"),
        ("wallets", "adjust", "wallet", {**BIG, "reason": ""}, 422, "invalid", "Reason:"),
        ("wallets", "adjust", "wallet", {**SMALL, "colour": "red"}, 422, "invalid", "'colour'"),
        ("wallets", "adjust", "two", SMALL, 422, "invalid", "one wallet at a time"),
        ("wallets", "unfreeze", "frozen", {"reason": "x"}, 422, "invalid", "takes no parameters"),
        ("wallets", "unfreeze", "wallet", {}, 409, "conflict", "it is active"),
        ("wallets", "adjust", "unknown", SMALL, 404, "not_found", "no longer exist"),
        ("wallets", "launder", "wallet", SMALL, 404, "not_found", "no action 'launder'"),
        ("vaults", "adjust", "wallet", SMALL, 404, "not_found", "no table 'vaults'"),
    ],
)
async def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(
    client: httpx.AsyncClient,
    db: AsyncSession,
    maker: Caller,
    ledger: Ledger,
    table: str,
    action: str,
    ids: str,
    params: dict[str, Any],
    status: int,
    code: str,
    message: str,
) -> None:
    await db.execute(
        sa.update(Wallet).where(Wallet.id == ledger.shop_wallet_id).values(status="frozen")
    )
    await db.commit()
    chosen = {
        "wallet": [ledger.wallet_id],
        "two": [ledger.wallet_id, ledger.shop_wallet_id],
        "frozen": [ledger.shop_wallet_id],
        "unknown": [uuid.uuid4()],
    }[ids]

    answer = await take(client, maker, table, action, chosen, params)

    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == code
    assert message in answer.json()["message"]
    assert await balance(db, ledger) == Decimal("100.00")
    assert await entries(db, "action:adjust") == []
    assert await db.scalar(sa.select(sa.func.count()).select_from(ApprovalRequest)) == 0


async def test_a_role_without_the_permission_or_a_malformed_body_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, sign_in: Any, maker: Caller, ledger: Ledger
) -> None:
    support = await sign_in("support")
    approval = await asked_for(client, maker, ledger)

    forbidden = await take(client, support, "wallets", "adjust", [ledger.wallet_id], SMALL)
    not_json = await client.post(
        "/api/v1/admin/wallets/actions/adjust", content=b"{", headers=maker.headers
    )
    nested = await take(client, maker, "wallets", "adjust", [ledger.wallet_id], {"amount": {}})
    short_note = await decide(client, support, approval["id"], "reject", note="no")
    no_note = await decide(client, maker, approval["id"], "reject")

    assert forbidden.status_code == 403
    assert forbidden.json() == {
        "error": "forbidden",
        "message": "Your role may not use Adjust balance on wallets: it needs "
        "wallets:action:adjust.",
    }
    assert (not_json.status_code, not_json.json()["error"]) == (400, "parse_error")
    assert (nested.status_code, nested.json()["error"]) == (400, "invalid_request")
    assert short_note.status_code == 403
    assert no_note.status_code == 400
    assert no_note.json()["message"] == "'note' is required."
    assert await balance(db, ledger) == Decimal("100.00")
    assert await status_of(db, approval["id"]) == "pending"


async def test_a_rejection_needs_a_reason_and_tells_the_maker(
    client: httpx.AsyncClient, db: AsyncSession, maker: Caller, checker: Caller, ledger: Ledger
) -> None:
    approval = await asked_for(client, maker, ledger)

    too_short = await decide(client, checker, approval["id"], "reject", note="no")
    rejected = await decide(client, checker, approval["id"], "reject", note="Not justified")
    withdrawn = await decide(client, maker, approval["id"], "withdraw")

    assert too_short.status_code == 422
    assert too_short.json()["message"] == "Reason: Field must be between 5 and 500 characters long."
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["approval_request"]["status"] == "rejected"
    assert rejected.json()["approval_request"]["decision_reason"] == "Not justified"
    assert withdrawn.status_code == 409
    assert await balance(db, ledger) == Decimal("100.00")


async def test_only_the_maker_withdraws(
    client: httpx.AsyncClient, db: AsyncSession, sign_in: Any, maker: Caller, ledger: Ledger
) -> None:
    other = await sign_in()
    approval = await asked_for(client, maker, ledger)

    by_other = await decide(client, other, approval["id"], "withdraw")
    by_maker = await decide(client, maker, approval["id"], "withdraw")

    assert by_other.status_code == 403
    assert "Only the staff member who asked" in by_other.json()["message"]
    assert by_maker.status_code == 200, by_maker.text
    assert by_maker.json()["approval_request"]["status"] == "withdrawn"
    assert await status_of(db, approval["id"]) == "withdrawn"


async def test_through_the_admin_session_a_change_needs_the_csrf_token(
    client: httpx.AsyncClient, db: AsyncSession, ledger: Ledger
) -> None:
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    body = {"ids": [str(ledger.wallet_id)], "params": SMALL}

    without = await client.post("/api/v1/admin/wallets/actions/adjust", json=body)
    forged = await client.post(
        "/api/v1/admin/wallets/actions/adjust", json=body, headers={"X-CSRF-Token": "nope"}
    )
    written_before = await balance(db, ledger)
    token = await staff.csrf_token(client)
    with_token = await client.post(
        "/api/v1/admin/wallets/actions/adjust", json=body, headers={"X-CSRF-Token": token}
    )

    assert (without.status_code, without.json()["error"]) == (403, "csrf_failed")
    assert (forged.status_code, forged.json()["error"]) == (403, "csrf_failed")
    assert written_before == Decimal("100.00")
    assert with_token.status_code == 200, with_token.text
    assert await balance(db, ledger) == Decimal("112.50")
    [entry] = await entries(db, "action:adjust")
    assert entry.actor_id == account.id


async def test_concurrent_approvals_through_the_api_move_money_once(
    backend: str,
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    maker: Caller,
    checker: Caller,
    ledger: Ledger,
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing to race")
    approval = await asked_for(client, maker, ledger)

    answers = await asyncio.gather(
        *(decide(client, checker, approval["id"], "approve") for _ in range(20))
    )

    assert sorted(a.status_code for a in answers) == [200] + [409] * 19
    assert await balance(db, ledger) == Decimal("1000.00")
    assert await adjustments(db, ledger) == 1
