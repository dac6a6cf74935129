"""Every action: its effect on one row (detail page) and on a selection (list), its audit
entry, the refusal when a row is in the wrong state (and then nothing changes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AICampaign,
    FeatureFlag,
    Merchant,
    SupportTicket,
    User,
    Wallet,
)
from models.base import utcnow
from tests import staff
from tests.admin_views.screens import act, audit_for
from tests.rows import insert, ticket_row


async def rows(db: AsyncSession, model: type[Any], *where: Any, n: int = 2) -> list[Any]:
    await db.rollback()
    return list(await db.scalars(sa.select(model).where(*where).order_by(model.id).limit(n)))


async def reload(db: AsyncSession, model: type[Any], ids: list[Any]) -> list[Any]:
    await db.rollback()
    return list(
        await db.scalars(
            sa.select(model)
            .where(model.id.in_(ids))
            .order_by(model.id)
            .execution_options(populate_existing=True)
        )
    )


async def test_users_suspend_reactivate_deactivate(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    users = await rows(db, User, User.status == "active")
    ids = [u.id for u in users]

    suspended = await act(client, "users", "suspend", ids, reason="Chargeback fraud")
    assert suspended.status_code == 303
    assert [u.status for u in await reload(db, User, ids)] == ["suspended", "suspended"]
    again = await act(client, "users", "suspend", ids[:1], reason="Chargeback fraud")
    assert again.status_code == 303
    assert [u.status for u in await reload(db, User, ids)] == ["suspended", "suspended"]
    await act(client, "users", "reactivate", ids)
    assert [u.status for u in await reload(db, User, ids)] == ["active", "active"]
    await act(client, "users", "deactivate", ids[:1], reason="Asked to close the account")
    [gone, kept] = await reload(db, User, ids)

    assert (gone.status, kept.status) == ("deactivated", "active")
    assert gone.deactivated_at is not None
    [entry] = await audit_for(db, "action:suspend", ids[0])
    assert entry.before == {"status": "active"}
    assert entry.after == {"status": "suspended", "reason": "Chargeback fraud"}
    assert entry.actor_id == boss.id
    assert len(await audit_for(db, "action:deactivate", ids[0])) == 1


async def test_a_batch_with_one_row_in_the_wrong_state_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    active, suspended = await rows(db, User, User.status == "active")
    await db.execute(sa.update(User).where(User.id == suspended.id).values(status="suspended"))
    await db.commit()

    response = await act(client, "users", "suspend", [active.id, suspended.id], reason="Fraud ring")
    page = await client.get(response.headers["location"])

    assert [u.status for u in await reload(db, User, [active.id])] == ["active"]
    assert "nothing was changed" in page.text
    assert await audit_for(db, "action:suspend", active.id) == []


async def test_merchants_approve_reject_with_a_reason_and_suspend(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    pending = [
        (
            await db.execute(
                sa.insert(Merchant)
                .values(
                    name=f"Pending {n}",
                    contact_email=f"pending{n}@example.com",
                    status="pending",
                    category="retail",
                    cashback_rate=1,
                    tags=[],
                    address={},
                )
                .returning(Merchant.id)
            )
        ).scalar_one()
        for n in range(3)
    ]
    await db.commit()

    form = await act(client, "merchants", "reject", pending[:1])
    too_short = await act(client, "merchants", "reject", pending[:1], reason="no")
    reason = "Registration number does not match."
    rejected = await act(client, "merchants", "reject", pending[:1], reason=reason)
    approved = await act(client, "merchants", "approve", pending[1:])
    await act(client, "merchants", "approve", pending[2:])
    suspended = await act(client, "merchants", "suspend", pending[2:], reason="Too many disputes")

    assert form.status_code == 200
    assert 'name="reason"' in form.text
    assert too_short.status_code == 400
    assert (rejected.status_code, approved.status_code, suspended.status_code) == (303, 303, 303)
    first, second, third = await reload(db, Merchant, pending)
    by_id = {m.id: m for m in (first, second, third)}
    assert by_id[pending[0]].status == "rejected"
    assert by_id[pending[0]].rejection_reason == reason
    assert by_id[pending[1]].status == "active"
    assert by_id[pending[1]].approved_at is not None
    assert by_id[pending[2]].status == "suspended"
    [entry] = await audit_for(db, "action:reject", pending[0])
    assert entry.after["rejection_reason"] == reason


async def test_tickets_assign_set_status_resolve_close(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    agent = await staff.make_staff(db, "support")
    [customer] = await rows(db, User, n=1)
    ids = [(await insert(db, "support_tickets", ticket_row(customer.id)))["id"] for _ in range(4)]
    await db.commit()

    await act(client, "support-tickets", "assign-to-me", ids[:2])
    chooser = await act(client, "support-tickets", "assign", ids[2:3])
    await act(client, "support-tickets", "assign", ids[2:3], agent=str(agent.id))
    await act(client, "support-tickets", "set-status", ids[3:], status="pending")
    await act(client, "support-tickets", "resolve", ids[:1])
    await act(client, "support-tickets", "close", ids[1:2])
    by_id = {t.id: t for t in await reload(db, SupportTicket, ids)}

    assert agent.email in chooser.text
    assert by_id[ids[0]].assignee_id == boss.id
    assert by_id[ids[2]].assignee_id == agent.id
    assert by_id[ids[3]].status == "pending"
    assert by_id[ids[0]].status == "resolved"
    assert by_id[ids[0]].resolved_at is not None
    assert by_id[ids[1]].status == "closed"
    assert by_id[ids[1]].closed_at is not None
    assert len(await audit_for(db, "action:assign", ids[2])) == 1


async def test_flags_enable_and_the_kill_switch(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    # One a single person may change (turning any flag off never waits for a second).
    [flag] = await rows(
        db,
        FeatureFlag,
        FeatureFlag.enabled.is_(True),
        FeatureFlag.flag_type != "permission",
        FeatureFlag.rollout_percentage <= 50,
        n=1,
    )
    revision = flag.revision

    await act(client, "feature-flags", "disable", [flag.id])
    [off] = await reload(db, FeatureFlag, [flag.id])
    assert (off.enabled, off.revision) == (False, revision + 1)
    await act(client, "feature-flags", "enable", [flag.id])
    [on] = await reload(db, FeatureFlag, [flag.id])

    assert (on.enabled, on.revision) == (True, revision + 2)
    [entry] = await audit_for(db, "action:disable", flag.id)
    assert entry.before == {"enabled": True, "revision": revision}


async def test_campaigns_launch_pause_resume_complete(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    now = utcnow()
    later = (
        await db.execute(
            sa.insert(AICampaign)
            .values(
                name="Later",
                status="draft",
                channel="push",
                audience={},
                budget=10,
                spend=0,
                currency="USD",
                starts_at=now + timedelta(days=3),
                ends_at=now + timedelta(days=9),
            )
            .returning(AICampaign.id)
        )
    ).scalar_one()
    today = (
        await db.execute(
            sa.insert(AICampaign)
            .values(
                name="Today",
                status="draft",
                channel="email",
                audience={},
                budget=10,
                spend=0,
                currency="USD",
            )
            .returning(AICampaign.id)
        )
    ).scalar_one()
    await db.commit()

    await act(client, "ai-campaigns", "launch", [later, today])
    status = {c.id: c.status for c in await reload(db, AICampaign, [later, today])}
    assert status == {later: "scheduled", today: "active"}
    await act(client, "ai-campaigns", "pause", [today])
    refused = await act(client, "ai-campaigns", "pause", [today])
    assert "it is paused" in (await client.get(refused.headers["location"])).text
    assert (await reload(db, AICampaign, [today]))[0].status == "paused"
    await act(client, "ai-campaigns", "resume", [today])
    assert (await reload(db, AICampaign, [today]))[0].status == "active"
    await act(client, "ai-campaigns", "complete", [today])
    [done] = await reload(db, AICampaign, [today])

    assert done.status == "completed"
    assert done.ends_at is not None
    assert [e.action for e in await audit_for(db, "action:launch", today)] == ["action:launch"]


async def test_wallets_freeze_and_unfreeze(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    wallets = await rows(db, Wallet, Wallet.status == "active")
    ids = [w.id for w in wallets]

    await act(client, "wallets", "freeze", ids, reason="Card reported stolen")
    assert {w.status for w in await reload(db, Wallet, ids)} == {"frozen"}
    await act(client, "wallets", "unfreeze", ids[:1])
    statuses = {w.id: w.status for w in await reload(db, Wallet, ids)}

    assert statuses == {ids[0]: "active", ids[1]: "frozen"}
    assert len(await audit_for(db, "action:freeze", ids[1])) == 1


async def test_an_action_without_a_selection_asks_for_one(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    response = await act(client, "users", "suspend", [], reason="Chargeback fraud")
    page = await client.get(response.headers["location"])

    assert response.status_code == 303
    assert "Select at least one row first." in page.text
