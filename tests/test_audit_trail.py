"""Who changed what: one entry per change, in the same transaction, chained and verifiable."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from audit import trail
from audit.verify import verify_chain
from cli.main import cli
from core.database import Database
from core.settings import Settings
from models import AIModel, AuditLog, Merchant, RuntimeSetting
from models.base import utcnow
from tests import rows, staff
from tests.admin_views.test_four_eyes_edits import approved
from tests.databases import TEST_SECRET_KEY

MODEL_FORM = {
    "name": "copy-writer",
    "provider": "anthropic",
    "version": "2026-11",
    "purpose": "copywriting",
    "status": "testing",
    "config": '{"temperature": 0.7}',
    "metrics": "{}",
}
MERCHANT_FORM = {
    "name": "Corner Bakery",
    "contact_email": "hello@corner-bakery.example.com",
    "status": "pending",
    "category": "dining",
    "cashback_rate": "1.50",
    "address": '{"city": "Austin"}',
}


@pytest.fixture
async def superadmin(client: httpx.AsyncClient, db: AsyncSession) -> staff.Account:
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


async def test_create_update_delete_each_write_one_entry_with_the_changed_fields(
    client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account
) -> None:
    token = {"csrf_token": await staff.csrf_token(client)}

    created = await client.post("/admin/ai-models/create", data=MODEL_FORM | token)
    model_id = await db.scalar(sa.select(AIModel.id))
    edited = await client.post(
        f"/admin/ai-models/edit/{model_id}",
        data=MODEL_FORM | token | {"status": "active", "config": '{"temperature": 0.2}'},
    )
    deleted = await client.request(
        "DELETE",
        f"/admin/ai-models/delete?pks={model_id}",
        headers={"X-CSRF-Token": token["csrf_token"]},
    )

    assert (created.status_code, edited.status_code, deleted.status_code) == (302, 302, 200)
    create, update, delete = [
        e for e in await staff.audit_entries(db) if e.entity_type == "ai_models"
    ]
    assert (create.action, update.action, delete.action) == ("create", "update", "delete")
    assert {e.entity_id for e in (create, update, delete)} == {str(model_id)}
    assert create.before is None
    assert create.after["name"] == "copy-writer"
    assert create.after["config"] == {"temperature": 0.7}
    assert update.before == {"status": "testing", "config": {"temperature": 0.7}}
    assert update.after == {"status": "active", "config": {"temperature": 0.2}}
    assert delete.before["name"] == "copy-writer"
    assert delete.after is None
    for entry, response in ((create, created), (update, edited), (delete, deleted)):
        assert entry.actor_id == superadmin.id
        assert entry.actor_email == superadmin.email
        assert entry.ip_address == "127.0.0.1"
        assert entry.user_agent.startswith("python-httpx/")
        assert entry.request_id == response.headers["x-request-id"]


async def test_saving_without_changes_writes_no_entry(
    client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account
) -> None:
    token = {"csrf_token": await staff.csrf_token(client)}
    await client.post("/admin/merchants/create", data=MERCHANT_FORM | token)
    merchant_id = await db.scalar(sa.select(Merchant.id))
    entries = len(await staff.audit_entries(db))

    await client.post(f"/admin/merchants/edit/{merchant_id}", data=MERCHANT_FORM | token)

    assert len(await staff.audit_entries(db)) == entries


async def test_an_action_is_audited_with_its_diff(
    client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account
) -> None:
    locked_until = utcnow()
    locked = await staff.make_staff(db, "support", locked_until=locked_until, lockout_count=3)

    await client.post(
        "/admin/admin-users/action/reset-lockout",
        data={"pks": str(locked.id), "csrf_token": await staff.csrf_token(client)},
    )

    [entry] = await staff.audit_entries(db, "action:reset-lockout")
    assert entry.entity_type == "admin_users"
    assert entry.entity_id == str(locked.id)
    assert entry.before == {"locked_until": locked_until.isoformat(), "lockout_count": 3}
    assert entry.after == {"locked_until": None, "lockout_count": 0}


async def test_secrets_are_masked_in_the_trail_and_on_screen(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account
) -> None:
    token = {"csrf_token": await staff.csrf_token(client)}
    secret = await rows.insert(
        db,
        "settings",
        rows.setting_row(key="payments.webhook_secret", value="whsec_live_123", is_secret=True),
    )
    await db.commit()

    created = await client.post(
        "/admin/admin-users/create",
        data=token
        | {
            "email": "new.agent@example.com",
            "full_name": "New Agent",
            "role": str(await rows.role_id(db, "support")),
            "is_active": "y",
            "new_password": "a long enough passphrase",
            "change_reason": "New hire on the support desk",
        },
    )
    await approved(app, db, created.headers["location"])  # a role is given with four eyes
    edit_form = await client.get(f"/admin/settings/edit/{secret['id']}")
    details = await client.get(f"/admin/settings/details/{secret['id']}")
    exported = await client.get("/admin/settings/export/csv")
    await client.post(
        f"/admin/settings/edit/{secret['id']}",
        data=token
        | {
            "key": "payments.webhook_secret",
            "value": '"whsec_live_456"',
            "description": "",
            "is_secret": "y",
        },
    )
    await client.post(
        f"/admin/settings/edit/{secret['id']}",
        data=token
        | {
            "key": "payments.webhook_secret",
            "value": "",
            "description": "rotated",
            "is_secret": "y",
        },
    )

    assert created.status_code == 303
    account_entry = next(
        e for e in await staff.audit_entries(db, "create") if e.entity_type == "admin_users"
    )
    assert account_entry.after["password_hash"] == trail.MASK
    assert account_entry.after["totp_secret"] == trail.MASK
    for page in (edit_form, details, exported):
        assert page.status_code == 200
        assert "whsec_live_123" not in page.text
    updates = [e for e in await staff.audit_entries(db, "update") if e.entity_type == "settings"]
    assert "whsec_live" not in str([(e.before, e.after) for e in updates])
    await db.rollback()
    assert (
        await db.scalar(sa.select(RuntimeSetting.value).where(RuntimeSetting.id == secret["id"]))
        == "whsec_live_456"
    )


async def test_a_change_that_rolls_back_leaves_no_entry(
    client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account
) -> None:
    await rows.insert(
        db, "merchants", rows.merchant_row(contact_email=MERCHANT_FORM["contact_email"])
    )
    await db.commit()
    entries = len(await staff.audit_entries(db))

    refused = await client.post(
        "/admin/merchants/create",
        data=MERCHANT_FORM | {"csrf_token": await staff.csrf_token(client)},
    )

    assert refused.status_code == 400
    assert len(await staff.audit_entries(db)) == entries
    assert await db.scalar(sa.select(sa.func.count()).select_from(Merchant)) == 1


async def test_concurrent_writers_keep_one_chain(clean_database: Database) -> None:
    async def write(n: int) -> None:
        async with clean_database.session() as db, db.begin():
            await trail.append(db, trail.SYSTEM, trail.Entry("test.concurrent", "settings", str(n)))

    await asyncio.gather(*(write(n) for n in range(20)))

    async with clean_database.session() as db:
        report = await verify_chain(db)
        sequences = list(await db.scalars(sa.select(AuditLog.sequence).order_by(AuditLog.sequence)))
    assert report.intact
    assert sequences == list(range(1, 21))


TAMPERING = {
    "edited": ["UPDATE audit_logs SET actor_email = 'someone.else@example.com' WHERE sequence = 3"],
    "deleted": ["DELETE FROM audit_logs WHERE sequence = 3"],
    "reordered": [
        "UPDATE audit_logs SET sequence = sequence + 1000 WHERE sequence IN (3, 4)",
        "UPDATE audit_logs SET sequence = 4 WHERE sequence = 1003",
        "UPDATE audit_logs SET sequence = 3 WHERE sequence = 1004",
    ],
}


def verify(settings: Settings) -> tuple[int, str]:
    env = {"DATABASE_URL": settings.database_url, "SECRET_KEY": str(TEST_SECRET_KEY)}
    result = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    return result.exit_code, result.output


async def tamper(database: Database, statements: list[str]) -> None:
    async with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # What a superuser with the trigger switched off could do; the chain still tells.
            await connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for statement in statements:
            await connection.exec_driver_sql(statement)


@pytest.mark.parametrize("tampering", list(TAMPERING))
async def test_audit_verify_names_the_first_broken_entry(
    clean_database: Database,
    settings: Settings,
    tampering: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    async with clean_database.session() as db, db.begin():
        for n in range(6):
            await trail.append(db, trail.SYSTEM, trail.Entry("test.entry", "merchants", str(n)))
    intact = await asyncio.to_thread(verify, settings)

    await tamper(clean_database, TAMPERING[tampering])
    broken = await asyncio.to_thread(verify, settings)

    assert intact == (0, "audit trail intact: 6 entries verified\n")
    assert broken[0] == 1
    assert broken[1].startswith("error: audit trail broken at entry #3: ")


async def test_postgresql_refuses_to_edit_or_delete_the_trail(
    clean_database: Database, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's; SQLite relies on the chain")
    async with clean_database.session() as db, db.begin():
        await trail.append(db, trail.SYSTEM, trail.Entry("test.entry", "merchants", "1"))

    for statement in ("UPDATE audit_logs SET action = 'x'", "DELETE FROM audit_logs"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with clean_database.engine.begin() as connection:
                await connection.exec_driver_sql(statement)


async def test_the_audit_screen_cannot_create_edit_or_delete(
    client: httpx.AsyncClient, db: AsyncSession, superadmin: staff.Account
) -> None:
    async with db.begin():
        entry = await trail.append(db, trail.SYSTEM, trail.Entry("test.entry", "merchants", "1"))
    token = await staff.csrf_token(client)

    attempts = [
        await client.get("/admin/audit-logs/create"),
        await client.post(
            f"/admin/audit-logs/edit/{entry.id}", data={"csrf_token": token, "action": "x"}
        ),
        await client.request(
            "DELETE", f"/admin/audit-logs/delete?pks={entry.id}", headers={"X-CSRF-Token": token}
        ),
    ]

    assert [a.status_code for a in attempts] == [403, 403, 403]
    assert (await client.get(f"/admin/audit-logs/details/{entry.id}")).status_code == 200
